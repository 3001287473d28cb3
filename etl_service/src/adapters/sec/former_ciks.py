"""CIKs of former S&P 500 members: local resolution, the bundled mapping and its generator.

SEC's ticker file lists today's tickers only, so a company that left the index needs its CIK
found another way. ``build_former_ciks`` lists the removals (the bundled Wikipedia page's
changes table, plus the ended membership spans of ``sp500_ticker_start_end.csv`` the page
does not name), then resolves each one and records how in ``method`` (``<kind>: <detail>``):

- ``observed``: a constituents table listed the ticker with a CIK inside the membership
  (up to a month after the removal, for pages that lag), under a compatible name. Sightings
  of the ticker after the removal never count: the ticker, and even the name, may have
  passed to another company (``DD`` was E. I. du Pont until 2017, DuPont de Nemours since).
- ``observed by name``, ``… company_tickers.json … by ticker+name``, ``… sub.txt by name`` /
  ``by former name``: the name matches (``company_names``) a member sighting, SEC's 2024
  ticker file under the same ticker, or a filer of the 2009 Q3 Financial Statement Data Sets,
  close enough to the removal to confirm it (``NAME_WINDOW``), and no name match anywhere
  points to another CIK.
- ``ambiguous`` / ``not found``: the CIK stays null and the detail says why, listing the
  candidates that disagree or could not be confirmed. Nothing is dropped.

``SecNameResolver`` (live, ``company_index``) can then fill the nulls from SEC's company name
index and the candidates' filings; its methods start with ``sec cik-lookup-data`` or
``sec name+filings``.

API::

    resolve_local(members, observations) -> list[CikResolution]
    build_former_ciks(changes, ticker_spans, observations, resolver=None) -> list[CikResolution]
    load_bundled_former_ciks() -> pa.Table  # the bundled mapping, FORMER_CIKS_SCHEMA

Regenerate the bundled mapping from the bundled inputs (offline), rebuild the member-span
extract from the shared raw files first, or fill the gaps live (needs ETL_SEC_USER_AGENT)::

    python -m etl_service.src.adapters.sec.former_ciks [--spans-from ../shared/data] [--live]
"""

from __future__ import annotations

import argparse
import csv
import io
import logging
from collections import Counter, defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, replace
from datetime import date, timedelta
from functools import partial
from pathlib import Path
from typing import Protocol, TypeVar

import pyarrow as pa

from etl_service.errors import EtlError, InputError, SchemaError
from etl_service.settings import Settings
from etl_service.snapshot import SNAPSHOT_DIR, WIKIPEDIA_PAGE
from etl_service.src.adapters.files import csv_text, read_text
from etl_service.src.adapters.sec.cik_observations import (
    CikObservation,
    ObservationKind,
    collect_member_spans,
    read_company_tickers,
    read_fsds_filers,
    read_fsds_instances,
    read_member_spans,
    write_member_spans,
)
from etl_service.src.adapters.sec.company_names import (
    MatchLevel,
    NameKey,
    match_level,
    name_key,
    names_match,
    same_lead_word,
)
from etl_service.src.adapters.wikipedia import parse_page, read_page_file
from etl_service.src.adapters.wikipedia.normalize import normalize_cik

logger = logging.getLogger(__name__)

FORMER_CIKS_DIR = SNAPSHOT_DIR / "sec"
FORMER_MEMBER_CIKS = FORMER_CIKS_DIR / "former_member_ciks.csv"
MEMBER_SPANS = SNAPSHOT_DIR / "constituents" / "constituent_ciks.csv.gz"
TICKER_SPANS = SNAPSHOT_DIR / "constituents" / "sp500_ticker_start_end.csv.gz"
COMPANY_TICKERS = FORMER_CIKS_DIR / "company_tickers_2024-05.json.gz"
FSDS_SUB = FORMER_CIKS_DIR / "fsds_2009q3_sub.txt.gz"

