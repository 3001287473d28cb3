"""Canonical table schemas, declared once; every store maps them to its own types."""

from __future__ import annotations

from dataclasses import dataclass, replace
from enum import StrEnum

import pyarrow as pa


class Zone(StrEnum):
    """Where a table lives: the lake's zones, or only the database (internal tables)."""

    RAW = "raw"
    PROCESSED = "processed"
    CURATED = "curated"
    INTERNAL = "internal"


class LoadMode(StrEnum):
    """How a load's rows meet the rows already in a store."""

    MERGE = "merge"  # upsert; keep rows the new data does not mention
    SYNC = "sync"  # upsert, then delete rows whose key is not in the new data
    RECONCILE = "reconcile"  # insert new keys, leave existing rows as they are, delete missing


class ColumnType(StrEnum):
    """Canonical column types."""

    STRING = "string"
    INT64 = "int64"
    FLOAT64 = "float64"
    BOOL = "bool"
    DATE = "date"
    TIMESTAMP = "timestamp"
    JSON = "json"
    BINARY = "binary"


@dataclass(frozen=True)
class Column:
    """One column of a canonical table."""

    name: str
    type: ColumnType
    nullable: bool = True
    doc: str = ""


@dataclass(frozen=True)
class TableSpec:
    """A canonical table and its policy: natural key, zone, load mode and partitioning.

    ``load_mode`` is None for tables no run loads into a database (the processed zone and
    the run bookkeeping); ``partition_by`` names the lake partition columns.
    """

    name: str
    columns: tuple[Column, ...]
    key: tuple[str, ...]
    doc: str
    zone: Zone = Zone.CURATED
    load_mode: LoadMode | None = LoadMode.SYNC
    partition_by: tuple[str, ...] = ()

    @property
    def column_names(self) -> list[str]:
        return [c.name for c in self.columns]

    def column(self, name: str) -> Column:
        for col in self.columns:
            if col.name == name:
                return col
        raise KeyError(f"{self.name} has no column {name!r}")


S, INT, F, B, D, T, J, BIN = (
    ColumnType.STRING,
    ColumnType.INT64,
    ColumnType.FLOAT64,
    ColumnType.BOOL,
    ColumnType.DATE,
    ColumnType.TIMESTAMP,
    ColumnType.JSON,
    ColumnType.BINARY,
)


def _c(name: str, type_: ColumnType, nullable: bool = True, doc: str = "") -> Column:
    return Column(name, type_, nullable, doc)


SUB_INDUSTRIES = TableSpec(
    "sub_industries",
    (_c("sub_industry", S, False), _c("sector", S, False)),
    key=("sub_industry",),
    doc="GICS sub-industries and the sector each belongs to.",
)

COMPANIES = TableSpec(
    "companies",
    (
        _c("ticker", S, False, "canonical ticker as the index lists it, e.g. BRK.B"),
        _c("name", S, False),
        _c("cik", S, True, "zero-padded 10-digit SEC CIK; not unique (GOOGL/GOOG)"),
        _c("sector", S, False),
        _c("sub_industry", S, False),
        _c("headquarters", S),
        _c("hq_city", S),
        _c("hq_region", S, True, "US state, or country outside the US"),
        _c("date_added", D),
        _c("year_founded", INT),
        _c("founded_raw", S),
        _c("aliases", S, True, "other vendors' spellings, '|'-separated (BRK-B|BRKB)"),
        _c("source_revision", S, True, "Wikipedia revision id the row was read from"),
    ),
    key=("ticker",),
    doc="Current S&P 500 constituents.",
)

INDEX_CHANGES = TableSpec(
    "index_changes",
    (
        _c("change_key", S, False, "date|added|removed, the natural key"),
        _c("change_date", D, False),
        _c("added_ticker", S),
        _c("added_name", S),
        _c("removed_ticker", S),
        _c("removed_name", S),
        _c("reason", S),
    ),
    key=("change_key",),
    doc="Selected changes to the list of S&P 500 components.",
)

