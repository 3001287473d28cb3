"""Analytical queries over the loaded tables; identical on SQLite and PostgreSQL."""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from typing import Any

import sqlalchemy as sa

from etl_service.errors import BadInputError
from etl_service.src.db.suggest import unknown_name
from etl_service.src.db.tables import TABLES
from etl_service.src.models.schemas import SECTOR_AGGREGATES
from etl_service.src.models.tickers import canonical_ticker

Row = dict[str, Any]

AGGREGATE_METRICS: tuple[str, ...] = tuple(
    name for name in SECTOR_AGGREGATES.column_names if name not in SECTOR_AGGREGATES.key
)
"""Columns of ``query sector|sub-industry --metric``."""
DEFAULT_AGGREGATE_METRICS: tuple[str, ...] = (
    "n_companies",
    "avg_revenue",
    "avg_net_income",
    "avg_eps_diluted",
    "avg_profit_margin",
    "avg_closing_price",
    "avg_pe",
    "n_pe",
)
METRICS: dict[str, str] = {
    "revenue": "revenue",
    "net_income": "net_income",
    "eps": "eps_diluted",
    "profit_margin": "profit_margin",
    "closing_price": "closing_price",
    "pe": "pe",
}
"""The metrics compared across sectors, and their column stem in ``sector_aggregates``."""
STATISTICS: dict[str, str] = {"mean": "avg", "median": "median", "count": "n"}
"""Each statistic of a metric, and its column prefix in ``sector_aggregates``."""
COMPANY_METRICS: tuple[str, ...] = (
    "revenue",
    "net_income",
    "eps_basic",
    "eps_diluted",
    "profit_margin",
    "closing_price",
    "eps_ttm",
    "price_earnings_ratio",
    "share_basis",
)

logger = logging.getLogger(__name__)

_companies = TABLES["companies"]
_former = TABLES["former_members"]
_membership = TABLES["index_membership"]
_aggregates = TABLES["sector_aggregates"]
_reports = TABLES["quarterly_reports"]
_prices = TABLES["prices_pe"]
_changes = TABLES["index_changes"]


@dataclass(frozen=True)
class Window:
    """The quarters a time series keeps: those from ``since`` on, then the last ``last``."""

    since: date | None = None
    last: int | None = None

    def apply(self, rows: list[Row], column: str) -> list[Row]:
        """The rows whose ``column`` (a quarter's date) falls in the window, in their order."""
        kept = rows if self.since is None else [r for r in rows if r[column] >= self.since]
        if self.last is None:
            return kept
        recent = set(sorted({r[column] for r in kept})[-self.last :]) if self.last > 0 else set()
        return [r for r in kept if r[column] in recent]


def aggregate_column(metric: str, statistic: str = "mean") -> str:
    """The ``sector_aggregates`` column of a metric's statistic: ``pe``, ``median`` -> median_pe."""
    return f"{STATISTICS[statistic]}_{METRICS[metric]}"


def _pick(
    metrics: Sequence[str] | None, allowed: tuple[str, ...], default: Sequence[str] = ()
) -> list[str]:
    chosen = list(metrics or default or allowed)
    unknown = [m for m in chosen if m not in allowed]
    if unknown:
        raise BadInputError(
            f"unknown metric; choose from {', '.join(allowed)}", field="--metric", value=unknown[0]
        )
    return chosen


def sectors(engine: sa.Engine) -> list[dict[str, Any]]:
    """Every sector with its number of current constituents and sub-industries."""
    query = (
        sa.select(
            _companies.c.sector,
            sa.func.count().label("companies"),
            sa.func.count(sa.distinct(_companies.c.sub_industry)).label("sub_industries"),
        )
        .group_by(_companies.c.sector)
        .order_by(_companies.c.sector)
    )
    with engine.connect() as conn:
        return [dict(r._mapping) for r in conn.execute(query)]


def sector_names(engine: sa.Engine) -> list[str]:
    """Today's sectors, sorted."""
    column = _companies.c.sector
    with engine.connect() as conn:
        return [r[0] for r in conn.execute(sa.select(column).distinct().order_by(column))]


def _resolve(engine: sa.Engine, level: str, name: str) -> str:
    """The stored spelling of a sector or sub-industry; exit 4 with the closest names if none."""
    column = _companies.c.sector if level == "sector" else _companies.c.sub_industry
    with engine.connect() as conn:
        names = [r[0] for r in conn.execute(sa.select(column).distinct().order_by(column))]
    for candidate in names:
        if candidate.casefold() == name.strip().casefold():
            return str(candidate)
    listed = "etl-service query sub-industries SECTOR lists them" if level != "sector" else ""
    raise unknown_name(level.replace("_", "-"), name, names, listed=listed)