FORMER_CIKS_SCHEMA = pa.schema(
    [
        pa.field("ticker", pa.string()),
        pa.field("name", pa.string()),
        pa.field("removed", pa.date32(), nullable=False),
        pa.field("cik", pa.string()),
        pa.field("method", pa.string(), nullable=False),
    ]
)
"""The mapping: CIK zero-padded to 10 digits, null when unresolved (``method`` says why)."""

PAGE_LAG = timedelta(days=31)
"""How long after a removal a constituents table may still list the company."""
SAME_REMOVAL = timedelta(days=90)
"""A membership span ending this close to a Wikipedia removal of its ticker is that removal."""
NAME_WINDOW = timedelta(days=3 * 365)
"""How long before a removal a name sighting still confirms a CIK. Names pass to new
registrants: ``Kraft Foods`` was CIK 1103982 in 2009 but CIK 1545158 when it left in 2015,
``Noble Corp`` moved from Cayman (1169055) to a UK plc in 2013."""

_T = TypeVar("_T")


@dataclass(frozen=True)
class TickerSpan:
    """One membership of a ticker: first day and (exclusive) end, None while a member."""

    ticker: str
    start: date
    end: date | None


@dataclass(frozen=True)
class FormerMember:
    """A company removed from the index.

    ``member_since`` bounds the membership when known; ``name_added`` is set when the name is
    not from the removal but from the addition on that day.
    """

    ticker: str | None
    name: str | None
    removed: date
    member_since: date | None = None
    name_added: date | None = None


@dataclass(frozen=True)
class CikResolution:
    """The CIK found for a former member (None if not found) and how it was found."""

    ticker: str | None
    name: str | None
    removed: date
    cik: str | None
    method: str

    @property
    def resolved(self) -> bool:
        return self.cik is not None


class NameResolver(Protocol):
    """Anything that resolves former members by name (``company_index.SecNameResolver``)."""

    def resolve(self, members: Sequence[FormerMember]) -> list[CikResolution]:
        """One resolution per member, in order."""
        ...


def read_ticker_spans(path: Path) -> list[TickerSpan]:
    """``ticker,start_date,end_date`` rows (fja05680/sp500), plain or gzipped."""
    reader = csv.DictReader(csv_text(read_text(path)))
    if not {"ticker", "start_date", "end_date"} <= set(reader.fieldnames or []):
        raise SchemaError(
            f"need ticker,start_date,end_date; found {reader.fieldnames}", source=str(path)
        )
    spans: list[TickerSpan] = []
    for line, row in enumerate(reader, start=2):
        try:
            start = date.fromisoformat(row["start_date"])
            end = date.fromisoformat(row["end_date"]) if row["end_date"] else None
        except ValueError as exc:
            raise InputError(f"bad date: {exc}", source=str(path), line=line) from exc
        spans.append(TickerSpan(row["ticker"].strip(), start, end))
    return spans


def _nearest(day: date, candidates: Iterable[tuple[date, _T]]) -> _T | None:
    """The value dated closest to ``day``, within ``SAME_REMOVAL``; the first one on a tie."""
    best: tuple[timedelta, _T] | None = None
    for when, value in candidates:
        gap = abs(when - day)
        if gap <= SAME_REMOVAL and (best is None or gap < best[0]):
            best = (gap, value)
    return best[1] if best else None


