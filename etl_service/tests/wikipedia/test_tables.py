"""Locating tables and mapping headers on small pages; bad pages fail with a clear error."""

from __future__ import annotations

import re
from datetime import date

import pytest

from etl_service.errors import InputError, SchemaError
from etl_service.src.adapters.wikipedia import parse_page
from etl_service.tests.wikipedia.pages import (
    AOS,
    CHANGES_TABLE,
    CONSTITUENT_HEADERS,
    MMM,
    constituents_table,
    good_page,
    page,
)

pytestmark = pytest.mark.unit


def test_rowspan_dates_empty_sides_and_footnotes_in_changes() -> None:
    rows = parse_page(good_page(), "p.html").changes.table.to_pylist()
    assert [r["change_key"] for r in rows] == [
        "2021-09-20|MTCH|PRGO",
        "2021-09-20|BRO|NOV",
        "2021-06-04||HFC",
    ]
    assert rows[1]["change_date"] == date(2021, 9, 20)  # from the rowspan cell above
    assert rows[0]["reason"] == "Market cap change."
    assert (rows[2]["added_ticker"], rows[2]["added_name"], rows[2]["reason"]) == (None, None, None)


def test_tables_found_by_header_content_without_ids() -> None:
    legacy = tuple(
        h.replace("Symbol", "Ticker symbol").replace("Security", "Company")
        for h in CONSTITUENT_HEADERS
    )
    headers = (*legacy[:2], "SEC filings", *legacy[2:])
    rows = tuple((*r[:2], "reports", *r[2:]) for r in (MMM, AOS))
    other = (
        "<table class='wikitable'><tr><th>Year</th><th>Level</th></tr>"
        "<tr><td>1</td><td>2</td></tr></table>"
    )
    parsed = parse_page(
        page(
            other,
            constituents_table(rows, headers, None),
            CHANGES_TABLE.replace(' id="changes"', ""),
        ),
        "p.html",
    )
    assert parsed.companies.table.column("ticker").to_pylist() == ["MMM", "AOS"]
    assert parsed.companies.table.column("sector").to_pylist() == ["Industrials", "Industrials"]
    assert parsed.changes.table.num_rows == 3


def _as_td(table: str) -> str:
    """``table`` with every header cell written as a bold ``<td>``, as older pages do."""
    return re.sub(r"<th([^>]*)>(.*?)</th>", r"<td\1><b>\2</b></td>", table, flags=re.S)


def test_header_rows_made_of_td_cells_are_recognised() -> None:
    headers = (
        "Ticker Symbol",
        "Company",
        "GICS Sector",
        "GICS Sub Industry",
        "Headquarters",
        "Date first added[3]",
        "CIK",
    )
    constituents = _as_td(constituents_table(tuple(r[:7] for r in (MMM, AOS)), headers, None))
    changes = _as_td(CHANGES_TABLE.replace(' id="changes"', ""))
    assert "<th" not in constituents + changes
    parsed = parse_page(page(constituents, changes), "p.html")
    assert parsed.companies.table.column("ticker").to_pylist() == ["MMM", "AOS"]
    mmm = parsed.companies.table.to_pylist()[0]
    assert (mmm["headquarters"], mmm["date_added"], mmm["cik"]) == (
        "Saint Paul, Minnesota",
        date(1957, 3, 4),
        "0000066740",
    )
    assert parsed.changes.table.column("change_key").to_pylist() == [
        "2021-09-20|MTCH|PRGO",
        "2021-09-20|BRO|NOV",
        "2021-06-04||HFC",
    ]
    assert parsed.changes.table.column("added_name").to_pylist() == [
        "Match Group",
        "Brown & Brown",
        None,
    ]


def test_page_without_changes_table_gives_companies_and_a_warning() -> None:
    parsed = parse_page(page(constituents_table()), "p.html")
    assert parsed.companies.table.column("ticker").to_pylist() == ["MMM", "AOS"]
    assert parsed.changes_found is False
    assert parsed.changes.table.num_rows == 0
    assert parsed.changes.warnings == ["p.html: no changes table found; index changes not read"]


def test_changes_table_missing_a_column_is_still_a_schema_error() -> None:
    changes = CHANGES_TABLE.replace(' id="changes"', "").replace(">Reason<", ">Why<")
    with pytest.raises(SchemaError, match=r"changes table: missing required column\(s\) reason"):
        parse_page(page(constituents_table(), changes), "p.html")


def test_optional_founded_column_may_be_missing() -> None:
    table = constituents_table(tuple(r[:7] for r in (MMM,)), CONSTITUENT_HEADERS[:7])
    row = parse_page(page(table, CHANGES_TABLE), "p.html").companies.table.to_pylist()[0]
    assert (row["year_founded"], row["founded_raw"]) == (None, None)


def test_bad_rows_are_rejected_with_reasons() -> None:
    rows = (
        MMM,
        ("American Airlines Group", "reports", "Airlines", "", "", "", "", ""),
        ("AOS", "", "Industrials", "Building Products", "", "", "", ""),
        (*MMM[:6], "12x", "1902"),
    )
    parsed = parse_page(page(constituents_table(rows), CHANGES_TABLE), "p.html")
    assert parsed.companies.table.column("ticker").to_pylist() == ["MMM"]
    assert [(r.record_key, r.reason) for r in parsed.companies.rejected] == [
        ("American Airlines Group", "row 3: 'American Airlines Group' is not a ticker"),
        ("AOS", "row 4: AOS has no name"),
        ("MMM", "row 5: duplicate of ticker MMM (first on row 2)"),
    ]


def test_change_rows_without_a_date_or_any_side_are_rejected() -> None:
    changes = CHANGES_TABLE.replace("June 4, 2021", "next week").replace(
        "<tr><td>BRO</td><td>Brown &amp; Brown</td><td>NOV</td><td>NOV Inc.</td>\n",
        "<tr><td></td><td></td><td></td><td></td>",
    )
    parsed = parse_page(page(constituents_table(), changes), "p.html")
    assert parsed.changes.table.column("change_key").to_pylist() == ["2021-09-20|MTCH|PRGO"]
    assert [r.reason for r in parsed.changes.rejected] == [
        "row 4: neither an addition nor a removal",
        "row 5: 'next week' is not a date",
    ]


def test_renamed_required_column_names_missing_and_found_headers() -> None:
    headers = tuple("Industry group" if h == "GICS Sector" else h for h in CONSTITUENT_HEADERS)
    with pytest.raises(SchemaError) as caught:
        parse_page(page(constituents_table(headers=headers), CHANGES_TABLE), "p.html")
    message = str(caught.value)
    assert message.startswith("p.html: constituents table: missing required column(s) sector")
    assert "'Industry group'" in message
    assert "'Symbol'" in message
    assert caught.value.field == "sector"


@pytest.mark.parametrize(
    ("body", "error", "message"),
    [
        (b"", InputError, "the page is empty"),
        (b"  \n", InputError, "the page is empty"),
        (good_page()[:300], InputError, "the page is truncated"),
        (b"\x00\x9f\x92\x96garbage" * 20, InputError, "not UTF-8"),
        ("<html><body>caf\xe9</body></html>".encode("latin-1"), InputError, "not UTF-8"),
        (b'{"parse": {}}', InputError, "not an HTML page"),
        (page("<p>moved</p>"), InputError, "the page has no constituents table"),
        (b"\x1f\x8b\x08\x00broken", InputError, "truncated gzip"),
    ],
)
def test_unusable_pages_raise_clear_errors(
    body: bytes, error: type[Exception], message: str
) -> None:
    with pytest.raises(error, match=message):
        parse_page(body, "p.html")
