"""Point-in-time S&P 500 membership (SCD-2 spans) from successive snapshots and the changes table.

Rule, applied per canonical ticker (``BRK-B`` and ``BRK.B`` are one ticker, so a spelling
flip is never an event):

1. A *run* is a maximal sequence of consecutive snapshots listing the ticker.
2. **Gap bridging.** Two runs separated by an absence observed for at most ``window_days``
   (first snapshot missing it to the snapshot listing it again), with no removal of the
   ticker in the changes table in between, are one run (a row deleted by an edit and
   restored, or a vandalised ticker cell that was rejected).
3. **Flicker suppression.** A run that starts after the first snapshot, ends before the last
   one and lasts at most ``window_days`` is dropped unless the changes table adds the ticker
   around it (an editing state, not a membership).
4. **Renames.** When a run of ticker A ends within ``window_days`` after a ticker B with the
   same CIK started, while both were listed (VIAC and PARA on 2022-02-17), A's span ends
   where B's begins, so the two never overlap. Share classes listed together for longer
   (GOOGL/GOOG) are untouched.
5. **Dates.** ``valid_from`` is the changes-table addition date of the ticker within
   (previous snapshot, first snapshot listing it + ``window_days``], else the first snapshot
   listing it. For tickers already in the first snapshot it is the latest changes-table
   addition on or before it, else the snapshot's ``date_added``, else the snapshot date.
   ``valid_to`` (exclusive) is the changes-table removal date within (last snapshot listing it,
   first snapshot without it + ``window_days``], else the first snapshot without it; null
   while the ticker is in the latest snapshot.

Every span records in ``derivation`` which of these rules set its dates; every bridged gap,
suppressed flicker and rename is also reported as a warning, and a span that would end on or
before its start is rejected with the reason.
"""

from __future__ import annotations

import logging
from bisect import bisect_right
from collections import defaultdict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Any, Protocol

import pyarrow as pa

from etl_service.src.adapters.sec.cik_observations import CikObservation
from etl_service.src.models.records import Extracted, Rejected
from etl_service.src.models.schemas import INDEX_MEMBERSHIP, arrow_schema
from etl_service.src.models.tickers import canonical_ticker
from etl_service.src.transforms.cik_sightings import attach_ciks
from etl_service.src.transforms.member_snapshot import Snapshot, normalized_name

__all__ = [
    "Rename",
    "Snapshot",
    "build_history",
    "build_membership",
    "normalized_name",
    "roll_changes",
]

logger = logging.getLogger(__name__)

DEFAULT_WINDOW_DAYS = 7

CIK_NOTE = "; cik: "
"""Ends a span's ``derivation`` when its CIK came from elsewhere than the lists showing it;
the evidence follows (``cik_of_span`` reads it back)."""


def cik_of_span(derivation: str) -> str | None:
    """Where a span's CIK came from, when no member list showed it with the ticker."""
    return derivation.split(CIK_NOTE, 1)[1] if CIK_NOTE in derivation else None


@dataclass
class _Run:
    ticker: str
    start: int
    end: int  # inclusive snapshot index
    rename_to: tuple[str, int] | None = None


class _Events:
    """Changes-table dates per canonical ticker."""

    def __init__(self, changes: pa.Table | None) -> None:
        self.added: dict[str, list[date]] = defaultdict(list)
        self.removed: dict[str, list[date]] = defaultdict(list)
        if changes is None:
            return
        for row in changes.select(["change_date", "added_ticker", "removed_ticker"]).to_pylist():
            if row["added_ticker"]:
                self.added[canonical_ticker(row["added_ticker"])].append(row["change_date"])
            if row["removed_ticker"]:
                self.removed[canonical_ticker(row["removed_ticker"])].append(row["change_date"])
        for dates in (*self.added.values(), *self.removed.values()):
            dates.sort()

    @staticmethod
    def within(dates: Sequence[date], after: date, until: date) -> date | None:
        """The earliest date in (after, until]."""
        return next((d for d in dates if after < d <= until), None)

    @staticmethod
    def latest_on_or_before(dates: Sequence[date], day: date) -> date | None:
        index = bisect_right(dates, day)
        return dates[index - 1] if index else None


def _runs(ticker: str, present: Sequence[bool]) -> list[_Run]:
    runs: list[_Run] = []
    for i, here in enumerate(present):
        if not here:
            continue
        if runs and runs[-1].end == i - 1:
            runs[-1].end = i
        else:
            runs.append(_Run(ticker, i, i))
    return runs