def sectors_by_metric(
    engine: sa.Engine, metric: str, statistic: str = "mean", window: Window = Window()
) -> list[Row]:
    """One row per calendar quarter with a column per sector: one statistic of ``metric``."""
    column = _aggregates.c[aggregate_column(metric, statistic)]
    query = (
        sa.select(_aggregates.c.quarter_end, _aggregates.c.name, column)
        .where(_aggregates.c.level == "sector")
        .order_by(_aggregates.c.quarter_end)
    )
    with engine.connect() as conn:
        values = {(r[0], r[1]): r[2] for r in conn.execute(query)}
    names = sorted(set(sector_names(engine)) | {name for _, name in values})
    quarters = sorted({quarter for quarter, _ in values})
    rows = [{"quarter_end": q, **{n: values.get((q, n)) for n in names}} for q in quarters]
    return window.apply(rows, "quarter_end")


def sub_industries(engine: sa.Engine, sector: str) -> list[Row]:
    """The sub-industries of a sector with their number of current constituents."""
    resolved = _resolve(engine, "sector", sector)
    query = (
        sa.select(_companies.c.sub_industry, sa.func.count().label("companies"))
        .where(_companies.c.sector == resolved)
        .group_by(_companies.c.sub_industry)
        .order_by(_companies.c.sub_industry)
    )
    with engine.connect() as conn:
        return [dict(r._mapping) for r in conn.execute(query)]


def companies_in(engine: sa.Engine, sub_industry: str) -> list[Row]:
    """Ticker, name and CIK of the current constituents in a sub-industry."""
    resolved = _resolve(engine, "sub_industry", sub_industry)
    query = (
        sa.select(_companies.c.ticker, _companies.c.name, _companies.c.cik)
        .where(_companies.c.sub_industry == resolved)
        .order_by(_companies.c.ticker)
    )
    with engine.connect() as conn:
        return [dict(r._mapping) for r in conn.execute(query)]


def group_history(
    engine: sa.Engine,
    level: str,
    name: str,
    metrics: Sequence[str] | None = None,
    window: Window = Window(),
) -> list[Row]:
    """Per calendar quarter means (medians, counts) for one sector or sub-industry."""
    resolved = _resolve(engine, level, name)
    chosen = _pick(metrics, AGGREGATE_METRICS, DEFAULT_AGGREGATE_METRICS)
    query = (
        sa.select(_aggregates.c.quarter_end, *(_aggregates.c[m] for m in chosen))
        .where(_aggregates.c.level == level, _aggregates.c.name == resolved)
        .order_by(_aggregates.c.quarter_end)
    )
    with engine.connect() as conn:
        return window.apply([dict(r._mapping) for r in conn.execute(query)], "quarter_end")


def aggregates(engine: sa.Engine, level: str) -> list[Row]:
    """Every quarter of every sector (or sub-industry): all the means, medians and counts."""
    query = (
        sa.select(_aggregates)
        .where(_aggregates.c.level == level)
        .order_by(_aggregates.c.name, _aggregates.c.quarter_end)
    )
    with engine.connect() as conn:
        return [dict(r._mapping) for r in conn.execute(query)]


def company_history(
    engine: sa.Engine,
    ticker: str,
    metrics: Sequence[str] | None = None,
    window: Window = Window(),
) -> list[Row]:
    """A company's fiscal quarters: financials with the quarter-end close and P/E."""
    chosen = _pick(metrics, COMPANY_METRICS)
    with engine.connect() as conn:
        found = _find_company(conn, ticker)
        price_join = sa.and_(
            _prices.c.ticker == found.ticker, _prices.c.period_end == _reports.c.period_end
        )
        sources = {**{c.name: c for c in _reports.c}, **{c.name: c for c in _prices.c}}
        query = (
            sa.select(
                _reports.c.fiscal_year,
                _reports.c.fiscal_quarter,
                _reports.c.period_end,
                *[sources[m] for m in chosen],
            )
            .select_from(_reports.outerjoin(_prices, price_join))
            .where(_reports.c.cik == found.cik, _reports.c.cik.is_not(None))
            .order_by(_reports.c.period_end)
        )
        return window.apply([dict(r._mapping) for r in conn.execute(query)], "period_end")


def _find_company(conn: sa.Connection, ticker: str) -> sa.Row[Any]:
    """A current constituent by ticker, else the latest former member with that ticker."""
    wanted = canonical_ticker(ticker)
    current = conn.execute(
        sa.select(_companies.c.ticker, _companies.c.cik).where(
            sa.func.upper(_companies.c.ticker) == wanted
        )
    ).first()
    if current is not None:
        return current
    former = conn.execute(
        sa.select(_former.c.ticker, _former.c.cik, _former.c.cik_method)
        .where(sa.func.upper(_former.c.ticker) == wanted)
        .order_by(_former.c.removed.desc())
    ).first()
    if former is None:
        raise _unknown_ticker(conn, ticker)
    if former.cik is None:
        logger.warning(
            "%s: former member without a known CIK (%s): no financials", ticker, former.cik_method
        )
    return former


def membership_spans(engine: sa.Engine, ticker: str) -> list[dict[str, Any]]:
    """The index membership spans of a company (under every ticker it had), oldest first."""
    with engine.connect() as conn:
        found = _find_company(conn, ticker)
        by_ticker = sa.and_(_membership.c.cik.is_(None), _membership.c.ticker == found.ticker)
        same = by_ticker if found.cik is None else sa.or_(_membership.c.cik == found.cik, by_ticker)
        query = (
            sa.select(
                _membership.c.ticker,
                _membership.c.valid_from,
                _membership.c.valid_to,
                _membership.c.derivation,
            )
            .where(same)
            .order_by(_membership.c.valid_from)
        )
        return [dict(r._mapping) for r in conn.execute(query)]


