"""B5: SEC companyfacts extraction throughput against a plain JSON parse of the same files.

The measured work is the offline financials path of the pipeline: ``BulkCompanyFacts`` reads
each ``CIK##########.json`` of a folder and ``extract_quarterly`` turns it into quarterly
reports. The baseline reads the same files and ``json.loads`` them, nothing else. Both run
once untimed first (warm page cache and imports), then interleaved.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

from bench.companyfacts import FILLER_CONCEPTS, write_folder
from bench.config import Profile
from bench.measure import Figure, Goal, Sample, timed
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


def run(profile: Profile, workdir: Path) -> Figure:
    """Measure B5 over about ``profile.b5_megabytes`` MB of generated companyfacts."""
    folder = workdir / "companyfacts"
    paths = write_folder(folder, profile.b5_megabytes)
    try:
        ciks = [p.name.removeprefix("CIK").removesuffix(".json") for p in paths]
        megabytes = sum(p.stat().st_size for p in paths) / 1e6
        rows = extract_all(folder, ciks)
        parse_all(paths)
        parse_s, extract_s = [], []
        for _ in range(profile.runs):
            parse_s.append(timed(lambda: parse_all(paths)))
            extract_s.append(timed(lambda: extract_all(folder, ciks)))
    finally:
        shutil.rmtree(folder, ignore_errors=True)
    measured = Sample(
        "BulkCompanyFacts + extract_quarterly", "MB/s", [megabytes / s for s in extract_s]
    )
    baseline = Sample("read + json.loads", "MB/s", [megabytes / s for s in parse_s])
    figure = Figure(
        id="B5",
        title="SEC companyfacts extraction",
        workload=(
            f"{len(paths)} companyfacts files, {megabytes:,.1f} MB, {rows:,} quarterly rows "
            "extracted"
        ),
        measured=measured,
        baseline=baseline,
        ratio=measured.median / baseline.median,
        ratio_means="extraction throughput / JSON parse throughput",
        goal=Goal(">=", 0.6),
        details={"files": len(paths), "megabytes": megabytes, "quarterly_rows": rows},
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