def build_membership(
    snapshots: Sequence[Snapshot],
    changes: pa.Table | None = None,
    window_days: int = DEFAULT_WINDOW_DAYS,
) -> Extracted:
    """Membership spans conforming to ``arrow_schema(INDEX_MEMBERSHIP)``.

    Args:
        snapshots: member lists, in any order (sorted by date here, stable for equal dates).
        changes: the ``index_changes`` table used to date additions and removals.
        window_days: how long an editing state may last before it counts as an event.

    Returns:
        Spans sorted by ticker and valid_from, with warnings for each transient state handled.
    """
    if not snapshots:
        return Extracted(pa.Table.from_pylist([], schema=arrow_schema(INDEX_MEMBERSHIP)))
    snaps = sorted(snapshots, key=lambda s: s.as_of)
    days = [s.as_of for s in snaps]
    window = timedelta(days=window_days)
    last = len(snaps) - 1
    events = _Events(changes)
    warnings: list[str] = []

    tickers = sorted({t for s in snaps for t in s.members})
    runs_by_ticker: dict[str, list[_Run]] = {}
    for ticker in tickers:
        runs = _runs(ticker, [ticker in s.members for s in snaps])
        merged: list[_Run] = [runs[0]]
        for run in runs[1:]:
            prev = merged[-1]
            gap_seen = days[run.start] - days[prev.end + 1]
            removed = events.within(events.removed[ticker], days[prev.end], days[run.start])
            if gap_seen <= window and removed is None:
                warnings.append(
                    f"{ticker}: absent from {snaps[prev.end + 1].source} ({days[prev.end + 1]}) "
                    f"but listed again on {days[run.start]}: gap bridged, not a membership event"
                )
                prev.end = run.end
            else:
                merged.append(run)
        kept: list[_Run] = []
        for run in merged:
            lasted = days[run.end + 1] - days[run.start] if run.end < last else None
            added = events.within(
                events.added[ticker],
                days[run.start - 1] if run.start else date.min,
                days[run.start] + window,
            )
            if run.start > 0 and lasted is not None and lasted <= window and added is None:
                warnings.append(
                    f"{ticker}: listed only from {days[run.start]} to {days[run.end]} "
                    f"({snaps[run.start].source}): transient listing, not a membership event"
                )
                continue
            kept.append(run)
        if kept:
            runs_by_ticker[ticker] = kept

    _link_renames(snaps, runs_by_ticker, window, warnings)

    rows: list[dict[str, Any]] = []
    rejected: list[Rejected] = []
    for ticker, runs in runs_by_ticker.items():
        for run in runs:
            row = _span(run, snaps, events, window)
            if row["valid_to"] is not None and row["valid_to"] <= row["valid_from"]:
                rejected.append(
                    Rejected(
                        INDEX_MEMBERSHIP.name,
                        f"{ticker}|{row['valid_from']}",
                        f"span of {ticker} would end on {row['valid_to']}, not after its start "
                        f"{row['valid_from']} ({row['derivation']})",
                        snaps[run.start].source,
                        {k: str(v) for k, v in row.items()},
                    )
                )
                continue
            rows.append(row)
    rows.sort(key=lambda r: (r["ticker"], r["valid_from"]))
    logger.info(
        "membership: %d spans from %d snapshots (%d transient states handled)",
        len(rows),
        len(snaps),
        len(warnings),
    )
    table = pa.Table.from_pylist(rows, schema=arrow_schema(INDEX_MEMBERSHIP))
    return Extracted(table, rejected, warnings)


def _link_renames(
    snaps: Sequence[Snapshot],
    runs_by_ticker: Mapping[str, list[_Run]],
    window: timedelta,
    warnings: list[str],
) -> None:
    """Mark runs that end shortly after a same-CIK ticker started while both were listed."""
    last = len(snaps) - 1
    starts_by_cik: dict[str, list[_Run]] = defaultdict(list)
    for runs in runs_by_ticker.values():
        for run in runs:
            cik = snaps[run.start].members.get(run.ticker)
            if cik and run.start > 0:
                starts_by_cik[cik].append(run)
    for runs in runs_by_ticker.values():
        for run in runs:
            if run.end == last:
                continue
            cik = snaps[run.end].members.get(run.ticker)
            for new in starts_by_cik.get(cik or "", []):
                overlap = new.ticker != run.ticker and run.start < new.start <= run.end
                if overlap and snaps[run.end + 1].as_of - snaps[new.start].as_of <= window:
                    run.rename_to = (new.ticker, new.start)
                    warnings.append(
                        f"{run.ticker} -> {new.ticker} (CIK {cik}): both listed from "
                        f"{snaps[new.start].as_of} to {snaps[run.end].as_of}; "
                        f"{run.ticker} ends where {new.ticker} begins"
                    )
                    break


