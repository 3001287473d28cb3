"""B8: a full-universe financials rebuild from a bulk folder, against a plain JSON parse.

The measured call is what ``run --financials bulk:FOLDER`` does for its financials: the
``sec-bulk`` source's ``financials`` for every CIK of a folder of real-shaped
``CIK##########.json`` files (read, parsed, the quarterly rules, split events, one table).
The baseline reads the same files and ``json.loads`` them, nothing else. Both run once
untimed first (page cache, imports), then interleaved.
"""

from __future__ import annotations

import tempfile
from pathlib import Path

import httpx

from bench.b5_sec import time_folder
from bench.config import Profile
from bench.measure import Figure, Goal, Sample
from etl_service.settings import Settings
from etl_service.src.adapters.archive import RawArchive
from etl_service.src.adapters.registry import SourceContext
from etl_service.src.adapters.sec.source import SecBulkSource

FULL_UNIVERSE_FILES = 1_230
"""Present and former members with companyfacts: the issue's full universe (about 4 GB)."""


def rebuild(folder: Path, ciks: list[str]) -> int:
    """The sec-bulk source's financials for every CIK; the number of quarterly rows."""
    with tempfile.TemporaryDirectory(prefix="etl-b8-") as tmp, httpx.Client() as client:
        context = SourceContext(Settings(), client, RawArchive(str(Path(tmp) / "raw")))
        return int(SecBulkSource(context, folder).financials(ciks, {}).table.num_rows)


def run(profile: Profile, workdir: Path) -> Figure:
    """Measure B8 on about ``profile.b8_megabytes`` MB of generated companyfacts."""
    times = time_folder(workdir / "bulk", profile.b8_megabytes, profile.runs, rebuild, seed=8)
    megabytes, rows, paths_count = times.megabytes, times.rows, times.files
    rebuild_s, parse_s = times.work_s, times.parse_s
    measured = Sample("sec-bulk source, every CIK", "MB/s", [megabytes / s for s in rebuild_s])
    baseline = Sample("read + json.loads", "MB/s", [megabytes / s for s in parse_s])
    return Figure(
        id="B8",
        title="Full-universe financials rebuild from a bulk folder",
        workload=(
            f"{paths_count} real-shaped companyfacts files, {megabytes:,.1f} MB, "
            f"{rows:,} quarterly rows"
        ),
        measured=measured,
        baseline=baseline,
        ratio=measured.median / baseline.median,
        ratio_means="rebuild throughput / JSON parse throughput of the same bytes",
        goal=Goal(">=", 0.6),
        details={"files": paths_count, "megabytes": megabytes, "quarterly_rows": rows},
        notes=[
            f"The full universe is about {FULL_UNIVERSE_FILES:,} files (4 GB); both sides "
            "read file by file, so throughput does not depend on the folder's size.",
        ],
    )