INDEX_MEMBERSHIP = TableSpec(
    "index_membership",
    (
        _c("ticker", S, False),
        _c("cik", S),
        _c("valid_from", D, False),
        _c("valid_to", D, True, "exclusive end; null while still a member"),
        _c("derivation", S, False, "how the span was established"),
    ),
    key=("ticker", "valid_from"),
    doc="Point-in-time index membership (SCD-2 spans).",
)

QUARTERLY_REPORTS = TableSpec(
    "quarterly_reports",
    (
        _c("cik", S, False),
        _c("fiscal_year", INT, False),
        _c("fiscal_quarter", INT, False),
        _c("period_start", D, False),
        _c("period_end", D, False),
        _c("revenue", INT, True, "USD as reported"),
        _c("net_income", INT, True, "USD as reported"),
        _c("eps_basic", F, True, "USD per share"),
        _c("eps_diluted", F, True, "USD per share"),
        _c(
            "eps_diluted_ytd",
            F,
            True,
            "fiscal year-to-date diluted EPS as reported (Q1: 3 months ... Q4: the fiscal year)",
        ),
        _c("profit_margin", F, True, "net_income / revenue as a fraction (0.25 = 25%)"),
        _c("revenue_concept", S),
        _c("form", S),
        _c("accession", S),
        _c("filed", D),
        _c("derived", B, False, "true when any value was derived rather than reported"),
        _c("derivation", S, True, "how each derived value was obtained"),
        _c(
            "eps_diluted_filed",
            D,
            True,
            "filing date of eps_diluted, which fixes its split basis; null when unknown",
        ),
        _c("eps_diluted_ytd_filed", D, True, "filing date of eps_diluted_ytd (its split basis)"),
    ),
    key=("cik", "period_end"),
    doc="Quarterly income-statement figures per company and fiscal quarter.",
    load_mode=LoadMode.MERGE,
    partition_by=("fiscal_year",),
)

SPLIT_EVENTS = TableSpec(
    "split_events",
    (
        _c("cik", S, False),
        _c(
            "old_basis_before",
            D,
            False,
            "days before this one are on the pre-split share basis, surely",
        ),
        _c(
            "new_basis_from",
            D,
            False,
            "days from this one on are on the post-split basis; between the two it is unknown",
        ),
        _c("split_ratio", F, False, "new shares per old share: 7 (7-for-1), 1.5, 0.1 (1-for-10)"),
        _c("split", S, False, "the ratio as written, e.g. 7-for-1"),
        _c("derivation", S, False, "the evidence: split-ratio facts and restated EPS"),
    ),
    key=("cik", "new_basis_from"),
    doc="Stock splits per company, as the SEC filings show them.",
    load_mode=LoadMode.MERGE,
)

PRICES_PE = TableSpec(
    "prices_pe",
    (
        _c("ticker", S, False),
        _c("cik", S),
        _c("period_end", D, False, "fiscal period end the price and EPS refer to"),
        _c("fiscal_year", INT),
        _c("fiscal_quarter", INT),
        _c("price_date", D, True, "trading day whose close was used"),
        _c("closing_price", F, True, "on share_basis"),
        _c("eps_ttm", F, True, "trailing-twelve-month diluted EPS on share_basis"),
        _c("eps_ttm_derivation", S, True, "how eps_ttm was obtained from reported figures"),
        _c("price_earnings_ratio", F, True, "closing_price / eps_ttm; null when undefined"),
        _c("price_source", S),
        _c("note", S, True, "why a value is null"),
        _c(
            "share_basis",
            S,
            True,
            "the share count closing_price and eps_ttm are per: 'as traded' (on price_date, "
            "or period_end without a close) or 'split-adjusted to <date>'; null when unknown",
        ),
        _c(
            "split_factor",
            F,
            True,
            "closing_price / the source's close: undoes the source's later split adjustments",
        ),
    ),
    key=("ticker", "period_end"),
    doc="Quarter-end close, trailing-twelve-month EPS and P/E.",
    load_mode=LoadMode.MERGE,
)

