"""Point-in-time membership from real snapshot pairs and from small synthetic histories."""

from __future__ import annotations

from datetime import date

import pyarrow as pa
import pytest

from etl_service.src.adapters.wikipedia import ParsedPage
from etl_service.src.models.schemas import INDEX_CHANGES, INDEX_MEMBERSHIP, arrow_schema
from etl_service.src.transforms.membership import Snapshot, build_membership
from etl_service.tests.wikipedia.conftest import snapshot_of

pytestmark = pytest.mark.unit


def _events(table: pa.Table, first: date) -> tuple[set[str], set[str]]:
    """(tickers that joined after ``first``, tickers that left) according to the spans."""
    rows = table.to_pylist()
    joined = {r["ticker"] for r in rows if r["valid_from"] > first}
    left = {r["ticker"] for r in rows if r["valid_to"] is not None}
    return joined, left


def _pair(pages: dict[str, ParsedPage], a: str, b: str) -> tuple[pa.Table, date]:
    first, second = snapshot_of(pages[a]), snapshot_of(pages[b])
    result = build_membership([second, first], pages[b].changes.table)
    assert result.table.schema == arrow_schema(INDEX_MEMBERSHIP)
    assert result.rejected == []
    return result.table, first.as_of


def test_september_2021_rebalance(rest_pages: dict[str, ParsedPage]) -> None:
    table, first = _pair(rest_pages, "2021-09-15", "2021-09-22")
    assert _events(table, first) == ({"BRO", "CDAY", "MTCH"}, {"NOV", "PRGO", "UNM"})
    spans = {r["ticker"]: r for r in table.to_pylist()}
    assert spans["BRO"]["valid_from"] == date(2021, 9, 20)
    assert spans["BRO"]["derivation"].startswith("from: changes table addition on 2021-09-20")
    assert spans["NOV"]["valid_to"] == date(2021, 9, 20)
    assert spans["NOV"]["cik"] == "0001021860"
    assert table.num_rows == 508


def test_brk_spelling_flip_is_no_membership_change(rest_pages: dict[str, ParsedPage]) -> None:
    table, first = _pair(rest_pages, "2022-08-02a", "2022-08-02b")
    assert _events(table, first) == (set(), set())
    assert table.num_rows == 503
    assert {r["ticker"] for r in table.to_pylist()} >= {"BRK.B", "BF.B"}


def test_viac_para_double_listing_is_a_rename_not_an_overlap(
    rest_pages: dict[str, ParsedPage],
) -> None:
    snaps = [snapshot_of(rest_pages[k]) for k in ("2022-02-15", "2022-02-17", "2022-02-19")]
    result = build_membership(snaps, rest_pages["2022-02-19"].changes.table)
    spans = {r["ticker"]: r for r in result.table.to_pylist()}
    assert spans["VIAC"]["valid_to"] == spans["PARA"]["valid_from"] == date(2022, 2, 17)
    assert "renamed to PARA (same CIK)" in spans["VIAC"]["derivation"]
    assert _events(result.table, snaps[0].as_of) == ({"PARA"}, {"VIAC"})
    assert any(w.startswith("VIAC -> PARA (CIK 0000813828)") for w in result.warnings)
    # GOOGL and GOOG share a CIK for good: neither is closed
    assert spans["GOOG"]["valid_to"] is None
    assert spans["GOOGL"]["valid_to"] is None


def test_all_rest_snapshots(rest_pages: dict[str, ParsedPage]) -> None:
    snaps = [snapshot_of(p) for p in rest_pages.values()]
    result = build_membership(snaps, rest_pages["2022-11-10"].changes.table)
    rows = result.table.to_pylist()
    keys = [(r["ticker"], r["valid_from"]) for r in rows]
    assert len(keys) == len(set(keys)) == 537
    assert sum(r["valid_to"] is None for r in rows) == 503
    assert {r["ticker"] for r in rows if r["valid_to"] is None} == set(
        rest_pages["2022-11-10"].companies.table.column("ticker").to_pylist()
    )
    spans = {r["ticker"]: r for r in rows}
    assert (spans["NLOK"]["valid_to"], spans["GEN"]["valid_from"]) == (date(2022, 11, 9),) * 2
    assert spans["UAA"]["valid_to"] == date(2022, 6, 21)  # from the split "UA/UAA" change row
    assert spans["TWTR"]["valid_to"] == date(2022, 11, 1)
    assert result.warnings == [
        "VIAC -> PARA (CIK 0000813828): both listed from 2022-02-17 to 2022-02-17; "
        "VIAC ends where PARA begins"
    ]


def _snap(day: str, *tickers: str, cik: dict[str, str] | None = None) -> Snapshot:
    ciks = cik or {}
    return Snapshot(date.fromisoformat(day), f"s{day}", {t: ciks.get(t) for t in tickers})


def test_gap_bridged_flicker_suppressed_and_dates_without_changes() -> None:
    snaps = [
        _snap("2021-03-10", "AAL", "MMM"),
        _snap("2021-03-11", "MMM", "ZZZ"),  # AAL row vandalised away, ZZZ typo for one day
        _snap("2021-03-12", "AAL", "MMM"),
        _snap("2021-06-01", "AAL", "NEW"),
    ]
    result = build_membership(snaps)
    assert [(r["ticker"], r["valid_from"], r["valid_to"]) for r in result.table.to_pylist()] == [
        ("AAL", date(2021, 3, 10), None),
        ("MMM", date(2021, 3, 10), date(2021, 6, 1)),
        ("NEW", date(2021, 6, 1), None),
    ]
    assert len(result.warnings) == 2
    assert "AAL: absent from s2021-03-11 (2021-03-11)" in result.warnings[0]
    assert "ZZZ: listed only from 2021-03-11 to 2021-03-11" in result.warnings[1]
    derivations = {r["ticker"]: r["derivation"] for r in result.table.to_pylist()}
    assert derivations["MMM"].endswith("to: first absent from snapshot s2021-06-01 (2021-06-01)")
    assert "start unknown" in derivations["AAL"]


def test_changes_table_dates_and_confirms_a_short_listing() -> None:
    changes = pa.Table.from_pylist(
        [
            {
                "change_key": "2021-03-11|ZZZ|",
                "change_date": date(2021, 3, 11),
                "added_ticker": "ZZZ",
                "added_name": None,
                "removed_ticker": None,
                "removed_name": None,
                "reason": None,
            },
            {
                "change_key": "2021-03-12||ZZZ",
                "change_date": date(2021, 3, 12),
                "added_ticker": None,
                "added_name": None,
                "removed_ticker": "ZZZ",
                "removed_name": None,
                "reason": None,
            },
        ],
        schema=arrow_schema(INDEX_CHANGES),
    )
    snaps = [
        _snap("2021-03-10", "MMM"),
        _snap("2021-03-11", "MMM", "ZZZ"),
        _snap("2021-03-13", "MMM"),
    ]
    result = build_membership(snaps, changes)
    spans = {r["ticker"]: r for r in result.table.to_pylist()}
    assert (spans["ZZZ"]["valid_from"], spans["ZZZ"]["valid_to"]) == (
        date(2021, 3, 11),
        date(2021, 3, 12),
    )
    assert result.warnings == []


def test_snapshot_from_table_uses_canonical_tickers() -> None:
    table = pa.table({"ticker": ["BRK-B", "MMM"], "cik": ["0001067983", None]})
    snap = Snapshot.from_table(date(2023, 9, 24), table, "csv")
    assert dict(snap.members) == {"BRK.B": "0001067983", "MMM": None}
    assert build_membership([]).table.num_rows == 0
