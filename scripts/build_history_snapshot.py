"""Rebuild the bundled member lists of ``etl_service/snapshot/constituents`` from their sources.

Run from the repository root with the shared data beside it:
``python scripts/build_history_snapshot.py ../shared/data``. It copies the dated CSV scrapes
(gzip, unchanged bytes), including the 2013-2018 files of the constituent financials
scrapes (their Symbol/Name/Sector columns list the members of the day), writes one member
list per recorded Wikipedia page of the test fixtures (the page's constituents table in
the full CSV layout), and copies the independent membership record (a cross-check, and
the seed for dates the lists only bracket). See the folder's README for sources.
"""

from __future__ import annotations

import gzip
import sys
from pathlib import Path

from etl_service.src.adapters.member_lists import write_member_csv
from etl_service.src.adapters.wikipedia import parse_page, read_page_file

ROOT = Path(__file__).resolve().parents[1]
TARGET = ROOT / "etl_service" / "snapshot" / "constituents"
PAGES = ROOT / "etl_service" / "tests" / "fixtures" / "wikipedia"


def page_list_name(page_file: Path, revision_date: str) -> str:
    """``wikipedia_<revision date>_rev<id>.csv.gz`` for a fixture page."""
    revision = page_file.name.split("_rev")[1].split(".")[0]
    return f"wikipedia_{revision_date}_rev{revision}.csv.gz"


def build(shared: Path) -> None:
    lists = TARGET / "lists"
    lists.mkdir(parents=True, exist_ok=True)
    for folder in ("datasets_s-and-p-500-companies", "riazarbi_sp500-scraper"):
        for csv_file in sorted((shared / "constituents" / folder).glob("*.csv")):
            if csv_file.name.startswith("sector-counts"):
                continue
            data = gzip.compress(csv_file.read_bytes(), mtime=0)
            (lists / f"{csv_file.name}.gz").write_bytes(data)
    # Until 2018 these files list the constituents of the day; from 2024 their Sector column
    # holds the sub-industry, and other lists cover those years.
    financials = shared / "constituents" / "datasets_s-and-p-500-companies-financials"
    for csv_file in sorted(financials.glob("constituents-financials_201*.csv")):
        data = gzip.compress(csv_file.read_bytes(), mtime=0)
        (lists / f"{csv_file.name}.gz").write_bytes(data)
    for page_file in sorted(PAGES.glob("sp500_*.html.gz")):
        page = parse_page(read_page_file(page_file), page_file.name)
        assert page.revision_time is not None
        name = page_list_name(page_file, page.revision_time.date().isoformat())
        (lists / name).write_bytes(write_member_csv(page.companies.table))
    spans = shared / "constituents" / "fja05680_sp500" / "sp500_ticker_start_end.csv"
    data = gzip.compress(spans.read_bytes(), mtime=0)
    (TARGET / "sp500_ticker_start_end.csv.gz").write_bytes(data)


if __name__ == "__main__":
    build(Path(sys.argv[1]))