SECTOR_AGGREGATES = TableSpec(
    "sector_aggregates",
    (
        _c("level", S, False, "sector or sub_industry"),
        _c("name", S, False),
        _c("quarter_end", D, False, "calendar quarter end"),
        _c("n_companies", INT, False, "members on the quarter's last day with a report"),
        _c("avg_revenue", F),
        _c("avg_net_income", F),
        _c("avg_eps_diluted", F),
        _c("avg_profit_margin", F),
        _c("avg_closing_price", F),
        _c("avg_pe", F),
        _c("n_revenue", INT, False, "companies averaged in avg_revenue"),
        _c("n_net_income", INT, False, "companies averaged in avg_net_income"),
        _c("n_eps_diluted", INT, False, "companies averaged in avg_eps_diluted"),
        _c("n_profit_margin", INT, False, "companies averaged in avg_profit_margin"),
        _c("n_closing_price", INT, False, "companies averaged in avg_closing_price"),
        _c("n_pe", INT, False, "companies averaged in avg_pe"),
        _c("median_revenue", F, True, "median over the same companies as avg_revenue"),
        _c("median_net_income", F),
        _c("median_eps_diluted", F),
        _c("median_profit_margin", F),
        _c("median_closing_price", F),
        _c("median_pe", F),
    ),
    key=("level", "name", "quarter_end"),
    doc="Per calendar quarter means and medians for each sector and sub-industry over the "
    "members on its last day, former members included, after the quality gates.",
)

FORMER_MEMBERS = TableSpec(
    "former_members",
    (
        _c("ticker", S, False, "the ticker when the company left the index"),
        _c("removed", D, False, "the day it left (its last span's valid_to)"),
        _c("cik", S),
        _c("cik_method", S, True, "how the CIK was found, or why it is unknown"),
        _c("name", S),
        _c("sector", S, True, "GICS sector as the latest list naming it gave it"),
        _c("sub_industry", S),
        _c("first_added", D, True, "valid_from of its earliest span"),
        _c("attributes_source", S, True, "where name and sector come from, or why null"),
    ),
    key=("ticker", "removed"),
    doc="Companies that left the index and are not members today, one row per exit.",
)

QUARANTINE = TableSpec(
    "quarantine",
    (
        _c("table_name", S, False),
        _c("record_key", S, False),
        _c("reason", S, False),
        _c("first_run_id", S, False, "the run that first rejected the row"),
        _c("source", S),
        _c("record", J),
    ),
    key=("table_name", "record_key", "reason"),
    doc="Rows rejected by parsing or data-quality rules in the latest run, with their reason.",
    zone=Zone.INTERNAL,
    load_mode=LoadMode.RECONCILE,
)

PIPELINE_RUNS = TableSpec(
    "pipeline_runs",
    (
        _c("run_id", S, False),
        _c("started_at", T, False),
        _c("finished_at", T),
        _c("status", S, False, "running, succeeded or failed"),
        _c("engine", S, False),
        _c("source", S, False),
        _c("rows", J),
        _c("data_quality", J),
        _c("warnings", J),
        _c("error", S),
    ),
    key=("run_id",),
    doc="One row per pipeline run: status, timings, row counts and data-quality results.",
    zone=Zone.INTERNAL,
    load_mode=None,
)

LOAD_STATE = TableSpec(
    "load_state",
    (
        _c("table_name", S, False),
        _c("hasher", S, False, "the hash function's identity; a change invalidates the hashes"),
        _c("fingerprints", BIN, False, "Arrow IPC stream of (key_hash, row_hash) per row"),
    ),
    key=("table_name",),
    doc="Internal: what the loader last wrote per row, so unchanged rows are never re-sent.",
    zone=Zone.INTERNAL,
    load_mode=None,
)

LAKE_COMMITS = TableSpec(
    "lake_commits",
    (
        _c("run_id", S, False),
        _c("zone", S, False, "curated or processed; '*' on the run's own row"),
        _c("table_name", S, False, "'*' on the row that says the run's database load committed"),
        _c("digest", S, True, "the content hash the lake table gets"),
        _c("rows", INT, True),
        _c("folder", S, True, "the staged folder no snapshot references yet"),
        _c("files", J, True, "the staged data files, committed as the table's content"),
        _c("status", S, False, "pending, or committed once the lake has it"),
    ),
    key=("run_id", "zone", "table_name"),
    doc="Internal: the lake commits a run will make, written in its database transaction, so "
    "a run killed between the database and the lake is rolled forward by the next one.",
    zone=Zone.INTERNAL,
    load_mode=None,
)

