"""Every page layout the parser supports, from the 2012-2019 desktop pages to 2024."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest

from etl_service.src.adapters.wikipedia import ParsedPage, parse_page, read_page_file
from etl_service.src.models.schemas import COMPANIES, INDEX_CHANGES, arrow_schema
from etl_service.tests.wikipedia.conftest import (
    DESKTOP_PAGE,
    FIXTURES,
    OLD_CONSTITUENTS_ONLY_PAGE,
    OLD_DESKTOP_PAGE,
)

pytestmark = pytest.mark.unit

REST_PAGE = FIXTURES / "sp500_2021-09-22_rev1045717786.html.gz"


@pytest.mark.parametrize(
    ("path", "companies", "changes", "changes_found"),
    [
        pytest.param(OLD_CONSTITUENTS_ONLY_PAGE, 6, 0, False, id="desktop-2013-constituents-only"),
        pytest.param(OLD_DESKTOP_PAGE, 7, 6, True, id="desktop-2017-td-headers"),
        pytest.param(REST_PAGE, 505, 281, True, id="rest-2021"),
        pytest.param(DESKTOP_PAGE, 503, 353, True, id="desktop-2024"),
    ],
)
def test_every_layout_gives_both_canonical_tables(
    path: Path, companies: int, changes: int, changes_found: bool
) -> None:
    page = parse_page(read_page_file(path), path.name)
    assert page.companies.table.schema == arrow_schema(COMPANIES)
    assert page.changes.table.schema == arrow_schema(INDEX_CHANGES)
    assert (page.companies.table.num_rows, page.changes.table.num_rows) == (companies, changes)
    assert page.changes_found is changes_found
    assert page.companies.rejected == page.changes.rejected == []


def _row(page: ParsedPage, ticker: str) -> dict[str, object]:
    rows: list[dict[str, object]] = page.companies.table.to_pylist()
    [row] = [r for r in rows if r["ticker"] == ticker]
    return row


def test_old_desktop_constituents_without_ids(old_desktop_page: ParsedPage) -> None:
    table = old_desktop_page.companies.table
    assert table.column("ticker").to_pylist() == [
        "MMM",
        "AOS",
        "ABT",
        "CDNS",
        "DWDP",
        "NCLH",
        "SBAC",
    ]
    # "SEC filings" is ignored, "Date first added[3][4]" loses its footnotes, no "Founded"
    assert _row(old_desktop_page, "MMM") == {
        "ticker": "MMM",
        "name": "3M Company",
        "cik": "0000066740",
        "sector": "Industrials",
        "sub_industry": "Industrial Conglomerates",
        "headquarters": "St. Paul, Minnesota",
        "hq_city": "St. Paul",
        "hq_region": "Minnesota",
        "date_added": None,
        "year_founded": None,
        "founded_raw": None,
        "aliases": None,
        "source_revision": None,
    }
    dwdp = _row(old_desktop_page, "DWDP")
    assert (dwdp["date_added"], dwdp["cik"], dwdp["sub_industry"]) == (
        date(2017, 9, 1),
        "0001666700",
        "Diversified Chemicals",
    )
    assert _row(old_desktop_page, "NCLH")["hq_region"] == "Florida"
    assert old_desktop_page.companies.warnings == []
    assert (old_desktop_page.revision, old_desktop_page.revision_time) == (None, None)


def test_old_changes_table_with_td_group_headers(old_desktop_page: ParsedPage) -> None:
    rows = old_desktop_page.changes.table.to_pylist()
    assert [(r["change_key"], r["added_name"], r["removed_name"]) for r in rows] == [
        ("2017-10-13|NCLH|LVLT", "Norwegian Cruise Line Holdings", "Level 3 Communications"),
        ("2017-09-18|CDNS|SPLS", "Cadence Design Systems", "Staples"),
        ("2017-09-01|DWDP|DOW", "DowDuPont", "Dow Chemical Company"),
        ("2017-09-01|SBAC|DD", "SBA Communications", "DuPont"),  # date from the rowspan
        ("2016-04-08|UA|", "Under Armour (Class C)", None),
        ("2015-12-15||CMCSK", None, "Comcast K Corp"),
    ]
    assert rows[0]["reason"] == "CenturyLink acquired LVLT."  # footnote [5] dropped
    assert rows[3]["reason"] == "The Dow Chemical Company acquired DuPont."
    assert old_desktop_page.changes.warnings == []


def test_page_without_changes_table_still_gives_its_companies(
    old_constituents_only_page: ParsedPage,
) -> None:
    page = old_constituents_only_page
    assert page.companies.table.column("ticker").to_pylist() == [
        "MMM",
        "ACE",
        "ABT",
        "ACN",
        "ADBE",
        "AMD",
    ]
    # the 2013 layout writes CIKs without leading zeros; they are padded to 10 digits
    assert page.companies.table.column("cik").to_pylist() == [
        "0000066740",
        "0000896159",
        "0000001800",
        "0001467373",
        "0000796343",
        "0000002488",
    ]
    ace = _row(page, "ACE")
    assert (ace["name"], ace["hq_city"], ace["date_added"]) == (
        "ACE Limited",
        "Zurich",
        date(2010, 7, 15),
    )
    assert page.changes.table.num_rows == 0
    assert page.changes_found is False
    assert page.changes.warnings == [
        "constructed_desktop_2013-01.html: no changes table found; index changes not read"
    ]
    assert page.companies.warnings == []
