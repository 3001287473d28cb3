"""Membership history since 1996 from the bundled lists, the page and its changes table,
measured against an independent record and against a member list held out of the build."""

from __future__ import annotations

from datetime import date, timedelta
from functools import cache

import pyarrow as pa
import pytest

from etl_service import snapshot
from etl_service.src.adapters.member_lists import (
    MemberList,
    ReferenceSpans,
    bundled_member_lists,
    page_members,
)
from etl_service.src.adapters.sec.former_ciks import load_ticker_sightings
from etl_service.src.adapters.wikipedia import ParsedPage, parse_page, read_page_file
from etl_service.src.transforms.cik_sightings import attach_ciks
from etl_service.src.transforms.membership import Snapshot, build_history, roll_changes

pytestmark = pytest.mark.unit

START = date(1996, 1, 2)


@cache
def _page() -> ParsedPage:
    return parse_page(read_page_file(snapshot.WIKIPEDIA_PAGE), snapshot.WIKIPEDIA_PAGE.name)


@cache
def _lists() -> tuple[MemberList, ...]:
    page = _page()
    assert page.revision_time is not None
    return (
        *bundled_member_lists(snapshot.MEMBER_LISTS),
        page_members(page, page.revision_time.date()),
    )


def _snapshots(lists: tuple[MemberList, ...]) -> list[Snapshot]:
    return [Snapshot.from_table(m.as_of, m.members.table, m.source) for m in lists]


@cache
def _spans() -> tuple[dict[str, object], ...]:
    reference = ReferenceSpans.read(snapshot.REFERENCE_SPANS)
    built = build_history(
        _snapshots(_lists()),
        _page().changes.table,
        START,
        reference=reference,
        sightings=load_ticker_sightings(),
    )
    return tuple(built.table.to_pylist())


def _members(spans: tuple[dict[str, object], ...], day: date) -> set[str]:
    return {
        str(s["ticker"])
        for s in spans
        if s["valid_from"] <= day and (s["valid_to"] is None or s["valid_to"] > day)  # type: ignore[operator]
    }


def _renames() -> dict[str, str]:
    reference = ReferenceSpans.read(snapshot.REFERENCE_SPANS)
    snapshots, _ = attach_ciks(_snapshots(_lists()), load_ticker_sightings(), _page().changes.table)
    _implied, renames, _warnings = roll_changes(snapshots, _page().changes.table, START, reference)
    return {r.old: r.new for r in renames}


@cache
def _cik_of_ticker() -> dict[str, str]:
    """Each ticker's latest CIK, from the sightings and then the spans (later wins)."""
    latest = {
        o.ticker: o.cik
        for o in sorted(load_ticker_sightings(), key=lambda o: o.seen_to)
        if o.ticker
    }
    for span in sorted(_spans(), key=lambda s: s["valid_from"]):  # type: ignore[arg-type,return-value]
        if span["cik"]:
            latest[str(span["ticker"])] = str(span["cik"])
    return latest


def _agreement(day: date, renames: dict[str, str]) -> float:
    """Companies in both records on ``day`` over the larger record's count.

    A company is its span's CIK where known, else the CIK its ticker (followed through the
    ticker changes found) has last, else that ticker. The record writes a company under its
    latest ticker for its whole history (CB for ACE Limited), so keying by CIK is what makes
    the two comparable.
    """

    def company(ticker: str) -> str:
        seen = {ticker}  # FISV -> FI -> FISV: a ticker can come back
        while ticker in renames and renames[ticker] not in seen:
            ticker = renames[ticker]
            seen.add(ticker)
        return ticker

    latest = _cik_of_ticker()

    def key(ticker: str, cik: object = None) -> str:
        return str(cik or latest.get(company(ticker)) or company(ticker))

    ours = {
        key(str(s["ticker"]), s["cik"])
        for s in _spans()
        if s["valid_from"] <= day and (s["valid_to"] is None or s["valid_to"] > day)  # type: ignore[operator]
    }
    theirs = {key(t) for t in ReferenceSpans.read(snapshot.REFERENCE_SPANS).members_on(day)}
    return len(ours & theirs) / max(len(ours), len(theirs))


