"""CIKs for observed member lists that do not carry them, from dated sightings of the ticker.

No list before 2021 names CIKs, so without this a company renamed between two such lists
(WLP -> ANTM) looks like a removal and an addition. Two kinds of evidence give a member a CIK:

- **its run:** the consecutive lists that show the ticker, with no changes-table removal of
  it between them, are one company; a CIK any of them shows is the CIK of all, when they
  show only one;
- **a sighting:** the ticker seen with a CIK elsewhere (an SEC XBRL instance named after the
  ticker, SEC's ticker file), dated inside the run's bounds (after the last list before the
  run that lacks the ticker, before the first one after it that lacks it), with no removal of
  the ticker between the sighting and the run, and under a name that agrees with the list's.
  Only one CIK may qualify.

The lists come back with the CIKs filled in and, per filled ticker, where the CIK came from
(``Snapshot.cik_sources``), which the spans' ``derivation`` repeats.
"""

from __future__ import annotations

import logging
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import date

import pyarrow as pa

from etl_service.src.adapters.sec.cik_observations import CikObservation
from etl_service.src.models.tickers import canonical_ticker
from etl_service.src.transforms.member_snapshot import Snapshot, normalized_name

logger = logging.getLogger(__name__)


def names_agree(a: str, b: str) -> bool:
    """Whether two spellings of a company name share a word or the initials of one
    (``Block H&R`` / ``H&R BLOCK INC``, ``TE Connectivity`` / ``TYCO ELECTRONICS``)."""
    words_a, words_b = normalized_name(a).split(), normalized_name(b).split()
    if not words_a or not words_b:
        return False
    if words_a == words_b:
        return True
    if {w for w in words_a if len(w) > 1} & {w for w in words_b if len(w) > 1}:
        return True
    initials_a, initials_b = "".join(w[0] for w in words_a), "".join(w[0] for w in words_b)
    return (len(initials_a) > 1 and initials_a in words_b) or (
        len(initials_b) > 1 and initials_b in words_a
    )


def _removals(changes: pa.Table | None) -> dict[str, list[date]]:
    removed: dict[str, list[date]] = defaultdict(list)
    if changes is not None:
        for row in changes.select(["change_date", "removed_ticker"]).to_pylist():
            if row["removed_ticker"]:
                removed[canonical_ticker(row["removed_ticker"])].append(row["change_date"])
    return removed


@dataclass(frozen=True)
class _Run:
    ticker: str
    indices: tuple[int, ...]
    low: date  # the last list before the run lacking the ticker (date.min: none)
    high: date  # the first list after it lacking the ticker (date.max: none)


def _runs(snaps: Sequence[Snapshot], removed: dict[str, list[date]]) -> list[_Run]:
    runs: list[_Run] = []
    for ticker in sorted({t for s in snaps for t in s.members}):
        current: list[int] = []
        for i, snap in enumerate(snaps):
            broken = current and any(
                snaps[current[-1]].as_of < d <= snap.as_of for d in removed[ticker]
            )
            if ticker in snap.members and not broken:
                current.append(i)
                continue
            if current:
                runs.append(_bounded(ticker, current, snaps))
            current = [i] if ticker in snap.members else []
        if current:
            runs.append(_bounded(ticker, current, snaps))
    return runs


def _bounded(ticker: str, indices: list[int], snaps: Sequence[Snapshot]) -> _Run:
    first, last = indices[0], indices[-1]
    low = snaps[first - 1].as_of if first > 0 else date.min
    high = snaps[last + 1].as_of if last + 1 < len(snaps) else date.max
    return _Run(ticker, tuple(indices), low, high)


def attach_ciks(
    snapshots: Sequence[Snapshot],
    sightings: Sequence[CikObservation],
    changes: pa.Table | None = None,
) -> tuple[list[Snapshot], list[str]]:
    """``snapshots`` (sorted by date) with missing CIKs filled from their runs and from
    ``sightings``, and a warning for each run whose evidence names more than one CIK."""
    snaps = sorted(snapshots, key=lambda s: s.as_of)
    removed = _removals(changes)
    by_ticker: dict[str, list[CikObservation]] = defaultdict(list)
    for sighting in sightings:
        if sighting.ticker:
            by_ticker[canonical_ticker(sighting.ticker)].append(sighting)
    filled: dict[int, dict[str, tuple[str, str]]] = defaultdict(dict)
    warnings: list[str] = []
    for run in _runs(snaps, removed):
        missing = [i for i in run.indices if not snaps[i].members[run.ticker]]
        if not missing:
            continue
        shown = {c for i in run.indices if (c := snaps[i].members[run.ticker])}
        if len(shown) == 1:
            cik = next(iter(shown))
            source = next(
                snaps[i].source for i in run.indices if snaps[i].members[run.ticker] == cik
            )
            found = (cik, f"listed with the same ticker in {source}")
        elif shown:
            continue  # several CIKs under one ticker: leave the lists as they are
        else:
            agreeing = _agreeing(run, snaps, by_ticker[run.ticker], removed[run.ticker])
            ciks = {s.cik for s in agreeing}
            if len(ciks) > 1:
                warnings.append(
                    f"{run.ticker} ({snaps[run.indices[0]].as_of} to "
                    f"{snaps[run.indices[-1]].as_of}): sightings name CIKs {sorted(ciks)}; "
                    "none attached"
                )
                continue
            if not ciks:
                continue
            best = agreeing[0]
            found = (
                best.cik,
                f"{best.source_from}: {best.ticker} {best.kind} of {best.name!r} "
                f"({best.seen_from})",
            )
        for i in missing:
            filled[i][run.ticker] = found
    out = []
    for i, snap in enumerate(snaps):
        if not filled[i]:
            out.append(snap)
            continue
        members = {t: c or filled[i].get(t, (None, ""))[0] for t, c in snap.members.items()}
        sources = {**snap.cik_sources, **{t: how for t, (_c, how) in filled[i].items()}}
        out.append(replace(snap, members=members, cik_sources=sources))
    logger.info(
        "member lists: %d CIKs attached from runs and sightings",
        sum(len(f) for f in filled.values()),
    )
    return out, warnings


def _agreeing(
    run: _Run,
    snaps: Sequence[Snapshot],
    sightings: Sequence[CikObservation],
    removals: Sequence[date],
) -> list[CikObservation]:
    first, last = snaps[run.indices[0]].as_of, snaps[run.indices[-1]].as_of
    names = {n for i in run.indices if (n := snaps[i].names.get(run.ticker))}
    agreeing = []
    for sighting in sightings:
        if not (run.low < sighting.seen_to and sighting.seen_from < run.high):
            continue
        # A removal of the ticker between the sighting and the run: another company's.
        if any(sighting.seen_to < d <= first or last < d <= sighting.seen_from for d in removals):
            continue
        if names and not any(names_agree(n, sighting.name) for n in names):
            continue
        agreeing.append(sighting)
    return sorted(agreeing, key=lambda s: (s.seen_from, s.source_from))
