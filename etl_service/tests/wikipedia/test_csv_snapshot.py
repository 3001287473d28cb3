"""CSV scrapes of the constituents table: layouts, oddities and membership across pairs."""

from __future__ import annotations

from datetime import date

import pytest

from etl_service.errors import InputError, SchemaError
from etl_service.src.adapters.wikipedia import read_constituents_csv, read_members_csv
from etl_service.src.models.schemas import COMPANIES, arrow_schema
from etl_service.src.transforms.membership import Snapshot, build_membership
from etl_service.tests.wikipedia.conftest import FIXTURES

pytestmark = pytest.mark.unit


def _bytes(label: str) -> tuple[bytes, str]:
    [path] = FIXTURES.glob(f"constituents_{label}_*.csv")
    return path.read_bytes(), path.name


def _members_snapshot(label: str) -> Snapshot:
    data, name = _bytes(label)
    return Snapshot.from_table(date.fromisoformat(label), read_members_csv(data, name).table, name)


def test_american_airlines_group_symbol_is_rejected() -> None:
    data, name = _bytes("2021-03-11")
    members = read_members_csv(data, name)
    assert members.table.num_rows == 504
    [bad] = members.rejected
    assert (bad.record_key, bad.reason) == (
        "American Airlines Group",
        "line 392: 'American Airlines Group' is not a ticker",
    )
    assert bad.record == {"ticker": "American Airlines Group", "name": "reports"}
    fixed = read_members_csv(*_bytes("2021-03-12"))
    assert fixed.table.num_rows == 505
    assert "AAL" in fixed.table.column("ticker").to_pylist()


def test_rvty_previously_pki_is_read_as_rvty() -> None:
    data, name = _bytes("2023-12-31")
    companies = read_constituents_csv(data, name)
    assert companies.table.schema == arrow_schema(COMPANIES)
    assert companies.table.num_rows == 503
    assert companies.rejected == []
    rvty = next(r for r in companies.table.to_pylist() if r["ticker"] == "RVTY")
    assert (rvty["cik"], rvty["date_added"]) == ("0000031791", date(1985, 5, 31))
    assert (
        f"{name}: line 403: ticker 'RVTY (Previously PKI)' read as RVTY (former ticker PKI)"
        in companies.warnings
    )


def test_brk_dash_spelling_in_csv_is_normalised() -> None:
    companies = read_constituents_csv(*_bytes("2023-09-24"))
    tickers = set(companies.table.column("ticker").to_pylist())
    assert {"BRK.B", "BF.B"} <= tickers
    assert not {"BRK-B", "BF-B"} & tickers
    assert sum("vendor spelling" in w for w in companies.warnings) == 2


def test_company_header_variant_and_integer_ciks() -> None:
    companies = read_constituents_csv(*_bytes("2024-12-08"))
    assert companies.table.num_rows == 503
    mmm = next(r for r in companies.table.to_pylist() if r["ticker"] == "MMM")
    assert (mmm["name"], mmm["cik"]) == ("3M", "0000066740")


def test_legacy_three_column_layout() -> None:
    data, name = _bytes("2012-12-27")
    with pytest.raises(
        SchemaError,
        match=r"missing required column\(s\) name .*found headers \['Symbol', 'Name', 'Sector'\]",
    ):
        read_constituents_csv(data, name)
    members = read_members_csv(data, name)
    assert members.table.num_rows == 500
    assert members.rejected == []
    assert [w.split(": ", 1)[1][:8] for w in members.warnings] == [
        "line 135",
        "line 354",
        "line 476",
    ]
    assert "DHR" in members.table.column("ticker").to_pylist()


def test_short_rows_and_bad_files() -> None:
    data = b"Symbol,Security,CIK\nMMM,3M,66740\nAOS\n"
    members = read_members_csv(data, "x.csv")
    assert members.table.to_pylist() == [{"ticker": "MMM", "name": "3M", "cik": "0000066740"}]
    assert [r.reason for r in members.rejected] == ["line 3: 1 fields, header has 3"]
    with pytest.raises(InputError, match=r"x\.csv: the CSV file is empty"):
        read_members_csv(b"", "x.csv")
    with pytest.raises(InputError, match="not valid UTF-8"):
        read_members_csv("Symbol,Security\nMMM,Soci\xe9t\xe9\n".encode("latin-1"), "x.csv")


@pytest.mark.parametrize(
    ("before", "after"),
    [("2023-09-24", "2023-09-27"), ("2023-12-31", "2024-01-01")],
)
def test_spelling_fixes_are_no_membership_change(before: str, after: str) -> None:
    result = build_membership([_members_snapshot(before), _members_snapshot(after)])
    assert result.table.num_rows == 503
    assert result.table.column("valid_to").null_count == 503
    assert result.warnings == []


def test_day_with_rejected_symbol_is_bridged() -> None:
    fixed = _members_snapshot("2021-03-12")
    # the corrected list also stands in for the day before the vandalism
    before = Snapshot(date(2021, 3, 10), "as of 2021-03-10", fixed.members)
    result = build_membership([before, _members_snapshot("2021-03-11"), fixed])
    aal = [r for r in result.table.to_pylist() if r["ticker"] == "AAL"]
    assert [(r["valid_from"], r["valid_to"]) for r in aal] == [(date(2021, 3, 10), None)]
    assert result.table.num_rows == 505
    assert result.warnings == [
        "AAL: absent from constituents_2021-03-11_9217bee.csv (2021-03-11) but listed again on "
        "2021-03-12: gap bridged, not a membership event"
    ]