def _span(
    run: _Run,
    snaps: Sequence[Snapshot],
    events: _Events,
    window: timedelta,
) -> dict[str, Any]:
    ticker = run.ticker
    valid_from, how_from = _start(ticker, run.start, snaps, events, window)
    valid_to: date | None = None
    how_to = f"still listed in {snaps[-1].source} ({snaps[-1].as_of})"
    if run.rename_to is not None:
        new_ticker, new_start = run.rename_to
        valid_to, start_how = _start(new_ticker, new_start, snaps, events, window)
        how_to = f"to: renamed to {new_ticker} (same CIK); ends where it begins ({start_how})"
    elif run.end < len(snaps) - 1:
        gone = snaps[run.end + 1]
        removed = events.within(events.removed[ticker], snaps[run.end].as_of, gone.as_of + window)
        if removed is not None:
            valid_to, how_to = removed, f"to: changes table removal on {removed}"
        else:
            valid_to = gone.as_of
            how_to = f"to: first absent from snapshot {gone.source} ({gone.as_of})"
    shown = next(
        (s for s in reversed(snaps[run.start : run.end + 1]) if s.members.get(ticker)), None
    )
    cik = shown.members[ticker] if shown else None
    how_cik = (
        f"{CIK_NOTE}{shown.cik_sources[ticker]}" if shown and ticker in shown.cik_sources else ""
    )
    return {
        "ticker": ticker,
        "cik": cik,
        "valid_from": valid_from,
        "valid_to": valid_to,
        "derivation": f"{how_from}; {how_to}{how_cik}",
    }


def _start(
    ticker: str, start: int, snaps: Sequence[Snapshot], events: _Events, window: timedelta
) -> tuple[date, str]:
    first = snaps[start]
    if start == 0:
        added = events.latest_on_or_before(events.added[ticker], first.as_of)
        if added is not None:
            return added, f"from: changes table addition on {added}"
        listed = first.date_added.get(ticker)
        if listed is not None and listed <= first.as_of:
            return listed, f"from: date added column of {first.source}"
        return first.as_of, f"from: listed in the first snapshot {first.source} (start unknown)"
    before = snaps[start - 1]
    added = events.within(events.added[ticker], before.as_of, first.as_of + window)
    if added is not None:
        return added, f"from: changes table addition on {added}"
    return first.as_of, (
        f"from: first listed in snapshot {first.source} ({first.as_of}), "
        f"absent from {before.source} ({before.as_of})"
    )


@dataclass
class _Change:
    """The changes-table events of one date, canonical tickers."""

    day: date
    added: set[str] = field(default_factory=set)
    removed: set[str] = field(default_factory=set)


def _changes_by_day(changes: pa.Table) -> list[_Change]:
    by_day: dict[date, _Change] = {}
    for row in changes.select(["change_date", "added_ticker", "removed_ticker"]).to_pylist():
        change = by_day.setdefault(row["change_date"], _Change(row["change_date"]))
        if row["added_ticker"]:
            change.added.add(canonical_ticker(row["added_ticker"]))
        if row["removed_ticker"]:
            change.removed.add(canonical_ticker(row["removed_ticker"]))
    return [by_day[d] for d in sorted(by_day)]


def _virtual(
    day: date, members: set[str], ciks: Mapping[str, tuple[str | None, str | None]], source: str
) -> Snapshot:
    """An implied list; each member has the CIK (and its provenance) last observed for it."""
    known = {t: ciks.get(t, (None, None)) for t in sorted(members)}
    return Snapshot(
        day,
        source,
        {t: cik for t, (cik, _how) in known.items()},
        cik_sources={t: how for t, (_cik, how) in known.items() if how},
    )


