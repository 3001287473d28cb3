"""Building the curated tables from the extracted sources, on any SQL engine.

The steps are the shared SQL files plus the record-level membership rule; the engine
(DuckDB over Arrow here, Spark SQL in the Spark and Glue pipelines) only executes them, so
every engine computes the same tables.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from typing import Any

import pyarrow as pa
import pyarrow.compute as pc

from etl_service.src.adapters.member_lists import MemberList
from etl_service.src.adapters.sec.cik_observations import CikObservation
from etl_service.src.models.records import Extracted, Rejected
from etl_service.src.models.schemas import (
    CURATED_TABLES,
    SECTOR_AGGREGATES,
    SPLIT_EVENTS,
    arrow_schema,
)
from etl_service.src.transforms.former_members import build_former_members, with_former_ciks
from etl_service.src.transforms.membership import Reference, Snapshot, build_history
from etl_service.src.transforms.prices_pe import calendar_periods
from etl_service.src.transforms.sql_runner import SqlSession, sorted_by

DEFAULT_HISTORY_START = date(1996, 1, 2)
"""How far back membership is rebuilt (the independent record starts there too)."""


@dataclass
class SourceTables:
    """The extracted inputs of one run: the page's tables, financials, closes, and the
    observed member lists the membership history is built from."""

    companies: Extracted
    changes: Extracted
    financials: Extracted
    closes: Extracted
    as_of: date
    snapshot_source: str
    history: list[MemberList] = field(default_factory=list)
    reference: Reference | None = None
    former_ciks: pa.Table | None = None
    history_start: date = DEFAULT_HISTORY_START
    ticker_sightings: list[CikObservation] = field(default_factory=list)


@dataclass
class Curated:
    """The curated tables as frames of the session's engine, keyed by table name; the
    processed source tables (Arrow); and everything rejected."""

    tables: dict[str, Any]
    processed: dict[str, pa.Table]
    rejected: list[Rejected]
    warnings: list[str]


def curate(sources: SourceTables, engine: SqlSession) -> Curated:
    """Build every curated table from ``sources`` in ``engine``'s session.

    The inputs cross into the engine once (Arrow at the edge); every result stays a frame
    of that engine, in no particular row order.
    """
    companies = sources.companies.table
    changes = sources.changes.table
    snapshot = Snapshot.from_table(sources.as_of, companies, sources.snapshot_source)
    observed = [Snapshot.from_table(m.as_of, m.members.table, m.source) for m in sources.history]
    membership = build_history(
        [snapshot, *observed],
        changes,
        sources.history_start,
        reference=sources.reference,
        sightings=sources.ticker_sightings,
    )
    former = build_former_members(
        membership.table, companies, sources.history, changes, sources.former_ciks
    )
    membership.table = with_former_ciks(membership.table, former.table)
    members_ciks = membership.table.column("cik").to_pylist()
    cik_set = pa.array(
        sorted({c for c in [*companies.column("cik").to_pylist(), *members_ciks] if c})
    )
    reports = sources.financials.table.filter(
        pc.is_in(sources.financials.table["cik"], value_set=cik_set)
    )

    engine.register("companies", companies)
    engine.register("index_changes", changes)
    engine.register("index_membership", membership.table)
    engine.register("quarterly_reports", reports)
    engine.register("split_events", _split_events(sources.financials, cik_set))
    engine.register("closes", sources.closes.table)
    engine.materialize("sub_industries", "sub_industries")
    engine.materialize("report_periods", "periods")
    engine.materialize("quarter_end_close", "quarter_closes")
    engine.materialize("prices_pe", "prices_pe")
    engine.register("periods", _calendar_periods(reports, membership.table))
    engine.materialize("quarter_end_close", "calendar_closes")
    engine.register("former_members", former.table)

    tables = {
        spec.name: engine.frame(spec.name)
        for spec in CURATED_TABLES
        if spec is not SECTOR_AGGREGATES
    }
    rejected = [
        *(r for m in sources.history for r in m.members.rejected),
        *sources.companies.rejected,
        *sources.changes.rejected,
        *sources.financials.rejected,
        *sources.closes.rejected,
        *membership.rejected,
    ]
    warnings = [
        *sources.companies.warnings,
        *sources.changes.warnings,
        *sources.financials.warnings,
        *sources.closes.warnings,
        *membership.warnings,
        *former.warnings,
    ]
    processed = {
        "constituents": companies,
        "index_changes": changes,
        "financials": sources.financials.table,
        "daily_closes": sorted_by(sources.closes.table, ("ticker", "date")),
    }
    return Curated(tables, processed, rejected, warnings)


def _split_events(financials: Extracted, ciks: pa.Array) -> pa.Table:
    """The splits the financials source read (none from a source that reads none)."""
    events = financials.related.get(SPLIT_EVENTS.name, arrow_schema(SPLIT_EVENTS).empty_table())
    return events.filter(pc.is_in(events["cik"], value_set=ciks))


def aggregate(engine: SqlSession) -> Any:
    """The sector and sub-industry aggregates over the session's tables as they are now.

    Called after the quality gates, so quarantined rows never reach an average.
    """
    engine.materialize("sector_aggregates", "sector_aggregates")
    return engine.frame("sector_aggregates")


def _calendar_periods(reports: pa.Table, membership: pa.Table) -> pa.Table:
    """Every calendar quarter end, for the tickers of companies with reports."""
    with_reports = pc.is_in(membership["cik"], value_set=pa.array(reports["cik"].unique()))
    tickers = sorted(set(membership.filter(with_reports).column("ticker").to_pylist()))
    if not tickers or reports.num_rows == 0:
        return calendar_periods([], date(2000, 1, 1), date(2000, 1, 1))
    first = pc.min(reports["period_start"]).as_py()
    last = pc.max(reports["period_end"]).as_py()
    return calendar_periods(tickers, first, last)
