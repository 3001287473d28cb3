"""Analytical queries over the loaded tables; identical on SQLite and PostgreSQL."""

from __future__ import annotations

import logging
from collections.abc import Sequence
from typing import Any

import sqlalchemy as sa

from etl_service.errors import InputError
from etl_service.src.db.tables import TABLES

AGGREGATE_METRICS: tuple[str, ...] = (
    "n_companies",
    "avg_revenue",
    "avg_net_income",
    "avg_eps_diluted",
    "avg_profit_margin",
    "avg_closing_price",
    "avg_pe",
    "n_pe",
)
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


def _pick(metrics: Sequence[str] | None, allowed: tuple[str, ...]) -> list[str]:
    chosen = list(metrics) if metrics else list(allowed)
    unknown = [m for m in chosen if m not in allowed]
    if unknown:
        raise InputError(
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


def _resolve(engine: sa.Engine, level: str, name: str) -> str:
    column = _companies.c.sector if level == "sector" else _companies.c.sub_industry
    with engine.connect() as conn:
        names = [r[0] for r in conn.execute(sa.select(column).distinct().order_by(column))]
    for candidate in names:
        if candidate.casefold() == name.casefold():
            return str(candidate)
    hint = ", ".join(names) if len(names) <= 20 else f"{len(names)} names; see the companies"
    raise InputError(f"no {level.replace('_', '-')} of that name ({hint})", field=level, value=name)


def group_history(
    engine: sa.Engine, level: str, name: str, metrics: Sequence[str] | None = None
) -> list[dict[str, Any]]:
    """Per calendar quarter averages for one sector or sub-industry (``level``)."""
    resolved = _resolve(engine, level, name)
    columns = [_aggregates.c[m] for m in _pick(metrics, AGGREGATE_METRICS)]
    query = (
        sa.select(_aggregates.c.quarter_end, *columns)
        .where(_aggregates.c.level == level, _aggregates.c.name == resolved)
        .order_by(_aggregates.c.quarter_end)
    )
    with engine.connect() as conn:
        return [dict(r._mapping) for r in conn.execute(query)]


def company_history(
    engine: sa.Engine, ticker: str, metrics: Sequence[str] | None = None
) -> list[dict[str, Any]]:
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
        return [dict(r._mapping) for r in conn.execute(query)]


def _find_company(conn: sa.Connection, ticker: str) -> sa.Row[Any]:
    """A current constituent by ticker, else the latest former member with that ticker."""
    wanted = ticker.upper()
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
        raise InputError("neither a constituent nor a former member", field="ticker", value=ticker)
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


def loaded_row_counts(engine: sa.Engine, tables: Sequence[str]) -> dict[str, int]:
    """Rows per table as the last load left them (tables not created yet are left out)."""
    existing = set(sa.inspect(engine).get_table_names())
    with engine.connect() as conn:
        return {
            name: int(conn.execute(sa.text(f'SELECT count(*) FROM "{name}"')).scalar_one())
            for name in tables
            if name in existing
        }