def former_members(changes: pa.Table, spans: Sequence[TickerSpan]) -> list[FormerMember]:
    """Every removal of the changes table, plus ended spans of tickers no longer in the index.

    A span ending within ``SAME_REMOVAL`` of a removal of its ticker in the changes table is
    that removal and gives it ``member_since``. A span the table does not name takes its name
    from the table's addition of the ticker when that is within ``SAME_REMOVAL`` of its start.
    Spans of tickers that are members again are left out.
    """
    ended: dict[str, list[TickerSpan]] = defaultdict(list)
    for span in spans:
        if span.end is not None:
            ended[span.ticker].append(span)
    added: dict[str, list[tuple[date, str]]] = defaultdict(list)
    paired: set[TickerSpan] = set()
    members: list[FormerMember] = []
    for row in changes.to_pylist():
        if row["added_ticker"] and row["added_name"]:
            added[row["added_ticker"]].append((row["change_date"], row["added_name"]))
        ticker, name, day = row["removed_ticker"], row["removed_name"], row["change_date"]
        if not (ticker or name):
            continue
        pair = _nearest(day, ((s.end, s) for s in ended.get(ticker or "", []) if s.end))
        if pair is not None:
            paired.add(pair)
        members.append(FormerMember(ticker, name, day, pair.start if pair else None))
    current = {s.ticker for s in spans if s.end is None}
    for span in spans:
        if span.end is None or span in paired or span.ticker in current:
            continue
        addition = _nearest(span.start, ((d, (d, n)) for d, n in added.get(span.ticker, [])))
        name_added, name = addition or (None, None)
        members.append(FormerMember(span.ticker, name, span.end, span.start, name_added))
    return sorted(members, key=lambda m: (m.removed, m.ticker or "", m.name or ""))


# --- local resolution ---------------------------------------------------------------------


@dataclass
class _Index:
    members_by_ticker: dict[str, list[CikObservation]]
    by_base: dict[str, list[tuple[CikObservation, NameKey]]]

    @classmethod
    def of(cls, observations: Iterable[CikObservation]) -> _Index:
        by_ticker: dict[str, list[CikObservation]] = defaultdict(list)
        by_base: dict[str, list[tuple[CikObservation, NameKey]]] = defaultdict(list)
        for obs in observations:
            if obs.kind is ObservationKind.MEMBER and obs.ticker:
                by_ticker[obs.ticker].append(obs)
            key = name_key(obs.name)
            if key.base:
                by_base[key.base].append((obs, key))
        return cls(dict(by_ticker), dict(by_base))


@dataclass(frozen=True)
class _Window:
    """The dates between other removals of the member's ticker under the member's name."""

    after: date
    before: date

    def holds(self, obs: CikObservation) -> bool:
        return obs.seen_to > self.after and obs.seen_from < self.before


def _cite(obs: CikObservation, until: date) -> str:
    """The sighting of ``obs`` to name: its last one up to ``until``, else its first."""
    if obs.seen_to <= until:
        return f"{obs.source_to} ({obs.seen_to.isoformat()})"
    return f"{obs.source_from} ({obs.seen_from.isoformat()})"


def _observed(member: FormerMember, index: _Index) -> CikResolution | None:
    """The member's own sighting: its ticker's last one inside its membership.

    Sightings on or before the removal come first; the month after it only counts when there
    are none (a page that lags). The name only has to start with the same word (``Unum``
    listed as ``Unum Group``), but it must be the name of that last sighting: an older one
    under the removal's name, with another company in between, is not the member's.
    """
    if not member.ticker or not (member.name or member.member_since):
        return None  # the ticker alone, at an unknown time, proves nothing
    until = member.removed + PAGE_LAG
    since = member.member_since - PAGE_LAG if member.member_since else date.min
    in_period = [
        o
        for o in index.members_by_ticker.get(member.ticker, [])
        if o.seen_from <= until and o.seen_to >= since
    ]
    if not in_period:
        return None
    best = max(in_period, key=lambda o: (o.seen_from <= member.removed, min(o.seen_to, until)))
    how = f"observed: {_cite(best, until)}"
    if not member.name:
        how += f", by ticker within the membership from {member.member_since}"
    elif not names_match(member.name, best.name):
        if not same_lead_word(member.name, best.name):
            return None
        how += f", listed as {best.name!r}"
    return CikResolution(member.ticker, member.name or best.name, member.removed, best.cik, how)


