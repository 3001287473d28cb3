"""Parsing every recorded page: row counts, members, sectors, CIKs, dates and changes."""

from __future__ import annotations

import collections
from datetime import UTC, date, datetime

import pyarrow.compute as pc
import pytest

from etl_service.src.adapters.wikipedia import ParsedPage
from etl_service.src.models.schemas import COMPANIES, INDEX_CHANGES, arrow_schema

pytestmark = pytest.mark.unit

# (constituents, changes-table rows, revision) from ../shared/data/PROVENANCE.md §1
EXPECTED = {
    "2021-05-31": (505, 271, "1025307873"),
    "2021-09-15": (505, 278, "1044399957"),
    "2021-09-22": (505, 281, "1045717786"),
    "2022-02-15": (505, 290, "1071927940"),
    "2022-02-17": (506, 290, "1072409877"),
    "2022-02-19": (505, 290, "1072749412"),
    "2022-08-02a": (503, 306, "1101821533"),
    "2022-08-02b": (503, 306, "1101857130"),
    "2022-10-01": (502, 308, "1113365991"),
    "2022-11-10": (503, 312, "1120976287"),
}
UA_UAA_SPLIT_FROM = "2022-08-02a"  # the "UA/UAA" removal cell becomes two change rows


def _row(page: ParsedPage, ticker: str) -> dict[str, object]:
    rows = [r for r in page.companies.table.to_pylist() if r["ticker"] == ticker]
    assert len(rows) == 1, f"{ticker}: {len(rows)} rows"
    row: dict[str, object] = rows[0]
    return row


def _tickers(page: ParsedPage) -> set[str]:
    return set(page.companies.table.column("ticker").to_pylist())


@pytest.mark.parametrize("key", sorted(EXPECTED))
def test_rest_snapshot_row_counts_and_schema(rest_pages: dict[str, ParsedPage], key: str) -> None:
    page = rest_pages[key]
    companies, change_rows, revision = EXPECTED[key]
    assert page.companies.table.schema == arrow_schema(COMPANIES)
    assert page.changes.table.schema == arrow_schema(INDEX_CHANGES)
    assert page.companies.table.num_rows == companies
    assert page.companies.rejected == []
    assert page.changes.rejected == []
    split = 1 if key >= UA_UAA_SPLIT_FROM else 0
    assert page.changes.table.num_rows == change_rows + split
    assert page.revision == revision
    assert set(page.companies.table.column("source_revision").to_pylist()) == {revision}
    assert pc.all(pc.match_substring_regex(page.companies.table["cik"], r"^\d{10}$")).as_py()


def test_desktop_page_layout_2024(desktop_page: ParsedPage) -> None:
    table = desktop_page.companies.table
    assert table.schema == arrow_schema(COMPANIES)
    assert (table.num_rows, desktop_page.changes.table.num_rows) == (503, 353)
    assert desktop_page.revision == "1250356709"
    assert desktop_page.revision_time == datetime(2024, 10, 9, 23, 17, 18, tzinfo=UTC)
    assert desktop_page.companies.rejected == []
    assert desktop_page.changes.rejected == []
    # every row of the 2024 page has an ISO date added and a CIK; 3 CIKs are shared by classes
    assert pc.count(table["date_added"]).as_py() == 503
    assert pc.count_distinct(table["cik"]).as_py() == 500
    sectors = collections.Counter(table.column("sector").to_pylist())
    assert sectors["Industrials"] == 78
    assert sectors["Energy"] == 22
    assert len(sectors) == 11
    assert _row(desktop_page, "MMM") == {
        "ticker": "MMM",
        "name": "3M",
        "cik": "0000066740",
        "sector": "Industrials",
        "sub_industry": "Industrial Conglomerates",
        "headquarters": "Saint Paul, Minnesota",
        "hq_city": "Saint Paul",
        "hq_region": "Minnesota",
        "date_added": date(1957, 3, 4),
        "year_founded": 1902,
        "founded_raw": "1902",
        "aliases": None,
        "source_revision": "1250356709",
    }
    assert _row(desktop_page, "PLTR")["date_added"] == date(2024, 9, 23)
    assert _row(desktop_page, "BF.B")["name"] == "Brown–Forman"


def test_desktop_changes_dates_empty_sides_and_reasons(desktop_page: ParsedPage) -> None:
    rows = desktop_page.changes.table.to_pylist()
    assert rows[0] == {
        "change_key": "2024-10-01||BBWI",
        "change_date": date(2024, 10, 1),
        "added_ticker": None,
        "added_name": None,
        "removed_ticker": "BBWI",
        "removed_name": "Bath & Body Works, Inc.",
        "reason": "Market capitalization change.",  # footnote marker [4] stripped
    }
    assert rows[1]["change_key"] == "2024-09-30|AMTM|"
    assert rows[1]["removed_name"] is None
    assert rows[2]["change_key"] == "2024-09-23|PLTR|AAL"
    assert rows[-1]["change_key"] == "1997-06-17|CCI|USL"
    assert not any("[" in (r["reason"] or "") for r in rows)
    assert sum(r["added_ticker"] is None for r in rows) == 14
    assert sum(r["removed_ticker"] is None for r in rows) == 19


