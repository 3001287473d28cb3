"""Incremental financials: fetch again only the companies that filed since their cursor.

Each company has a cursor: its latest known 10-Q/10-K accession and filing date, and the
day through which EDGAR's daily index has been read for it. A run reads the daily index
for the business days since the oldest of those days (a few requests, whatever the number
of companies), fetches the companyfacts of the companies with a periodic filing after their
day and of those without a cursor, and takes the other companies' reports from the
previous load, so the curated tables stay complete. The cursors live with the data (in the
database), are staged by the run and saved only once its load has committed: a run that
dies leaves the old cursors, which only makes the next run fetch more.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Protocol

import pyarrow as pa
import pyarrow.compute as pc

from etl_service.src.adapters.sec.daily_index import Filing
from etl_service.src.models.records import Extracted
from etl_service.src.models.schemas import SPLIT_EVENTS


@dataclass(frozen=True)
class FilingCursor:
    """How far a company's financials are known to be up to date."""

    cik: str
    accession: str | None
    filed: date | None
    checked_through: date
    """Filings up to this day (included) are in the stored reports."""


class FilingState(Protocol):
    """Where the cursors and the previous load's financials are kept (the run's database)."""

    def cursors(self) -> dict[str, FilingCursor]:
        """Every company's cursor, by 10-digit CIK."""
        ...

    def previous(self, ciks: Collection[str]) -> Extracted:
        """The stored quarterly reports of ``ciks``, with their split events
        (``related["split_events"]``) and quarantined rows."""
        ...

    def stage(self, cursors: Sequence[FilingCursor]) -> None:
        """Keep ``cursors`` to be saved by ``save`` once the run's load has committed."""
        ...

    def save(self) -> None:
        """Write the staged cursors; when none were staged, drop every cursor (the loaded
        financials came from elsewhere)."""
        ...


@dataclass(frozen=True)
class Plan:
    """Which companies a run fetches, which it keeps, and why, in one line."""

    fetch: list[str]
    keep: list[str]
    note: str


def full_plan(wanted: Sequence[str], why: str) -> Plan:
    return Plan(list(wanted), [], f"financials: every company fetched: {why}")


def index_window(
    wanted: Sequence[str], cursors: Mapping[str, FilingCursor], through: date
) -> tuple[date, date] | None:
    """The days of daily index to read: after the oldest cursor of ``wanted`` through
    ``through``; None when no company of ``wanted`` has a cursor."""
    known = [cursors[c].checked_through for c in wanted if c in cursors]
    if not known:
        return None
    return min(known) + timedelta(days=1), through


def plan_fetch(
    wanted: Sequence[str], cursors: Mapping[str, FilingCursor], latest: Mapping[str, Filing]
) -> Plan:
    """Fetch the companies without a cursor and those that filed after theirs; keep the rest."""
    new = [c for c in wanted if c not in cursors]
    filed = [c for c in wanted if c in cursors and _filed_since(latest.get(c), cursors[c])]
    fetch = sorted({*new, *filed})
    keep = [c for c in wanted if c not in set(fetch)]
    note = (
        f"financials: incremental: {len(fetch)} of {len(wanted)} companies fetched "
        f"({len(filed)} with new 10-Q/10-K filings or amendments, {len(new)} without a "
        f"cursor); {len(keep)} skipped, no periodic filing since their cursor, their "
        "reports kept from the last load"
    )
    return Plan(fetch, keep, note)


def _filed_since(filing: Filing | None, cursor: FilingCursor) -> bool:
    return filing is not None and filing.filed > cursor.checked_through


def next_cursors(
    plan: Plan,
    answered: Collection[str],
    fresh: pa.Table,
    latest: Mapping[str, Filing],
    cursors: Mapping[str, FilingCursor],
    through: date,
) -> list[FilingCursor]:
    """The cursors after the run: checked through ``through`` for every company the source
    answered for and every kept one; a company that could not be fetched keeps its old one."""
    newest = _newest_reports(fresh)
    out = []
    for cik in sorted(answered):
        candidates = [x for x in (newest.get(cik), _as_pair(latest.get(cik))) if x is not None]
        filed, accession = max(candidates) if candidates else (None, None)
        out.append(FilingCursor(cik, accession, filed, through))
    for cik in plan.keep:
        old = cursors[cik]
        out.append(FilingCursor(cik, old.accession, old.filed, max(through, old.checked_through)))
    return out


def _as_pair(filing: Filing | None) -> tuple[date, str] | None:
    return None if filing is None else (filing.filed, filing.accession)


def _newest_reports(reports: pa.Table) -> dict[str, tuple[date, str]]:
    """Each company's latest (filing date, accession) among ``reports``."""
    newest: dict[str, tuple[date, str]] = {}
    for cik, filed, accession in zip(
        reports.column("cik").to_pylist(),
        reports.column("filed").to_pylist(),
        reports.column("accession").to_pylist(),
        strict=True,
    ):
        if (
            filed is not None
            and accession is not None
            and (cik not in newest or (filed, accession) > newest[cik])
        ):
            newest[cik] = (filed, accession)
    return newest


def combine(fresh: Extracted, previous: Extracted) -> Extracted:
    """``fresh`` with the ``previous`` companies' reports, splits and rejects, in CIK order."""
    table = _by_cik(pa.concat_tables([fresh.table, previous.table.cast(fresh.table.schema)]))
    name = SPLIT_EVENTS.name
    splits = pa.concat_tables([fresh.related[name], previous.related[name]])
    return Extracted(
        table,
        [*fresh.rejected, *previous.rejected],
        [*fresh.warnings, *previous.warnings],
        {**fresh.related, name: _by_cik(splits)},
    )


def _by_cik(table: pa.Table) -> pa.Table:
    """Rows ordered by CIK, each company's rows in their order (a stable sort)."""
    return table.take(pc.sort_indices(table, [("cik", "ascending")]))