def _usable(obs: CikObservation, member: FormerMember) -> bool:
    """Whether a name sighting can confirm ``member``'s CIK at its removal date.

    After an acquisition the buyer often takes the name (WellPoint, 2004), so a filer's name
    counts only from before the removal; a listing counts only under the same ticker.
    """
    until = member.removed + PAGE_LAG
    if obs.kind is ObservationKind.MEMBER:
        return obs.seen_from <= until and obs.seen_to >= member.removed - NAME_WINDOW
    if obs.kind is ObservationKind.LISTING:
        return obs.ticker == member.ticker
    if obs.kind is ObservationKind.FORMER_NAME:
        return obs.seen_from - PAGE_LAG <= member.removed <= obs.seen_to
    return member.removed - NAME_WINDOW <= obs.seen_to <= until


def _evidence(obs: CikObservation, level: MatchLevel) -> str:
    """``<how>: <detail>``; the part before the colon is the method's kind."""
    if obs.kind is ObservationKind.MEMBER:
        return f"observed by name: {_cite(obs, obs.seen_to)} {level} {obs.name!r} as {obs.ticker}"
    if obs.kind is ObservationKind.LISTING:
        return f"{obs.source_to} by ticker+name: {level} {obs.name!r}"
    if obs.kind is ObservationKind.FORMER_NAME:
        return f"{obs.source_to} by former name: {level} {obs.name!r} (from {obs.seen_from})"
    return f"{obs.source_to} by name: {level} {obs.name!r} (filed {obs.seen_to})"


def _by_name(member: FormerMember, index: _Index, window: _Window) -> CikResolution | None:
    """The CIK that every name match points to, if one of them is close enough to confirm it.

    Matches that cannot confirm (too far in time, another ticker) still count as conflicts:
    ``Alcoa`` (removed 2016) is ``ALCOA INC`` 4281 among the 2009 filers but ``Alcoa Corp``
    1675149 in SEC's 2024 ticker file, so it stays null as ``ambiguous``.
    """
    if not member.name:
        return None
    key = name_key(member.name)
    found: list[tuple[CikObservation, MatchLevel]] = []
    for obs, obs_key in index.by_base.get(key.base, []):
        level = match_level(key, obs_key)
        if level is not None and window.holds(obs):
            found.append((obs, level))
    if not found:
        return None
    if any(o.kind is ObservationKind.LISTING and o.ticker == member.ticker for o, _ in found):
        # SEC's own ticker match outweighs a similar name listed under another ticker.
        found = [
            f
            for f in found
            if f[0].kind is not ObservationKind.LISTING or f[0].ticker == member.ticker
        ]

    def listed(matches: Iterable[tuple[CikObservation, MatchLevel]]) -> str:
        return "; ".join(
            sorted({f"{o.cik} {o.name!r} ({_cite(o, o.seen_to)})" for o, _ in matches})
        )

    null = partial(CikResolution, member.ticker, member.name, member.removed, None)
    if len({obs.cik for obs, _ in found}) > 1:
        return null(f"ambiguous: {listed(found)}")
    confirming = [f for f in found if _usable(f[0], member)]
    if not confirming:
        return null(f"not found: unconfirmed name match {listed(found)}, too far from the removal")
    obs, level = max(
        confirming,
        key=lambda f: (f[1] is MatchLevel.EXACT, -abs((f[0].seen_to - member.removed).days)),
    )
    how = _evidence(obs, level)
    if len(confirming) > 1:
        how += f" (+{len(confirming) - 1} agreeing)"
    return CikResolution(member.ticker, member.name, member.removed, obs.cik, how)


