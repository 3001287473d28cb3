"""FMP income statements (v3 and "stable" field names) mapped to ``QUARTERLY_REPORTS``.

FMP renamed fields between its v3 and "stable" APIs (``fillingDate`` → ``filingDate``,
``calendarYear`` → ``fiscalYear``, ``epsdiluted`` → ``epsDiluted``); both are read.
FMP gives no period start: it is the previous statement's end + 1 day when that statement
is in the payload and one period earlier, else the end minus one period (+1 day); either
way the row is flagged as derived. Annual statements get ``fiscal_quarter`` 0 (the whole
fiscal year). ``profit_margin`` is net_income / revenue as a fraction.
``eps_diluted_ytd`` (fiscal year-to-date diluted EPS) is the statement's diluted EPS for
annual statements, whose span is the fiscal year, and null for quarterly ones: FMP gives no
year-to-date figures and they are never computed. FMP restates past EPS for splits up to
the day it answers, which it does not say: ``eps_diluted_filed`` and
``eps_diluted_ytd_filed`` (the split basis) stay null.
"""

from __future__ import annotations

import calendar
import re
from collections.abc import Mapping
from datetime import date, timedelta
from typing import Any, Literal

import pyarrow as pa

from etl_service.errors import InputError, SchemaError
from etl_service.src.adapters.fmp.client import FmpClient
from etl_service.src.adapters.sec.companyfacts import value_problem
from etl_service.src.models.records import Extracted, Rejected, plain_record, short_repr
from etl_service.src.models.schemas import QUARTERLY_REPORTS, arrow_schema

Period = Literal["quarter", "annual"]

_ALIASES: dict[str, tuple[str, ...]] = {
    "filed": ("filingDate", "fillingDate"),
    "fiscal_year": ("fiscalYear", "calendarYear"),
    "eps_basic": ("eps",),
    "eps_diluted": ("epsDiluted", "epsdiluted"),
}
_QUARTERS = {"Q1": 1, "Q2": 2, "Q3": 3, "Q4": 4, "FY": 0}
_PERIOD_DAYS = {"quarter": range(77, 120), "annual": range(350, 381)}
_ACCESSION = re.compile(r"\d{10}-\d{2}-\d{6}")
REVENUE_CONCEPT = "fmp:revenue"


def fetch_income_statement(
    client: FmpClient,
    symbol: str,
    period: Period,
    *,
    api: Literal["stable", "v3"] = "stable",
    limit: int = 40,
) -> Extracted:
    """GET FMP's income statement for ``symbol`` and map it (see ``map_income_statement``)."""
    params = {"period": period, "limit": str(limit)}
    if api == "stable":
        path, params = "stable/income-statement", {**params, "symbol": symbol}
    else:
        path = f"api/v3/income-statement/{symbol}"
    return map_income_statement(client.get_json(path, params), period, f"fmp:{path}:{symbol}")


def map_income_statement(payload: Any, period: Period, source: str) -> Extracted:
    """Map an FMP income-statement payload (a JSON list) to ``QUARTERLY_REPORTS`` rows.

    Rows without a date, CIK, revenue or net income, or not in USD, are rejected with
    the reason; duplicate period ends keep the later-filed statement.
    """
    if not isinstance(payload, list):
        raise SchemaError("expected a JSON list of statements", source=source)
    rows: list[dict[str, Any]] = []
    rejected: list[Rejected] = []
    for index, record in enumerate(payload):
        try:
            rows.append(_row(record, source))
        except InputError as exc:
            rejected.append(
                Rejected(
                    QUARTERLY_REPORTS.name,
                    f"{source}[{index}]",
                    str(exc),
                    source,
                    plain_record(record)
                    if isinstance(record, Mapping)
                    else {"value": short_repr(record)},
                )
            )
    rows = _latest_per_end(rows, rejected, source)
    _set_period_starts(rows, period)
    table = pa.Table.from_pylist(rows, schema=arrow_schema(QUARTERLY_REPORTS))
    return Extracted(table, rejected, [])


def _field(record: Mapping[str, Any], name: str) -> Any:
    for key in _ALIASES.get(name, (name,)):
        if record.get(key) is not None:
            return record[key]
    return None


def _required(record: Mapping[str, Any], key: str, source: str) -> Any:
    value = record.get(key)
    if value is None or value == "":
        raise InputError("missing field", source=source, field=key)
    return value