@dataclass(frozen=True)
class Rename:
    """A ticker change of one company between two member lists."""

    old: str
    new: str
    after: date
    until: date
    how: str
    day: date | None = None  # None: not known closer than (after, until]


class Reference(Protocol):
    """An independent record that dates membership changes the observed lists only bracket."""

    def start(self, ticker: str, after: date, until: date) -> date | None:
        """The day ``ticker`` joined within (after, until), if the record knows it."""

    def end(self, ticker: str, after: date, until: date) -> date | None:
        """The day ``ticker`` left within (after, until), if the record knows it."""


def _pair_renames(
    observed: Sequence[Snapshot],
    index: int,
    stayed: set[str],
    joined: set[str],
    reference: Reference | None,
) -> list[Rename]:
    """Ticker changes between ``observed[index - 1]`` and ``observed[index]``: a leaver and a
    joiner the changes table does not explain are one company when they share a CIK or a
    company name, or, failing both, when the joiner was added to the index before the earlier
    list (by the later lists' date-added column) and is the only such joiner of its sector,
    facing the only unexplained leaver of that sector, with no CIK telling them apart and
    neither change dated by ``reference``."""
    earlier, later = observed[index - 1], observed[index]
    found: list[tuple[str, str, str]] = []
    for old in sorted(stayed):
        old_cik = earlier.members.get(old)
        old_name = normalized_name(earlier.names.get(old, ""))
        for new in sorted(joined - {n for _o, n, _h in found}):
            new_name = normalized_name(later.names.get(new, ""))
            if old_cik and old_cik == later.members.get(new):
                found.append((old, new, f"same CIK {old_cik}"))
            elif old_name and old_name == new_name:
                found.append((old, new, f"same company name {later.names[new]!r}"))
            else:
                continue
            break
    left = stayed - {o for o, _n, _h in found}
    came = joined - {n for _o, n, _h in found}
    if reference is not None:  # a change the independent record dates is not a rename
        left = {t for t in left if reference.end(t, earlier.as_of, later.as_of) is None}
        came = {t for t in came if reference.start(t, earlier.as_of, later.as_of) is None}
    found += _pair_by_tenure(observed, index, left, came)
    renames = []
    for old, new, how in found:
        day = None
        if reference is not None:
            day = reference.end(old, earlier.as_of, later.as_of) or reference.start(
                new, earlier.as_of, later.as_of
            )
        renames.append(Rename(old, new, earlier.as_of, later.as_of, how, day))
    return renames


def _in_run(observed: Sequence[Snapshot], index: int, ticker: str, step: int) -> list[Snapshot]:
    """The lists from ``observed[index]`` on (``step`` 1) or back (-1) that show ``ticker``
    without a break."""
    run = []
    while 0 <= index < len(observed) and ticker in observed[index].members:
        run.append(observed[index])
        index += step
    return run


def _pair_by_tenure(
    observed: Sequence[Snapshot], index: int, left: set[str], came: set[str]
) -> list[tuple[str, str, str]]:
    earlier = observed[index - 1]

    def sector(ticker: str, i: int, step: int) -> str | None:
        return next(
            (
                s.sectors[ticker].casefold()
                for s in _in_run(observed, i, ticker, step)
                if ticker in s.sectors
            ),
            None,
        )

    tenured: dict[str, list[tuple[str, date]]] = defaultdict(list)
    for new in sorted(came):
        added = next(
            (d for s in _in_run(observed, index, new, 1) if (d := s.date_added.get(new))), None
        )
        if added is not None and added < earlier.as_of and (kind := sector(new, index, 1)):
            tenured[kind].append((new, added))
    leavers: dict[str, list[str]] = defaultdict(list)
    for old in sorted(left):
        if kind := sector(old, index - 1, -1):
            leavers[kind].append(old)
    later = observed[index]
    pairs = []
    for kind, joiners in sorted(tenured.items()):
        if len(joiners) == 1 and len(leavers[kind]) == 1:
            (new, added), old = joiners[0], leavers[kind][0]
            old_cik, new_cik = earlier.members.get(old), later.members.get(new)
            if old_cik and new_cik and old_cik != new_cik:
                continue  # two registrants: a merger or a reorganisation, not a new symbol
            if new_cik and new_cik in {c for t, c in earlier.members.items() if t != old}:
                continue  # a new share class of a member (GOOG, then GOOGL)
            how = (
                f"{new} was added on {added}, before {earlier.as_of}, and is the only such "
                f"joiner in {kind!r}, where {old} is the only unexplained leaver"
            )
            pairs.append((old, new, how))
    return pairs