def _windows(members: Sequence[FormerMember]) -> list[_Window]:
    """Per member, the dates of the nearest other removals of its ticker under its name.

    ``AGN``/``Allergan`` left the index in 2015 (Allergan Inc.) and in 2020 (Allergan plc, the
    former Actavis): name evidence from before 2015 cannot speak for the 2020 removal.
    """
    by_ticker: dict[str, list[FormerMember]] = defaultdict(list)
    for m in members:
        if m.ticker and m.name:
            by_ticker[m.ticker].append(m)
    windows: list[_Window] = []
    for m in members:
        same = [
            o.removed
            for o in by_ticker.get(m.ticker or "", [])
            if o is not m and m.name and o.name and names_match(m.name, o.name)
        ]
        windows.append(
            _Window(
                max((d for d in same if d < m.removed), default=date.min),
                min((d for d in same if d > m.removed), default=date.max),
            )
        )
    return windows


def resolve_local(
    members: Sequence[FormerMember], observations: Iterable[CikObservation]
) -> list[CikResolution]:
    """Resolve each member from local observations; unresolved ones get a null CIK and why."""
    index = _Index.of(observations)
    out: list[CikResolution] = []
    for member, window in zip(members, _windows(members), strict=True):
        found = _observed(member, index) or _by_name(member, index, window)
        if found is None:
            reason = f"not found: no sighting of {member.ticker} as a member before the removal"
            reason += "; no local name match" if member.name else "; no name to search"
            found = CikResolution(member.ticker, member.name, member.removed, None, reason)
        if member.name_added and found.name == member.name:
            found = replace(
                found, method=f"{found.method}; name from the {member.name_added} addition"
            )
        out.append(found)
    return out


# --- the bundled mapping ------------------------------------------------------------------


def load_bundled_observations() -> list[CikObservation]:
    """Every local observation bundled with the package (see ``snapshot/*/README.md``)."""
    return [
        *read_member_spans(MEMBER_SPANS),
        *read_company_tickers(COMPANY_TICKERS),
        *read_fsds_filers(FSDS_SUB, "sec fsds 2009q3 sub.txt"),
    ]


def load_ticker_sightings() -> list[CikObservation]:
    """Bundled sightings of a ticker with its CIK: SEC's ticker file and the 2009 XBRL
    instance names (``cik_observations.read_fsds_instances``)."""
    return [
        *read_company_tickers(COMPANY_TICKERS),
        *read_fsds_instances(FSDS_SUB, "sec fsds 2009q3 sub.txt"),
    ]


def build_former_ciks(
    changes: pa.Table,
    ticker_spans: Sequence[TickerSpan],
    observations: Iterable[CikObservation],
    resolver: NameResolver | None = None,
) -> list[CikResolution]:
    """Resolve every former member locally, then let ``resolver`` try the ones still null.

    Args:
        changes: an ``index_changes`` table (the Wikipedia changes table).
        ticker_spans: membership spans; ended spans the changes table lacks are added.
        observations: local evidence (``load_bundled_observations``).
        resolver: a live resolver for the gaps; a gap it cannot fill keeps the local reason.
    """
    members = former_members(changes, ticker_spans)
    resolved = resolve_local(members, observations)
    if resolver is None:
        return resolved
    gaps = [i for i, r in enumerate(resolved) if not r.resolved]
    live = resolver.resolve([members[i] for i in gaps])
    for i, found in zip(gaps, live, strict=True):
        local = resolved[i]
        resolved[i] = (
            found
            if found.resolved
            else replace(local, method=f"{local.method}; live: {found.method}")
        )
    return resolved


def to_table(resolutions: Iterable[CikResolution]) -> pa.Table:
    """Resolutions as an Arrow table of ``FORMER_CIKS_SCHEMA``."""
    rows = [
        {"ticker": r.ticker, "name": r.name, "removed": r.removed, "cik": r.cik, "method": r.method}
        for r in resolutions
    ]
    return pa.Table.from_pylist(rows, schema=FORMER_CIKS_SCHEMA)


def write_former_ciks(resolutions: Iterable[CikResolution], path: Path) -> None:
    """Write the mapping as CSV (``ticker,name,removed,cik,method``)."""
    out = io.StringIO(newline="")
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(FORMER_CIKS_SCHEMA.names)
    for r in resolutions:
        writer.writerow((r.ticker or "", r.name or "", r.removed, r.cik or "", r.method))
    path.write_text(out.getvalue(), encoding="utf-8")


