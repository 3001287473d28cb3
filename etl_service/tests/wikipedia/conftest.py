"""Wikipedia fixtures: every recorded page is parsed once per test session."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest

from etl_service.src.adapters.wikipedia import ParsedPage, parse_page, read_page_file
from etl_service.src.transforms.membership import Snapshot

REPO = Path(__file__).resolve().parents[3]
FIXTURES = REPO / "etl_service" / "tests" / "fixtures" / "wikipedia"
DESKTOP_PAGE = (
    REPO / "etl_service" / "snapshot" / "wikipedia" / "sp500_2024-10-09_rev1250356709.html.gz"
)
REST_PAGES = sorted(FIXTURES.glob("sp500_*.html.gz"))
OLD_DESKTOP_PAGE = FIXTURES / "constructed_desktop_2017-10.html"
"""Constructed 2012-2019 desktop layout: no ids, ``<td>`` header rows in the changes table."""
OLD_CONSTITUENTS_ONLY_PAGE = FIXTURES / "constructed_desktop_2013-01.html"
"""Constructed older desktop layout with the constituents table only."""


def page_key(path: Path) -> str:
    """``2022-08-02a`` from ``sp500_2022-08-02a_rev1101821533.html.gz``."""
    return path.name.split("_")[1]


@pytest.fixture(scope="session")
def rest_pages() -> dict[str, ParsedPage]:
    """The ten REST API snapshots, parsed once, keyed by their date label."""
    return {page_key(p): parse_page(read_page_file(p), p.name) for p in REST_PAGES}


@pytest.fixture(scope="session")
def desktop_page() -> ParsedPage:
    """The 2024-10-09 desktop page (the bundled offline snapshot), parsed once."""
    return parse_page(read_page_file(DESKTOP_PAGE), DESKTOP_PAGE.name)


@pytest.fixture(scope="session")
def old_desktop_page() -> ParsedPage:
    """The constructed 2017 desktop page, parsed once."""
    return parse_page(read_page_file(OLD_DESKTOP_PAGE), OLD_DESKTOP_PAGE.name)


@pytest.fixture(scope="session")
def old_constituents_only_page() -> ParsedPage:
    """The constructed 2013 desktop page without a changes table, parsed once."""
    return parse_page(read_page_file(OLD_CONSTITUENTS_ONLY_PAGE), OLD_CONSTITUENTS_ONLY_PAGE.name)


def snapshot_of(page: ParsedPage) -> Snapshot:
    """A membership snapshot dated by the page's revision time."""
    assert page.revision_time is not None
    as_of: date = page.revision_time.date()
    return Snapshot.from_table(as_of, page.companies.table, page.source)