def _with_bounds(
    states: list[tuple[date, set[str]]], bounds: list[tuple[date, str, bool]], first: set[str]
) -> list[tuple[date, set[str]]]:
    """``states`` with each ticker entering (or leaving) on its bound's day, and an implied
    list on each bound day that has none."""
    by_day = dict(states)
    for day, _ticker, _enters in bounds:
        if day not in by_day:
            earlier = [d for d in by_day if d < day]
            by_day[day] = set(by_day[max(earlier)]) if earlier else set(first)
    for day, ticker, enters in bounds:
        for when, state in by_day.items():
            present = (when >= day) == enters
            (state.add if present else state.discard)(ticker)
    return sorted(by_day.items())


def _date_start_members(
    implied: list[Snapshot], observed: Sequence[Snapshot], renames: Sequence[Rename], start: date
) -> None:
    """Give the implied list at ``start`` the date each member was first added, as the
    observed lists state it (under a later ticker too, after a ticker change)."""
    added: dict[str, date] = {}
    for snap in observed:
        added.update({t: d for t, d in snap.date_added.items() if d is not None})
    for rename in reversed(renames):
        if rename.new in added:
            added.setdefault(rename.old, added[rename.new])
    for index, snap in enumerate(implied):
        if snap.as_of == start:
            known = {t: added.get(t) for t in snap.members}
            implied[index] = Snapshot(snap.as_of, snap.source, snap.members, known)


def roll_changes(
    snapshots: Sequence[Snapshot],
    changes: pa.Table,
    start: date,
    reference: Reference | None = None,
) -> tuple[list[Snapshot], list[Rename], list[str]]:
    """Member lists implied by the changes table between and before the observed ones.

    Before each observed list the changes table is rolled backwards from it (an addition is
    undone, a removal re-opens the former member) down to the previous observed list, or
    to ``start`` before the first one; after the last one it is rolled forwards. One implied
    list is made per change date, listing the members at the end of that day. Where the
    roll-back disagrees with the earlier observed list, the observed lists win:

    - a member of the earlier list that the later one lists under another ticker with the
      same CIK or company name, with no change recorded for either, changed its ticker: the
      change is dated by ``reference`` when it knows the day, else at the later list;
    - any other member the changes table never removes leaves on the day ``reference``
      gives, else stays until the later list omits it; one it never adds joins on the day
      ``reference`` gives, else when the later list first shows it. Both are reported as
      changes the table misses.

    Returns:
        The implied lists (not the observed ones), the ticker changes, and warnings.
    """
    observed = sorted(snapshots, key=lambda s: s.as_of)
    days = _changes_by_day(changes)
    warnings: list[str] = []
    ciks: dict[str, tuple[str | None, str | None]] = {}  # ticker -> (CIK, how, if not listed)
    for snap in observed:  # later observations win, so a reused ticker gets its latest CIK
        ciks.update(
            {t: (c, snap.cik_sources.get(t)) for t, c in snap.members.items() if c or t not in ciks}
        )
    implied: list[Snapshot] = []
    renames: list[Rename] = []
    for index, later in enumerate(observed):
        earlier = observed[index - 1] if index else None
        low = earlier.as_of if earlier else start
        between = [c for c in days if low < c.day < later.as_of]
        members = set(later.members)
        states: list[tuple[date, set[str]]] = []
        for change in reversed(between):
            states.append((change.day, set(members)))
            members -= change.added
            members |= change.removed
        source = f"the changes table rolled back from {later.source}"
        if earlier is None:
            implied += [_virtual(day, state, ciks, source) for day, state in states]
            first = (
                f"the members on {start} implied by rolling the changes table back from "
                f"{later.source}"
            )
            implied.append(_virtual(start, members, ciks, first))
            continue
        touched = {t for c in between for t in (*c.added, *c.removed)}
        stayed = set(earlier.members) - members - touched
        joined = members - set(earlier.members) - touched
        pairs = _pair_renames(observed, index, stayed, joined, reference)
        renames += pairs
        bounds: list[tuple[date, str, bool]] = []  # (day, ticker, enters)
        for rename in pairs:
            if rename.day is not None:
                bounds += [(rename.day, rename.old, False), (rename.day, rename.new, True)]
        dated = {t for _d, t, _e in bounds}
        if reference is not None:
            for ticker in sorted(stayed - dated):
                if (day := reference.end(ticker, earlier.as_of, later.as_of)) is not None:
                    bounds.append((day, ticker, False))
            for ticker in sorted(joined - dated):
                if (day := reference.start(ticker, earlier.as_of, later.as_of)) is not None:
                    bounds.append((day, ticker, True))
        dated = {t for _d, t, _e in bounds}
        if (stayed | joined) - dated:
            warnings.append(
                f"the changes table between {earlier.as_of} and {later.as_of} misses "
                f"removal(s) {sorted(stayed - dated)[:10]} and addition(s) "
                f"{sorted(joined - dated)[:10]}: dated at {later.as_of}, the list that shows them"
            )
        # Undated: a leaver stays, a joiner waits, until the later list.
        states = [(day, (state | stayed) - joined) for day, state in states]
        states = _with_bounds(states, bounds, (set(earlier.members) | stayed) - joined)
        implied += [_virtual(day, state, ciks, source) for day, state in states]
    _date_start_members(implied, observed, renames, start)
    members = set(observed[-1].members)
    for change in (c for c in days if c.day > observed[-1].as_of):
        members = (members - change.removed) | change.added
        implied.append(
            _virtual(change.day, members, ciks, f"the changes table after {observed[-1].source}")
        )
    return implied, renames, warnings