def _row(record: Any, source: str) -> dict[str, Any]:
    if not isinstance(record, Mapping):
        raise InputError("statement is not an object", source=source, value=record)
    currency = record.get("reportedCurrency")
    if currency not in (None, "USD"):
        raise InputError(
            "not reported in USD", source=source, field="reportedCurrency", value=currency
        )
    period = str(_required(record, "period", source))
    if period not in _QUARTERS:
        raise InputError("unknown period", source=source, field="period", value=period)
    try:
        end = date.fromisoformat(str(_required(record, "date", source)))
        cik = str(int(str(_required(record, "cik", source)))).zfill(10)
        fiscal_year = int(str(_field(record, "fiscal_year") or end.year))
        revenue = int(_figure(_required(record, "revenue", source), "revenue", source))
        net_income = int(_figure(_required(record, "netIncome", source), "netIncome", source))
        filed_text = _field(record, "filed")
        filed = date.fromisoformat(str(filed_text)[:10]) if filed_text else None
        eps_basic = _number(_field(record, "eps_basic"), "eps_basic", source)
        eps_diluted = _number(_field(record, "eps_diluted"), "eps_diluted", source)
    except (TypeError, ValueError) as exc:
        raise InputError(f"unreadable value: {exc}", source=source) from exc
    accession = _ACCESSION.search(str(record.get("link") or ""))
    return {
        "cik": cik,
        "fiscal_year": fiscal_year,
        "fiscal_quarter": _QUARTERS[period],
        "period_start": None,
        "period_end": end,
        "revenue": revenue,
        "net_income": net_income,
        "eps_basic": eps_basic,
        "eps_diluted": eps_diluted,
        "eps_diluted_ytd": eps_diluted if period == "FY" else None,
        "profit_margin": net_income / revenue if revenue > 0 else None,
        "revenue_concept": REVENUE_CONCEPT,
        "form": None,
        "accession": accession.group(0) if accession else None,
        "filed": filed,
        "derived": True,
        "derivation": None,
    }


def _figure(value: Any, name: str, source: str) -> float:
    """``value`` as a number; InputError when it is not one, not finite or out of range."""
    number = float(value)
    problem = value_problem(number)
    if problem is not None:
        raise InputError(f"value {problem}", source=source, field=name, value=value)
    return number


def _number(value: Any, name: str, source: str) -> float | None:
    return _figure(value, name, source) if value is not None else None


def _latest_per_end(
    rows: list[dict[str, Any]], rejected: list[Rejected], source: str
) -> list[dict[str, Any]]:
    by_end: dict[tuple[str, date], dict[str, Any]] = {}
    for row in sorted(rows, key=lambda r: r["filed"] or date.min):
        key = (row["cik"], row["period_end"])
        if key in by_end:
            old = by_end[key]
            rejected.append(
                Rejected(
                    QUARTERLY_REPORTS.name,
                    f"{key[0]}|{key[1]}",
                    f"superseded by the statement filed {row['filed']}",
                    source,
                    {k: str(v) if isinstance(v, date) else v for k, v in old.items()},
                )
            )
        by_end[key] = row
    return sorted(by_end.values(), key=lambda r: (r["cik"], r["period_end"]))


def _set_period_starts(rows: list[dict[str, Any]], period: Period) -> None:
    """Fill ``period_start`` and ``derivation`` (rows are sorted by cik, period_end)."""
    previous: dict[str, Any] | None = None
    for row in rows:
        end: date = row["period_end"]
        if previous is not None and previous["cik"] == row["cik"]:
            gap = (end - previous["period_end"]).days
        else:
            gap = -1
        if gap in _PERIOD_DAYS[period]:
            row["period_start"] = previous["period_end"] + timedelta(days=1) if previous else end
            row["derivation"] = "period_start=previous period_end+1d"
        else:
            row["period_start"] = _minus_period(end, period) + timedelta(days=1)
            length = "1y" if period == "annual" else "3 months"
            row["derivation"] = f"period_start=period_end-{length}+1d (no previous statement)"
        previous = row


def _minus_period(end: date, period: Period) -> date:
    months = 12 if period == "annual" else 3
    month_index = end.year * 12 + end.month - 1 - months
    year, month = divmod(month_index, 12)
    return date(year, month + 1, min(end.day, calendar.monthrange(year, month + 1)[1]))