FILING_CURSORS = TableSpec(
    "filing_cursors",
    (
        _c("cik", S, False),
        _c("accession", S, True, "the latest 10-Q/10-K (or amendment) accession known"),
        _c("filed", D, True, "its filing date"),
        _c(
            "checked_through",
            D,
            False,
            "EDGAR's daily index was read through this day: the stored reports hold every "
            "filing up to it",
        ),
        _c("run_id", S, False, "the run that wrote the cursor"),
    ),
    key=("cik",),
    doc="Internal: per company, how far its financials are up to date, so an incremental "
    "run fetches only the companies that filed since.",
    zone=Zone.INTERNAL,
    load_mode=None,
)

DAILY_CLOSES = TableSpec(
    "daily_closes",
    (
        _c("ticker", S, False, "canonical ticker, e.g. BRK.B"),
        _c("date", D, False, "trading day"),
        _c("close", F, False),
        _c("source", S, False, "where the close came from"),
        _c(
            "adjusted_as_of",
            D,
            True,
            "the day whose share count an adjusted close is in; null for an as-traded close",
        ),
    ),
    key=("ticker", "date"),
    doc="Daily closes as extracted from the price sources.",
    zone=Zone.PROCESSED,
    load_mode=None,
)


RAW_PAYLOADS = TableSpec(
    "raw_payloads",
    (
        _c("source", S, False, "the source the payload came from, e.g. wikipedia"),
        _c("url", S, False),
        _c("fetched_at", T, False),
        _c("sha256", S, False),
        _c("size", INT, False, "bytes"),
        _c("revision", S, True, "the source's own version id, when it has one"),
    ),
    key=("source", "sha256", "fetched_at"),
    doc="The raw zone's payloads as their metadata files describe them.",
    zone=Zone.RAW,
    load_mode=None,
)


def _processed(spec: TableSpec, name: str, doc: str) -> TableSpec:
    return replace(spec, name=name, doc=doc, zone=Zone.PROCESSED, load_mode=None, partition_by=())


PROCESSED_TABLES: tuple[TableSpec, ...] = (
    _processed(COMPANIES, "constituents", "Constituents as extracted from the source page."),
    _processed(INDEX_CHANGES, "index_changes", "Index changes as extracted from the source."),
    _processed(QUARTERLY_REPORTS, "financials", "Quarterly reports of every extracted company."),
    DAILY_CLOSES,
)
"""The processed zone: source tables after extraction and validation, before curation."""

CURATED_TABLES: tuple[TableSpec, ...] = (
    SUB_INDUSTRIES,
    COMPANIES,
    INDEX_CHANGES,
    INDEX_MEMBERSHIP,
    QUARTERLY_REPORTS,
    SPLIT_EVENTS,
    PRICES_PE,
    SECTOR_AGGREGATES,
    FORMER_MEMBERS,
)
"""The curated tables: what the database, the lake's curated zone and exports hold."""

ALL_TABLES: tuple[TableSpec, ...] = (
    *CURATED_TABLES,
    QUARANTINE,
    PIPELINE_RUNS,
    LOAD_STATE,
    LAKE_COMMITS,
    FILING_CURSORS,
)
"""Every table of the database."""
TABLES_BY_NAME: dict[str, TableSpec] = {t.name: t for t in ALL_TABLES}

_ARROW_TYPES: dict[ColumnType, pa.DataType] = {
    ColumnType.STRING: pa.string(),
    ColumnType.INT64: pa.int64(),
    ColumnType.FLOAT64: pa.float64(),
    ColumnType.BOOL: pa.bool_(),
    ColumnType.DATE: pa.date32(),
    ColumnType.TIMESTAMP: pa.timestamp("us", tz="UTC"),
    ColumnType.JSON: pa.string(),
    ColumnType.BINARY: pa.binary(),
}


def arrow_schema(spec: TableSpec) -> pa.Schema:
    """The Arrow schema of a canonical table."""
    return pa.schema(
        [pa.field(c.name, _ARROW_TYPES[c.type], nullable=c.nullable) for c in spec.columns]
    )