def build_history(
    snapshots: Sequence[Snapshot],
    changes: pa.Table,
    start: date,
    window_days: int = DEFAULT_WINDOW_DAYS,
    reference: Reference | None = None,
    sightings: Sequence[CikObservation] = (),
) -> Extracted:
    """Membership spans since ``start`` from every observed member list and the changes table.

    The observed lists get the CIKs they lack from their runs and ``sightings``
    (``attach_ciks``), so that a ticker change between two lists without CIKs is found; then
    they and the lists the changes table implies between and before them (``roll_changes``)
    go through ``build_membership``, so the gap, flicker and rename rules apply across all
    of them, and every span says how its dates (and a CIK no list showed) were set.
    """
    if not snapshots:
        return Extracted(pa.Table.from_pylist([], schema=arrow_schema(INDEX_MEMBERSHIP)))
    snapshots, cik_warnings = attach_ciks(snapshots, sightings, changes)
    implied, renames, warnings = roll_changes(snapshots, changes, start, reference)
    built = build_membership([*implied, *snapshots], changes, window_days)
    built.warnings[:0] = [*cik_warnings, *warnings]
    return _mark_renames(built, renames)


def _mark_renames(built: Extracted, renames: Sequence[Rename]) -> Extracted:
    """Say in the spans that a ticker change is one company, and give the old ticker the
    new one's CIK when only the new one was observed with it."""
    rows = built.table.to_pylist()
    by_ticker: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for row in rows:
        by_ticker[row["ticker"]].append(row)
    for rename in renames:
        when = (
            f"on {rename.day}"
            if rename.day
            else f"between {rename.after} and {rename.until} (dated at the later list)"
        )
        ends = [
            r
            for r in by_ticker[rename.old]
            if r["valid_to"] and rename.after < r["valid_to"] <= rename.until
        ]
        starts = [
            r for r in by_ticker[rename.new] if rename.after < r["valid_from"] <= rename.until
        ]
        for old in ends[:1]:
            head, _to, tail = old["derivation"].partition("; to:")
            how_cik = f"{CIK_NOTE}{cik_of_span(tail)}" if CIK_NOTE in tail else ""
            old["derivation"] = head + (
                f"; to: ticker changed to {rename.new} {when} ({rename.how}), not an index change"
                + how_cik
            )
            for new in starts[:1]:
                if not old["cik"] and new["cik"]:
                    old["cik"] = new["cik"]
                    old["derivation"] += f"{CIK_NOTE}carried back from {rename.new}"
        for new in starts[:1]:
            new["derivation"] = (
                f"from: ticker changed from {rename.old} {when} ({rename.how}), not an index "
                "change; " + new["derivation"].split("; ", 1)[-1]
            )
    table = pa.Table.from_pylist(rows, schema=arrow_schema(INDEX_MEMBERSHIP))
    return Extracted(table, built.rejected, built.warnings)