def read_former_ciks(path: Path) -> pa.Table:
    """A mapping written by ``write_former_ciks`` as a ``FORMER_CIKS_SCHEMA`` table.

    Raises:
        SchemaError: the columns are not ``ticker,name,removed,cik,method``.
        InputError: a date or CIK is malformed (the message names the line).
    """
    reader = csv.DictReader(csv_text(read_text(path)))
    if reader.fieldnames != FORMER_CIKS_SCHEMA.names:
        raise SchemaError(
            f"expected columns {FORMER_CIKS_SCHEMA.names}; found {reader.fieldnames}",
            source=str(path),
        )
    rows: list[CikResolution] = []
    for line, row in enumerate(reader, start=2):
        try:
            removed = date.fromisoformat(row["removed"])
            cik = normalize_cik(row["cik"])
        except ValueError as exc:
            raise InputError(str(exc), source=str(path), line=line) from exc
        if not row["method"]:
            raise InputError("empty method", source=str(path), line=line, field="method")
        rows.append(
            CikResolution(row["ticker"] or None, row["name"] or None, removed, cik, row["method"])
        )
    return to_table(rows)


def load_bundled_former_ciks() -> pa.Table:
    """The bundled mapping of former members to CIKs (``FORMER_CIKS_SCHEMA``)."""
    return read_former_ciks(FORMER_MEMBER_CIKS)


def method_counts(resolutions: Iterable[CikResolution]) -> Counter[str]:
    """How many resolutions each kind of method produced (the text before the first colon)."""
    return Counter(r.method.split(":", 1)[0] for r in resolutions)


def main(argv: Sequence[str] | None = None) -> int:
    """Regenerate the bundled mapping; ``--spans-from`` and ``--live`` as in the module doc."""
    parser = argparse.ArgumentParser(prog="python -m etl_service.src.adapters.sec.former_ciks")
    parser.add_argument("--out", type=Path, default=FORMER_MEMBER_CIKS)
    parser.add_argument(
        "--spans-from",
        type=Path,
        metavar="SHARED_DATA",
        help="rebuild the member-span extract from the raw Wikipedia pages and CSVs first",
    )
    parser.add_argument("--live", action="store_true", help="fill the gaps from SEC (network)")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(levelname)s %(message)s")
    try:
        if args.spans_from:
            pages = sorted(args.spans_from.glob("wikipedia/*/*.html"))
            write_member_spans(collect_member_spans(args.spans_from, pages), MEMBER_SPANS)
        resolver = _live_resolver(Settings()) if args.live else None
        page = parse_page(read_page_file(WIKIPEDIA_PAGE), str(WIKIPEDIA_PAGE))
        resolutions = build_former_ciks(
            page.changes.table,
            read_ticker_spans(TICKER_SPANS),
            load_bundled_observations(),
            resolver,
        )
    except EtlError as exc:
        logger.error("%s", exc)
        return exc.exit_code
    write_former_ciks(resolutions, args.out)
    for method, count in sorted(method_counts(resolutions).items()):
        logger.info("%5d %s", count, method)
    logger.info("wrote %d rows to %s", len(resolutions), args.out)
    return 0


def _live_resolver(settings: Settings) -> NameResolver:
    from etl_service.src.adapters.http import build_http_client
    from etl_service.src.adapters.sec.client import build_sec_fetcher
    from etl_service.src.adapters.sec.company_index import SecNameResolver

    fetcher = build_sec_fetcher(
        build_http_client(), settings.http, settings.sec_user_agent, settings.sec.max_requests_per_s
    )
    return SecNameResolver(fetcher, settings.sec.cik_lookup_url, settings.sec.base_url)


if __name__ == "__main__":
    raise SystemExit(main())
