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
from typing import Any

import pyarrow as pa

from etl_service.src.models.records import Extracted, Rejected
from etl_service.src.models.schemas import INDEX_MEMBERSHIP, arrow_schema
from etl_service.src.models.tickers import canonical_ticker

logger = logging.getLogger(__name__)

DEFAULT_WINDOW_DAYS = 7


@dataclass(frozen=True)
class Snapshot:
    """The members listed on one date: canonical ticker -> CIK (and date added when known)."""

    as_of: date
    source: str
    members: Mapping[str, str | None]
    date_added: Mapping[str, date | None] = field(default_factory=dict)

    @classmethod
    def from_table(cls, as_of: date, table: pa.Table, source: str) -> Snapshot:
        """A snapshot of a table with ``ticker`` and ``cik`` (and optionally ``date_added``)."""
        tickers = [canonical_ticker(t) for t in table.column("ticker").to_pylist()]
        ciks = table.column("cik").to_pylist()
        added = (
            table.column("date_added").to_pylist()
            if "date_added" in table.column_names
            else [None] * len(tickers)
        )
        return cls(
            as_of,
            source,
            dict(zip(tickers, ciks, strict=True)),
            dict(zip(tickers, added, strict=True)),
        )


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
    cik = next(
        (c for s in reversed(snaps[run.start : run.end + 1]) if (c := s.members.get(ticker))),
        None,
    )
    return {
        "ticker": ticker,
        "cik": cik,
        "valid_from": valid_from,
        "valid_to": valid_to,
        "derivation": f"{how_from}; {how_to}",
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
