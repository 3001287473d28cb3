"""Quarter-end closes and trailing-twelve-month P/E, run from the shared SQL on DuckDB.

TTM diluted EPS (``sql/prices_pe.sql`` holds the full rule), first that applies:
1. the sum of the last four consecutive fiscal quarters' diluted EPS;
2. for a fiscal Q4 (or an annual row): the fiscal-year diluted EPS from the 10-K;
3. for Q1-Q3 of year Y: YTD(Y, q) + FY(Y-1) - YTD(Y-1, q), reported figures only;
4. null, with the reasons in ``note``.
Close and EPS are put on one share basis, the shares as traded on the price date: each EPS
figure is restated for the splits (``split_events``) between its filing and the price
date, and a split-adjusted close has those after the price date undone (``split_factor``).
Rules 1 and 3 still refuse figures on different split bases, detected by implied share
counts: a split missing from the events shows that way. ``eps_ttm_derivation`` names the
rule, the figures used and their split factors; P/E is null, never 0, when TTM EPS is null
or not positive.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from datetime import date, timedelta

import pyarrow as pa
import pyarrow.compute as pc

from etl_service.errors import SchemaError
from etl_service.src.adapters.prices.base import CLOSES_SCHEMA
from etl_service.src.models.schemas import (
    COMPANIES,
    PRICES_PE,
    QUARTERLY_REPORTS,
    SPLIT_EVENTS,
    arrow_schema,
)
from etl_service.src.transforms.sql_runner import run_duckdb

logger = logging.getLogger(__name__)

LOOKBACK_DAYS = 10
"""The quarter-end lookup goes at most this many calendar days back (fixed in the SQL)."""

PERIODS_SCHEMA = pa.schema(
    [pa.field("ticker", pa.string(), nullable=False), pa.field("period_end", pa.date32(), False)]
)
"""Input of the quarter-end lookup: which (ticker, period end) pairs need a close."""

QUARTER_CLOSES_SCHEMA = pa.schema(
    [
        pa.field("ticker", pa.string(), nullable=False),
        pa.field("period_end", pa.date32(), nullable=False),
        pa.field("price_date", pa.date32()),
        pa.field("closing_price", pa.float64()),
        pa.field("price_source", pa.string()),
        pa.field("adjusted_as_of", pa.date32()),
        pa.field("note", pa.string()),
    ]
)
"""Output of the quarter-end lookup; ``note`` says why a price is null."""


def _require(table: pa.Table, schema: pa.Schema, name: str) -> pa.Table:
    """``table`` reduced to ``schema``'s columns and types; SchemaError names what is missing."""
    missing = [f.name for f in schema if f.name not in table.column_names]
    if missing:
        raise SchemaError(
            f"input table lacks {len(missing)} column(s)", source=name, field=missing[0]
        )
    return conform(table.select(schema.names), schema, name)


def conform(table: pa.Table, schema: pa.Schema, name: str) -> pa.Table:
    """Cast ``table`` to exactly ``schema``; SchemaError when a non-nullable column has nulls."""
    for field in schema:
        if not field.nullable and table.column(field.name).null_count:
            raise SchemaError("null in a non-nullable column", source=name, field=field.name)
    columns = [table.column(f.name).cast(f.type) for f in schema]
    return pa.Table.from_arrays(columns, schema=schema)


def quarter_end_closes(closes: pa.Table, periods: pa.Table) -> pa.Table:
    """The close of the last trading day on or before each period end (10 days back at most).

    Args:
        closes: daily closes with the columns of CLOSES_SCHEMA.
        periods: ``ticker, period_end`` pairs (fiscal period ends or calendar quarter ends).

    Returns:
        One QUARTER_CLOSES_SCHEMA row per distinct pair; null price with a ``note`` when no
        close lies in the window.
    """
    inputs = {
        "closes": _require(closes, CLOSES_SCHEMA, "closes"),
        "periods": _require(periods, PERIODS_SCHEMA, "periods"),
    }
    return conform(run_duckdb("quarter_end_close", inputs), QUARTER_CLOSES_SCHEMA, "result")


def report_periods(quarterly_reports: pa.Table, companies: pa.Table) -> pa.Table:
    """The (ticker, period_end) pairs of every report, one per ticker sharing its CIK."""
    inputs = {
        "quarterly_reports": _require(
            quarterly_reports, arrow_schema(QUARTERLY_REPORTS), "quarterly_reports"
        ),
        "companies": _require(companies, arrow_schema(COMPANIES), "companies"),
    }
    return conform(run_duckdb("report_periods", inputs), PERIODS_SCHEMA, "result")


def calendar_quarter_ends(first: date, last: date) -> list[date]:
    """Every calendar quarter end (Mar 31, Jun 30, Sep 30, Dec 31) from ``first`` to ``last``."""
    ends = []
    for year in range(first.year, last.year + 1):
        for month in (3, 6, 9, 12):
            end = date(year + month // 12, month % 12 + 1, 1) - timedelta(days=1)
            if first <= end <= last:
                ends.append(end)
    return ends


def calendar_periods(tickers: Iterable[str], first: date, last: date) -> pa.Table:
    """``ticker, period_end`` pairs for every calendar quarter end, for the sector aggregates."""
    ends = calendar_quarter_ends(first, last)
    pairs = [(t, e) for t in sorted(set(tickers)) for e in ends]
    return pa.Table.from_pydict(
        {"ticker": [p[0] for p in pairs], "period_end": [p[1] for p in pairs]},
        schema=PERIODS_SCHEMA,
    )


def compute_prices_pe(
    quarterly_reports: pa.Table,
    closes: pa.Table,
    companies: pa.Table,
    split_events: pa.Table | None = None,
) -> pa.Table:
    """Quarter-end close, TTM diluted EPS and P/E per ticker and fiscal period.

    Args:
        quarterly_reports: rows of QUARTERLY_REPORTS, keyed by cik.
        closes: daily closes (CLOSES_SCHEMA), e.g. from the Stooq files.
        companies: rows of COMPANIES; maps each ticker to its cik.
        split_events: rows of SPLIT_EVENTS; none means no splits: figures as reported.

    Returns:
        A table with exactly ``arrow_schema(PRICES_PE)``, one row per ticker and report.
    """
    reports = _require(quarterly_reports, arrow_schema(QUARTERLY_REPORTS), "quarterly_reports")
    firms = _require(companies, arrow_schema(COMPANIES), "companies")
    splits = arrow_schema(SPLIT_EVENTS).empty_table() if split_events is None else split_events
    splits = _require(splits, arrow_schema(SPLIT_EVENTS), "split_events")
    quarter_closes = quarter_end_closes(closes, report_periods(reports, firms))
    unmatched = pc.sum(pc.invert(pc.is_in(reports["cik"], value_set=firms["cik"]))).as_py()
    if unmatched:
        logger.info("%d quarterly reports have no ticker in companies; not in prices_pe", unmatched)
    result = run_duckdb(
        "prices_pe",
        {
            "quarterly_reports": reports,
            "companies": firms,
            "quarter_closes": quarter_closes,
            "split_events": splits,
        },
    )
    return conform(result, arrow_schema(PRICES_PE), "prices_pe")
