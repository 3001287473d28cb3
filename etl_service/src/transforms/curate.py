"""Building the curated tables from the extracted sources, on any SQL engine.

The steps are the shared SQL files plus the record-level membership rule; the engine
(DuckDB over Arrow here, Spark SQL in the Spark and Glue pipelines) only executes them, so
every engine computes the same tables.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Protocol

import pyarrow as pa
import pyarrow.compute as pc

from etl_service.src.models.records import Extracted, Rejected
from etl_service.src.models.schemas import (
    COMPANIES,
    INDEX_CHANGES,
    INDEX_MEMBERSHIP,
    PRICES_PE,
    QUARTERLY_REPORTS,
    SECTOR_AGGREGATES,
    SUB_INDUSTRIES,
    TableSpec,
    arrow_schema,
)
from etl_service.src.transforms.membership import Snapshot, build_membership
from etl_service.src.transforms.prices_pe import calendar_periods

CURATED: tuple[TableSpec, ...] = (
    SUB_INDUSTRIES,
    COMPANIES,
    INDEX_CHANGES,
    INDEX_MEMBERSHIP,
    QUARTERLY_REPORTS,
    PRICES_PE,
    SECTOR_AGGREGATES,
)


class CurateEngine(Protocol):
    """What curation needs from an engine: named tables and the shared SQL."""

    def register(self, name: str, table: pa.Table) -> None: ...

    def materialize(self, transformation: str, as_name: str) -> None: ...

    def fetch(self, name: str) -> pa.Table: ...


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
    """The curated tables (canonical schemas, sorted by key), the processed source tables,
    and everything rejected."""

    tables: dict[str, pa.Table]
    processed: dict[str, pa.Table]
    rejected: list[Rejected]
    warnings: list[str]


def sort_by_key(spec: TableSpec, table: pa.Table) -> pa.Table:
    """``table`` cast to the canonical schema and sorted by its key (stable content hash)."""
    ordered = table.select(spec.column_names).cast(arrow_schema(spec))
    return ordered.sort_by([(k, "ascending") for k in spec.key])


def curate(sources: SourceTables, engine: CurateEngine) -> Curated:
    """Build every curated table from ``sources`` on ``engine``."""
    companies = sources.companies.table
    changes = sources.changes.table
    snapshot = Snapshot.from_table(sources.as_of, companies, sources.snapshot_source)
    membership = build_membership([snapshot], changes)
    cik_set = pa.array(sorted({c for c in companies.column("cik").to_pylist() if c}))
    reports = sources.financials.table.filter(
        pc.is_in(sources.financials.table["cik"], value_set=cik_set)
    )

    engine.register("companies", companies)
    engine.register("index_membership", membership.table)
    engine.register("quarterly_reports", reports)
    engine.register("closes", sources.closes.table)
    engine.materialize("sub_industries", "sub_industries")
    engine.materialize("report_periods", "periods")
    engine.materialize("quarter_end_close", "quarter_closes")
    engine.materialize("prices_pe", "prices_pe")
    engine.register("periods", _calendar_periods(reports, companies))
    engine.materialize("quarter_end_close", "calendar_closes")
    engine.materialize("sector_aggregates", "sector_aggregates")

    tables = {
        "companies": companies,
        "index_changes": changes,
        "index_membership": membership.table,
        "quarterly_reports": reports,
        "sub_industries": engine.fetch("sub_industries"),
        "prices_pe": engine.fetch("prices_pe"),
        "sector_aggregates": engine.fetch("sector_aggregates"),
    }
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
    sorted_tables = {spec.name: sort_by_key(spec, tables[spec.name]) for spec in CURATED}
    processed = {
        "constituents": companies,
        "index_changes": changes,
        "financials": sources.financials.table,
        "daily_closes": sources.closes.table.sort_by(
            [("ticker", "ascending"), ("date", "ascending")]
        ),
    }
    return Curated(sorted_tables, processed, rejected, warnings)


def _calendar_periods(reports: pa.Table, companies: pa.Table) -> pa.Table:
    with_reports = pc.is_in(companies["cik"], value_set=pa.array(reports["cik"].unique()))
    tickers = companies.filter(with_reports).column("ticker").to_pylist()
    if not tickers or reports.num_rows == 0:
        return calendar_periods([], date(2000, 1, 1), date(2000, 1, 1))
    first = pc.min(reports["period_start"]).as_py()
    last = pc.max(reports["period_end"]).as_py()
    return calendar_periods(tickers, first, last)
