"""Building the curated tables from the extracted sources, on any SQL engine.

The steps are the shared SQL files plus the record-level membership rule; the engine
(DuckDB over Arrow here, Spark SQL in the Spark and Glue pipelines) only executes them, so
every engine computes the same tables.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any

import pyarrow as pa
import pyarrow.compute as pc

from etl_service.src.models.records import Extracted, Rejected
from etl_service.src.models.schemas import CURATED_TABLES, SPLIT_EVENTS, arrow_schema
from etl_service.src.transforms.membership import Snapshot, build_membership
from etl_service.src.transforms.prices_pe import calendar_periods
from etl_service.src.transforms.sql_runner import SqlSession


@dataclass
class SourceTables:
    """The extracted inputs of one run."""

    companies: Extracted
    changes: Extracted
    financials: Extracted
    closes: Extracted
    as_of: date
    snapshot_source: str


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
    membership = build_membership([snapshot], changes)
    cik_set = pa.array(sorted({c for c in companies.column("cik").to_pylist() if c}))
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
    engine.register("periods", _calendar_periods(reports, companies))
    engine.materialize("quarter_end_close", "calendar_closes")
    engine.materialize("sector_aggregates", "sector_aggregates")

    tables = {spec.name: engine.frame(spec.name) for spec in CURATED_TABLES}
    rejected = [
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
    ]
    processed = {
        "constituents": companies,
        "index_changes": changes,
        "financials": sources.financials.table,
        "daily_closes": sources.closes.table.sort_by(
            [("ticker", "ascending"), ("date", "ascending")]
        ),
    }
    return Curated(tables, processed, rejected, warnings)


def _split_events(financials: Extracted, ciks: pa.Array) -> pa.Table:
    """The splits the financials source read (none from a source that reads none)."""
    events = financials.related.get(SPLIT_EVENTS.name, arrow_schema(SPLIT_EVENTS).empty_table())
    return events.filter(pc.is_in(events["cik"], value_set=ciks))


def _calendar_periods(reports: pa.Table, companies: pa.Table) -> pa.Table:
    with_reports = pc.is_in(companies["cik"], value_set=pa.array(reports["cik"].unique()))
    tickers = companies.filter(with_reports).column("ticker").to_pylist()
    if not tickers or reports.num_rows == 0:
        return calendar_periods([], date(2000, 1, 1), date(2000, 1, 1))
    first = pc.min(reports["period_start"]).as_py()
    last = pc.max(reports["period_end"]).as_py()
    return calendar_periods(tickers, first, last)