def test_history_agrees_with_the_independent_record_2008_to_2022() -> None:
    renames = _renames()
    quarter_ends = [
        date(y, m, 1) - timedelta(days=1) for y in range(2008, 2023) for m in (4, 7, 10)
    ] + [date(y, 12, 31) for y in range(2008, 2023)]
    figures = {day: _agreement(day, renames) for day in sorted(quarter_ends)}
    by_year = {y: min(v for d, v in figures.items() if d.year == y) for y in range(2008, 2023)}
    print("lowest agreement per year:", {y: round(v, 4) for y, v in by_year.items()})
    assert min(v for d, v in figures.items() if d >= date(2018, 1, 1)) >= 0.99
    assert min(v for d, v in figures.items() if d >= date(2013, 9, 30)) >= 0.97
    # The first half of 2013 falls short (0.954, 0.970): the 2012-12-27 list still shows
    # members the record removed days before it (LXK, SHLD, TIE), no list falls between it
    # and 2013-06-23, and ACT (later AGN) has no CIK offline; see README "Definitions".
    assert min(figures[date(2013, 3, 31)], figures[date(2013, 6, 30)]) >= 0.95
    assert min(figures.values()) >= 0.86


def test_a_held_out_list_is_rebuilt_from_its_neighbours_and_the_changes_table() -> None:
    held_out = next(m for m in _lists() if m.as_of == date(2016, 7, 10))
    others = tuple(m for m in _lists() if m is not held_out)
    built = build_history(_snapshots(others), _page().changes.table, START)
    rebuilt = _members(tuple(built.table.to_pylist()), held_out.as_of)
    observed = set(held_out.members.table.column("ticker").to_pylist())
    agreement = len(rebuilt & observed) / max(len(rebuilt), len(observed))
    print(f"held-out list of {held_out.as_of}: agreement {agreement:.4f}")
    assert agreement >= 0.95


def test_ticker_changes_split_spans_of_one_company_without_an_index_change() -> None:
    spans = {(s["ticker"], s["valid_from"]): s for s in _spans()}
    fb = next(s for (t, _f), s in spans.items() if t == "FB")
    meta = next(s for (t, _f), s in spans.items() if t == "META")
    assert (fb["valid_from"], fb["valid_to"], meta["valid_from"]) == (
        date(2013, 12, 23),
        date(2022, 6, 9),
        date(2022, 6, 9),
    )
    assert fb["cik"] == meta["cik"] == "0001326801"
    assert "ticker changed to META on 2022-06-09" in str(fb["derivation"])
    assert "not an index change" in str(meta["derivation"])
    twtr = next(s for (t, _f), s in spans.items() if t == "TWTR")
    assert (twtr["valid_from"], twtr["valid_to"]) == (date(2018, 6, 7), date(2022, 11, 1))


def test_former_members_are_reopened_by_removals_before_the_first_list() -> None:
    on_2000 = _members(_spans(), date(2000, 6, 30))
    assert len(on_2000) >= 495
    # Removed on 2008-09-16 per the changes table (Lehman Brothers): a member before it.
    assert "LEH" in _members(_spans(), date(2008, 6, 30))
    assert "LEH" not in _members(_spans(), date(2008, 12, 31))


def test_a_reused_ticker_is_two_spans_with_their_own_ciks() -> None:
    changes = pa.Table.from_pylist(
        [],
        schema=pa.schema(
            [
                ("change_date", pa.date32()),
                ("added_ticker", pa.string()),
                ("removed_ticker", pa.string()),
            ]
        ),
    )
    early = Snapshot(date(2010, 1, 1), "a", {"XYZ": "0000000001", "AAA": "0000000003"})
    gap = Snapshot(date(2012, 1, 1), "b", {"AAA": "0000000003"})
    late = Snapshot(date(2014, 1, 1), "c", {"XYZ": "0000000002", "AAA": "0000000003"})
    spans = build_history([early, gap, late], changes, date(2009, 1, 1)).table.to_pylist()
    xyz = [(s["cik"], s["valid_from"], s["valid_to"]) for s in spans if s["ticker"] == "XYZ"]
    assert xyz == [
        ("0000000001", date(2009, 1, 1), date(2012, 1, 1)),
        ("0000000002", date(2014, 1, 1), None),
    ]