def _unknown_ticker(conn: sa.Connection, ticker: str) -> BadInputError:
    """Exit 4 for a ticker no constituent or former member had, with the closest tickers (or
    the tickers of the companies whose name is like it: 'apple' -> AAPL)."""
    pairs = [
        (r.ticker, r.name)
        for table in (_companies, _former)
        for r in conn.execute(sa.select(table.c.ticker, table.c.name))
    ]
    by_name = {name: f"{tick} ({name})" for tick, name in reversed(pairs) if name}
    return unknown_name(
        "ticker",
        ticker,
        [tick for tick, _ in pairs],
        aliases=by_name,
        why="neither a constituent nor a former member",
    )


def members_on(engine: sa.Engine, day: date) -> list[Row]:
    """The index members on ``day``: the ticker as of that day, name, CIK and sector.

    Name and sector are today's for a current constituent: the one with the span's ticker
    (unless the ticker was reused by another company since), else the one with its CIK (a
    company that has changed ticker since); otherwise those of the former member's exit.
    """
    spans = sa.select(_membership.c.ticker, _membership.c.cik, _membership.c.valid_to).where(
        _membership.c.valid_from <= day,
        sa.or_(_membership.c.valid_to.is_(None), _membership.c.valid_to > day),
    )
    current = sa.select(
        _companies.c.ticker, _companies.c.cik, _companies.c.name, _companies.c.sector
    )
    former = sa.select(
        _former.c.ticker, _former.c.cik, _former.c.name, _former.c.sector, _former.c.removed
    ).order_by(_former.c.removed)
    with engine.connect() as conn:
        members, companies, exits = (list(conn.execute(q)) for q in (spans, current, former))
    by_ticker = {c.ticker: c for c in companies}
    by_cik = {c.cik: c for c in companies if c.cik}
    later = [f for f in exits if f.removed > day]
    rows = []
    for span in sorted(members, key=lambda s: s.ticker):
        found: Any = by_ticker.get(span.ticker)
        if found is not None and span.valid_to is not None and span.cik and found.cik:
            found = found if found.cik == span.cik else None  # a ticker reused since
        found = (
            found
            or by_cik.get(span.cik)
            or next((f for f in later if span.cik and f.cik == span.cik), None)
            or next((f for f in later if f.ticker == span.ticker), None)
        )
        name, sector = (found.name, found.sector) if found is not None else (None, None)
        rows.append({"ticker": span.ticker, "name": name, "cik": span.cik, "sector": sector})
    return rows


def changes_per_year(engine: sa.Engine) -> list[Row]:
    """Additions to and removals from the index per calendar year (the changes table)."""
    year = sa.extract("year", _changes.c.change_date)
    added = sa.func.coalesce(_changes.c.added_ticker, _changes.c.added_name)
    removed = sa.func.coalesce(_changes.c.removed_ticker, _changes.c.removed_name)
    query = (
        sa.select(
            year.label("year"),
            sa.func.count(added).label("additions"),
            sa.func.count(removed).label("removals"),
        )
        .group_by(year)
        .order_by(year)
    )
    with engine.connect() as conn:
        return [{**r._mapping, "year": int(r.year)} for r in conn.execute(query)]


def coverage(engine: sa.Engine) -> list[Row]:
    """Per calendar quarter with aggregates: the members on its last day, and how many of
    them have financials there (the companies the sector aggregates count)."""
    reported = sa.func.sum(_aggregates.c.n_companies)
    query = (
        sa.select(_aggregates.c.quarter_end, reported.label("with_financials"))
        .where(_aggregates.c.level == "sector")
        .group_by(_aggregates.c.quarter_end)
        .order_by(_aggregates.c.quarter_end)
    )
    spans = sa.select(
        _membership.c.ticker, _membership.c.cik, _membership.c.valid_from, _membership.c.valid_to
    )
    with engine.connect() as conn:
        quarters, members = list(conn.execute(query)), list(conn.execute(spans))
    return [
        {
            "quarter_end": q.quarter_end,
            "members": len(
                {
                    m.cik or m.ticker
                    for m in members
                    if m.valid_from <= q.quarter_end
                    and (m.valid_to is None or m.valid_to > q.quarter_end)
                }
            ),
            "with_financials": int(q.with_financials),
        }
        for q in quarters
    ]


def loaded_row_counts(engine: sa.Engine, tables: Sequence[str]) -> dict[str, int]:
    """Rows per table as the last load left them (tables not created yet are left out)."""
    existing = set(sa.inspect(engine).get_table_names())
    with engine.connect() as conn:
        return {
            name: int(conn.execute(sa.text(f'SELECT count(*) FROM "{name}"')).scalar_one())
            for name in tables
            if name in existing
        }
