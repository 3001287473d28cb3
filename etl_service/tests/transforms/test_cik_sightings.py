"""CIKs for member lists without them, from runs and sightings; ticker changes they reveal."""

from __future__ import annotations

import gzip
from datetime import date
from pathlib import Path

import pyarrow as pa
import pytest

from etl_service.src.adapters.sec.cik_observations import (
    CikObservation,
    ObservationKind,
    read_fsds_instances,
)
from etl_service.src.transforms.cik_sightings import attach_ciks, names_agree
from etl_service.src.transforms.membership import Snapshot, roll_changes

pytestmark = pytest.mark.unit

CHANGES_SCHEMA = pa.schema(
    [
        ("change_date", pa.date32()),
        ("added_ticker", pa.string()),
        ("removed_ticker", pa.string()),
    ]
)


def _changes(*rows: tuple[date, str | None, str | None]) -> pa.Table:
    return pa.Table.from_pylist(
        [dict(zip(CHANGES_SCHEMA.names, r, strict=True)) for r in rows], schema=CHANGES_SCHEMA
    )


def _seen(ticker: str, cik: str, name: str, day: date) -> CikObservation:
    return CikObservation(ObservationKind.INSTANCE, cik, name, ticker, day, day, "fsds", "fsds")


def _snap(day: date, members: dict[str, str | None], names: dict[str, str]) -> Snapshot:
    return Snapshot(day, f"list {day}", members, names=names)


def test_a_sighting_before_the_first_list_gives_its_run_the_cik_and_says_so() -> None:
    lists = [
        _snap(date(2012, 12, 27), {"WLP": None}, {"WLP": "WellPoint Inc."}),
        _snap(date(2014, 12, 7), {"WLP": None}, {"WLP": "WellPoint Inc"}),
    ]
    sightings = [_seen("WLP", "0001156039", "WELLPOINT INC", date(2009, 7, 29))]
    out, warnings = attach_ciks(lists, sightings)
    assert [s.members["WLP"] for s in out] == ["0001156039", "0001156039"]
    assert "fsds: WLP instance of 'WELLPOINT INC' (2009-07-29)" in out[0].cik_sources["WLP"]
    assert warnings == []


def test_a_sighting_is_refused_across_a_removal_or_under_another_name() -> None:
    lists = [_snap(date(2016, 7, 10), {"AA": None}, {"AA": "Alcoa Inc"})]
    removed_between = _changes((date(2016, 11, 1), None, "AA"))
    later_company = [_seen("AA", "0001675149", "Alcoa Corp", date(2024, 5, 14))]
    out, _ = attach_ciks(lists, later_company, removed_between)
    assert out[0].members["AA"] is None
    other_name = [_seen("AA", "0000004281", "EDISON MISSION ENERGY", date(2009, 7, 23))]
    out, _ = attach_ciks(lists, other_name)
    assert out[0].members["AA"] is None


def test_a_run_takes_the_one_cik_a_later_list_shows_and_two_are_left_alone() -> None:
    lists = [
        _snap(date(2016, 7, 10), {"ANTM": None}, {}),
        _snap(date(2021, 5, 26), {"ANTM": "0001156039"}, {}),
    ]
    out, _ = attach_ciks(lists, [])
    assert out[0].members["ANTM"] == "0001156039"
    assert "listed with the same ticker in list 2021-05-26" in out[0].cik_sources["ANTM"]
    two = [_seen("X", "0000000001", "X Corp", date(2010, 1, 1))]
    two.append(_seen("X", "0000000002", "X Corp", date(2011, 1, 1)))
    out, warnings = attach_ciks([_snap(date(2012, 1, 1), {"X": None}, {"X": "X Corp"})], two)
    assert out[0].members["X"] is None
    assert "sightings name CIKs ['0000000001', '0000000002']" in warnings[0]


@pytest.mark.parametrize(
    ("a", "b", "agree"),
    [
        ("Block H&R", "H&R BLOCK INC", True),
        ("TE Connectivity Ltd.", "TYCO ELECTRONICS LTD.", True),
        ("J.B. Hunt", "Baxalta", False),
        ("Priceline.com Inc", "Booking Holdings", False),
    ],
)
def test_names_agree_on_a_shared_word_or_initials(a: str, b: str, agree: bool) -> None:
    assert names_agree(a, b) is agree


def test_fsds_instance_prefixes_are_ticker_sightings(tmp_path: Path) -> None:
    sub = tmp_path / "sub.txt.gz"
    header = "adsh\tcik\tname\tfiled\tinstance\n"
    rows = (
        "1\t1156039\tWELLPOINT INC\t20090729\twlp-20090630.xml\n"
        "2\t1156039\tWELLPOINT INC\t20091028\twlp-20090930.xml\n"
        "3\t930835\tEDISON MISSION ENERGY\t20090807\teme_10q.xml\n"
    )
    sub.write_bytes(gzip.compress((header + rows).encode()))
    [wlp] = read_fsds_instances(sub, "fsds 2009q3")
    assert (wlp.ticker, wlp.cik, wlp.seen_from, wlp.seen_to) == (
        "WLP",
        "0001156039",
        date(2009, 7, 29),
        date(2009, 10, 28),
    )


def _sector_lists(
    later_cik: str | None, extra: dict[str, str | None] | None = None
) -> list[Snapshot]:
    earlier_members: dict[str, str | None] = {"MHFI": None, **(extra or {})}
    return [
        Snapshot(
            date(2014, 12, 7),
            "a",
            earlier_members,
            names={"MHFI": "McGraw Hill Financial"},
            sectors=dict.fromkeys(earlier_members, "Financials"),
        ),
        Snapshot(
            date(2016, 7, 10),
            "b",
            {"SPGI": later_cik, **{t: c for t, c in (extra or {}).items()}},
            date_added={"SPGI": date(1957, 3, 4)},
            names={"SPGI": "S&P Global"},
            sectors={"SPGI": "Financials", **dict.fromkeys(extra or {}, "Financials")},
        ),
    ]


def test_a_joiner_added_long_before_is_the_sectors_only_leaver_renamed() -> None:
    _implied, renames, _w = roll_changes(_sector_lists("0000064040"), _changes(), date(2010, 1, 1))
    assert [(r.old, r.new) for r in renames] == [("MHFI", "SPGI")]
    assert "SPGI was added on 1957-03-04, before 2014-12-07" in renames[0].how


def test_tenure_pairing_refuses_a_share_class_of_a_member() -> None:
    lists = _sector_lists("0000064040", {"XYZ": "0000064040"})
    _implied, renames, _w = roll_changes(lists, _changes(), date(2010, 1, 1))
    assert renames == []


def test_a_sighted_cik_is_recorded_in_the_span_and_read_back_from_it() -> None:
    from etl_service.src.transforms.membership import build_history, cik_of_span

    lists = [
        _snap(date(2012, 12, 27), {"WLP": None}, {"WLP": "WellPoint Inc."}),
        _snap(date(2014, 12, 7), {}, {}),
    ]
    sightings = [_seen("WLP", "0001156039", "WELLPOINT INC", date(2009, 7, 29))]
    [span] = build_history(
        lists, _changes(), date(2010, 1, 1), sightings=sightings
    ).table.to_pylist()
    assert (span["ticker"], span["cik"]) == ("WLP", "0001156039")
    assert cik_of_span(span["derivation"]) == ("fsds: WLP instance of 'WELLPOINT INC' (2009-07-29)")
    assert cik_of_span("from: listed; to: still listed") is None