def test_share_classes_share_a_cik_and_keep_index_tickers(desktop_page: ParsedPage) -> None:
    assert _row(desktop_page, "GOOGL")["cik"] == _row(desktop_page, "GOOG")["cik"] == "0001652044"
    assert _row(desktop_page, "FOXA")["cik"] == _row(desktop_page, "FOX")["cik"] == "0001754301"
    brk = _row(desktop_page, "BRK.B")
    assert (brk["cik"], brk["aliases"]) == ("0001067983", "BRK-B|BRKB")


def test_rest_layout_values(rest_pages: dict[str, ParsedPage]) -> None:
    page = rest_pages["2021-05-31"]
    mmm = _row(page, "MMM")
    assert (mmm["name"], mmm["date_added"], mmm["headquarters"]) == (
        "3M Company",
        date(1976, 8, 9),
        "St. Paul, Minnesota",
    )
    bac = _row(page, "BAC")
    assert (bac["year_founded"], bac["founded_raw"]) == (1998, "1998 (1923 / 1874)")
    lin = _row(page, "LIN")
    assert (lin["hq_city"], lin["hq_region"]) == ("Guildford", "United Kingdom")
    assert _row(page, "ACN")["hq_region"] == "Ireland"
    assert _row(page, "RTX")["date_added"] is None  # blank cell
    assert pc.count(page.companies.table["date_added"]).as_py() == 505 - 52
    sectors = collections.Counter(page.companies.table.column("sector").to_pylist())
    assert (sectors["Information Technology"], sectors["Energy"]) == (74, 23)
    first = page.changes.table.slice(0, 1).to_pylist()[0]
    assert first["change_key"] == "2021-05-14|CRL|FLIR"


def test_double_date_added_keeps_the_first_date(rest_pages: dict[str, ParsedPage]) -> None:
    att = _row(rest_pages["2021-09-15"], "T")  # cell "1983-11-30 (1957-03-04)"
    assert (att["date_added"], att["year_founded"], att["founded_raw"]) == (
        date(1983, 11, 30),
        1983,
        "1983 (1885)",
    )


def test_members_between_snapshots(rest_pages: dict[str, ParsedPage]) -> None:
    feb17 = rest_pages["2022-02-17"]
    assert {"VIAC", "PARA"} <= _tickers(feb17)
    assert _row(feb17, "VIAC")["cik"] == _row(feb17, "PARA")["cik"] == "0000813828"
    assert "VIAC" not in _tickers(rest_pages["2022-02-19"])
    assert "CTXS" not in _tickers(rest_pages["2022-10-01"])
    nov = rest_pages["2022-11-10"]
    assert "GEN" in _tickers(nov)
    assert "NLOK" not in _tickers(nov)
    assert _row(nov, "ES")["date_added"] is None  # cell "2009" is not a full date
    assert any("'2009' is not a full ISO date" in w for w in nov.companies.warnings)


def test_brk_dash_spelling_is_read_as_index_ticker(rest_pages: dict[str, ParsedPage]) -> None:
    flipped = rest_pages["2022-08-02a"]
    assert "BRK.B" in _tickers(flipped)
    assert "BRK-B" not in _tickers(flipped)
    assert any(
        "'BRK-B' in vendor spelling, normalised to BRK.B" in w for w in flipped.companies.warnings
    )
    assert _tickers(flipped) == _tickers(rest_pages["2022-08-02b"])


def test_two_share_classes_in_one_removal_cell_are_split(rest_pages: dict[str, ParsedPage]) -> None:
    rows = [
        r
        for r in rest_pages["2022-11-10"].changes.table.to_pylist()
        if r["change_date"] == date(2022, 6, 21) and (r["removed_ticker"] or "").startswith("UA")
    ]
    assert [(r["added_ticker"], r["removed_ticker"], r["removed_name"]) for r in rows] == [
        ("KDP", "UA", "Under Armour"),
        (None, "UAA", "Under Armour"),
    ]
    assert rows[1]["added_name"] is None


def test_september_2021_changes_rows(rest_pages: dict[str, ParsedPage]) -> None:
    keys = set(rest_pages["2021-09-22"].changes.table.column("change_key").to_pylist())
    assert {"2021-09-20|MTCH|PRGO", "2021-09-20|CDAY|UNM", "2021-09-20|BRO|NOV"} <= keys
    assert "2021-09-20|MTCH|PRGO" not in set(
        rest_pages["2021-09-15"].changes.table.column("change_key").to_pylist()
    )
