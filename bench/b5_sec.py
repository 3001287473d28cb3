"""B5: SEC companyfacts extraction throughput against a plain JSON parse of the same files.

The measured work is the offline financials path of the pipeline: ``BulkCompanyFacts`` reads
each ``CIK##########.json`` of a folder and ``extract_quarterly`` turns it into quarterly
reports. The baseline reads the same files and ``json.loads`` them, nothing else. Both run
once untimed first (warm page cache and imports), then interleaved.
"""

from __future__ import annotations

import json
import shutil
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from bench.companyfacts import FILLER_CONCEPTS, write_folder
from bench.config import Profile
from bench.measure import Figure, Goal, Sample, timed
from bench.synthetic import SEED
from etl_service.src.adapters.sec.client import BulkCompanyFacts
from etl_service.src.adapters.sec.quarterly import extract_quarterly


def parse_all(paths: list[Path]) -> int:
    """The baseline: read and ``json.loads`` every file; the number of documents."""
    return sum(1 for p in paths if json.loads(p.read_bytes()))


def extract_all(folder: Path, ciks: list[str]) -> int:
    """The service's extraction of every CIK in the folder; the number of quarterly rows."""
    bulk = BulkCompanyFacts(folder)
    rows = 0
    for cik in ciks:
        body, origin = bulk.get(cik)
        rows += extract_quarterly(body, origin).table.num_rows
    return rows


@dataclass(frozen=True)
class FolderTimes:
    """A generated companyfacts folder's size and the seconds of each run of both sides."""

    files: int
    megabytes: float
    rows: int
    parse_s: list[float]
    work_s: list[float]


def time_folder(
    folder: Path, megabytes: float, runs: int, work: Callable[[Path, list[str]], int], seed: int
) -> FolderTimes:
    """Write about ``megabytes`` MB of companyfacts, then time ``work(folder, ciks)`` (the
    rows it gives) against read + ``json.loads`` of the same files: once untimed, then
    interleaved ``runs`` times. The folder is removed afterwards."""
    paths = write_folder(folder, megabytes, seed)
    try:
        ciks = [p.name.removeprefix("CIK").removesuffix(".json") for p in paths]
        size = sum(p.stat().st_size for p in paths) / 1e6
        rows = work(folder, ciks)
        parse_all(paths)
        parse_s, work_s = [], []
        for _ in range(runs):
            parse_s.append(timed(lambda: parse_all(paths)))
            work_s.append(timed(lambda: work(folder, ciks)))
    finally:
        shutil.rmtree(folder, ignore_errors=True)
    return FolderTimes(len(paths), size, rows, parse_s, work_s)


def run(profile: Profile, workdir: Path) -> Figure:
    """Measure B5 over about ``profile.b5_megabytes`` MB of generated companyfacts."""
    times = time_folder(
        workdir / "companyfacts", profile.b5_megabytes, profile.runs, extract_all, SEED
    )
    megabytes, rows, extract_s, parse_s = times.megabytes, times.rows, times.work_s, times.parse_s
    measured = Sample(
        "BulkCompanyFacts + extract_quarterly", "MB/s", [megabytes / s for s in extract_s]
    )
    baseline = Sample("read + json.loads", "MB/s", [megabytes / s for s in parse_s])
    figure = Figure(
        id="B5",
        title="SEC companyfacts extraction",
        workload=(
            f"{times.files} companyfacts files, {megabytes:,.1f} MB, {rows:,} quarterly rows "
            "extracted"
        ),
        measured=measured,
        baseline=baseline,
        ratio=measured.median / baseline.median,
        ratio_means="extraction throughput / JSON parse throughput",
        goal=Goal(">=", 0.6),
        details={"files": times.files, "megabytes": megabytes, "quarterly_rows": rows},
        notes=[
            f"Each file holds about {FILLER_CONCEPTS + 7} concepts and 25,000 facts like "
            "Apple's; the extractor reads the 7 revenue, net income, EPS and share-count "
            "concepts (about 1,400 facts a file): simdjson validates the whole document and "
            "only those concepts become Python objects."
        ],
    )
    if figure.met is False:
        figure.reason_unmet = (
            "Extraction validates each document with simdjson and builds Python objects only "
            "for the concepts it reads; what remains is the quarterly rules' per-fact work."
        )
    return figure
