"""Quarterly revenue, net income and EPS per fiscal quarter from one companyfacts document.

Units and meanings of the output (``QUARTERLY_REPORTS``):
- ``revenue``/``net_income``: USD as reported (int64); ``eps_*``: USD per share as reported.
- ``profit_margin``: net_income / revenue as a fraction (0.25 = 25%); null when either is
  missing or revenue is not positive.
- EPS is never derived by subtraction: it is the reported value for the quarter, or that
  quarter's net income divided by its weighted shares (rounded to cents, as reported EPS
  is), or null. Any row whose EPS is not reported is flagged as derived.
- ``eps_diluted_ytd``: the fiscal year-to-date diluted EPS as reported for the span from the
  fiscal-year start to ``period_end`` (Q1: 3 months, Q2: 6, Q3: 9, Q4: the fiscal year from
  the 10-K). It is a reported fact or null, never computed, and does not flag the row. The
  span must start on a fiscal-year start: the start of that fiscal year's Q1 row, or the day
  after a fiscal-year end of the calendar (the 10-K annual periods, or ``fiscal_year_end``).
  Like every fact it is the latest filed value, so split-adjusted as of that filing only.
- ``eps_diluted_filed``/``eps_diluted_ytd_filed``: the filing date of each diluted EPS
  figure (for a computed one, of its share count). A figure is restated for a split only in
  filings made after the split, so this date fixes its share basis (see ``splits``).
- ``form``/``accession``/``filed`` name the filing credited for revenue (for a derived
  revenue, the later-filed of its two facts, normally the 10-K); net income's when revenue
  is missing.
- ``derivation`` lists how each derived value was obtained, e.g.
  ``revenue=FY-9M; net_income=FY-9M; eps_diluted=null (not reported)``.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from datetime import date, timedelta
from typing import Any

import pyarrow as pa

from etl_service.errors import InputError
from etl_service.src.adapters.sec import revenue
from etl_service.src.adapters.sec.companyfacts import (
    ANNUAL_FORMS,
    CompanyFacts,
    Fact,
    Period,
    load_companyfacts,
    read_companyfacts,
)
from etl_service.src.adapters.sec.quarters import (
    FiscalCalendar,
    Resolved,
    is_year,
    quarter_count,
    quarter_periods,
    resolve,
)
from etl_service.src.adapters.sec.splits import RATIO_CONCEPTS, split_events, split_table
from etl_service.src.models.records import Extracted, Rejected
from etl_service.src.models.schemas import QUARTERLY_REPORTS, SPLIT_EVENTS, arrow_schema

logger = logging.getLogger(__name__)

NET_INCOME_CONCEPTS: tuple[str, ...] = ("NetIncomeLoss", "ProfitLoss")
EPS_BASIC_CONCEPTS: tuple[str, ...] = ("EarningsPerShareBasic", "EarningsPerShareBasicAndDiluted")
EPS_DILUTED_CONCEPTS: tuple[str, ...] = (
    "EarningsPerShareDiluted",
    "EarningsPerShareBasicAndDiluted",
)
BASIC_SHARES = "WeightedAverageNumberOfSharesOutstandingBasic"
DILUTED_SHARES = "WeightedAverageNumberOfDilutedSharesOutstanding"

_USD = frozenset({"USD"})
_PER_SHARE = frozenset({"USD/shares", "USD/share"})
_SHARES = frozenset({"shares"})
UNITS: dict[str, frozenset[str]] = {
    **{c: _USD for c in (*revenue.CONCEPTS, *NET_INCOME_CONCEPTS)},
    **{c: _PER_SHARE for c in (*EPS_BASIC_CONCEPTS, *EPS_DILUTED_CONCEPTS)},
    BASIC_SHARES: _SHARES,
    DILUTED_SHARES: _SHARES,
}
CONCEPTS_READ: tuple[str, ...] = (*UNITS, *RATIO_CONCEPTS)
"""Every us-gaap concept the quarterly rules and the split dating read."""


def extract_quarterly(
    companyfacts: bytes | Mapping[str, Any],
    source: str,
    *,
    fiscal_year_end: str | None = None,
) -> Extracted:
    """One row per fiscal quarter of one company, sorted by period end.

    Args:
        companyfacts: the companyfacts JSON body, or the decoded document.
        source: a name for messages and rejections (file path or URL).
        fiscal_year_end: ``MMDD`` (the submissions API's ``fiscalYearEnd``); by default the
            fiscal-year ends are read from the annual periods of the 10-K facts.

    Returns:
        Rows conforming to ``arrow_schema(QUARTERLY_REPORTS)``; a company without any
        quarterly revenue or net income facts gives no rows and a warning. The company's
        stock splits come along as ``related["split_events"]``.
    """
    doc = (
        read_companyfacts(companyfacts, source, CONCEPTS_READ)
        if isinstance(companyfacts, bytes)
        else companyfacts
    )
    facts = load_companyfacts(doc, source, UNITS)
    splits = {SPLIT_EVENTS.name: split_table(facts.cik, split_events(facts, doc))}
    warnings = list(facts.warnings)
    schema = arrow_schema(QUARTERLY_REPORTS)
    revenue_facts = {c: facts.concept(c) for c in revenue.CONCEPTS}
    income_facts = [facts.concept(c) for c in NET_INCOME_CONCEPTS]
    if not any(revenue_facts.values()):
        warnings.append(
            f"{source}: no revenue facts in 10-Q/10-K filings "
            f"(looked for {', '.join(revenue.CONCEPTS)}); revenue will be null"
        )
    periods = quarter_periods([*revenue_facts.values(), *income_facts])
    if not periods:
        warnings.append(
            f"{source}: CIK {facts.cik} has no quarterly revenue or net income facts; skipped"
        )
        return Extracted(schema.empty_table(), list(facts.rejected), warnings, splits)
    calendar = _calendar(facts, fiscal_year_end, periods, source)
    rows = [_row(facts, calendar, p, warnings, source) for p in sorted(periods, key=_end)]
    kept, rejected = _unique(rows, facts.cik, source)
    rejected[:0] = facts.rejected
    _set_eps_ytd(kept, facts, calendar)
    for message in warnings:
        logger.warning("%s", message)
    table = pa.Table.from_pylist(kept, schema=schema)
    return Extracted(table, rejected, warnings, splits)


def _end(period: Period) -> date:
    return period[1]


def _calendar(
    facts: CompanyFacts, fiscal_year_end: str | None, periods: set[Period], source: str
) -> FiscalCalendar:
    if fiscal_year_end is not None:
        years = [end.year for _, end in periods]
        return FiscalCalendar.from_month_day(fiscal_year_end, min(years) - 1, max(years))
    annual = [
        fact.period
        for concept in (*revenue.CONCEPTS, *NET_INCOME_CONCEPTS)
        for fact in facts.concept(concept).values()
        if fact.form in ANNUAL_FORMS and is_year(fact.period)
    ]
    calendar = FiscalCalendar.from_periods(annual)
    if not calendar.year_ends:
        raise InputError(
            "cannot tell the fiscal-year end: no annual period in any 10-K; pass the "
            "company's fiscalYearEnd (MMDD) from the submissions API",
            source=source,
            field="fiscal_year_end",
        )
    return calendar


def _first(facts: CompanyFacts, concepts: tuple[str, ...], quarter: Period) -> Resolved | None:
    for concept in concepts:
        if (found := resolve(facts.concept(concept), quarter)) is not None:
            return found
    return None


def _eps(
    facts: CompanyFacts,
    name: str,
    concepts: tuple[str, ...],
    shares_concept: str,
    net_income: Resolved | None,
    quarter: Period,
) -> tuple[float | None, date | None, str | None]:
    """Reported EPS for the quarter, else net income / weighted shares, else null; with the
    filing date of the EPS or of the share count."""
    for concept in concepts:
        if (reported := facts.concept(concept).get(quarter)) is not None:
            return float(reported.value), reported.filed, None
    shares = facts.concept(shares_concept).get(quarter)
    if net_income is not None and shares is not None and shares.value > 0:
        eps = round(net_income.value / shares.value, 2)
        return eps, shares.filed, f"{name}=net_income/{shares_concept}"
    return None, None, f"{name}=null (not reported for the quarter)"


def _row(
    facts: CompanyFacts,
    calendar: FiscalCalendar,
    quarter: Period,
    warnings: list[str],
    source: str,
) -> dict[str, Any]:
    revenue_facts = {c: facts.concept(c) for c in revenue.CONCEPTS}
    choice = revenue.choose_revenue(revenue_facts, quarter)
    income = _first(facts, NET_INCOME_CONCEPTS, quarter)
    derivations: list[str] = []
    if choice is not None:
        if choice.disagreeing:
            listed = ", ".join(f"{c}={v:,.0f}" for c, v in choice.disagreeing)
            warnings.append(
                f"{source}: revenue candidates disagree for {quarter[0]}..{quarter[1]} "
                f"({listed}); took {choice.concept} (largest)"
            )
        if choice.resolved.derivation:
            derivations.append(f"revenue={choice.resolved.derivation}")
    if income is not None and income.derivation:
        derivations.append(f"net_income={income.derivation}")
    eps_basic, _, how_basic = _eps(
        facts, "eps_basic", EPS_BASIC_CONCEPTS, BASIC_SHARES, income, quarter
    )
    eps_diluted, eps_filed, how_diluted = _eps(
        facts, "eps_diluted", EPS_DILUTED_CONCEPTS, DILUTED_SHARES, income, quarter
    )
    derivations += [how for how in (how_basic, how_diluted) if how]
    revenue_value = int(choice.resolved.value) if choice is not None else None
    income_value = int(income.value) if income is not None else None
    credited: Fact | None = choice.resolved.fact if choice is not None else None
    if credited is None and income is not None:
        credited = income.fact
    fiscal_year, fiscal_quarter = calendar.label(quarter[1])
    margin = (
        income_value / revenue_value
        if income_value is not None and revenue_value is not None and revenue_value > 0
        else None
    )
    return {
        "cik": facts.cik,
        "fiscal_year": fiscal_year,
        "fiscal_quarter": fiscal_quarter,
        "period_start": quarter[0],
        "period_end": quarter[1],
        "revenue": revenue_value,
        "net_income": income_value,
        "eps_basic": eps_basic,
        "eps_diluted": eps_diluted,
        "eps_diluted_ytd": None,
        "eps_diluted_filed": eps_filed,
        "eps_diluted_ytd_filed": None,
        "profit_margin": margin,
        "revenue_concept": choice.concept if choice is not None else None,
        "form": credited.form if credited else None,
        "accession": credited.accession if credited else None,
        "filed": credited.filed if credited else None,
        "derived": bool(derivations),
        "derivation": "; ".join(derivations) or None,
    }


def _set_eps_ytd(rows: list[dict[str, Any]], facts: CompanyFacts, calendar: FiscalCalendar) -> None:
    """Fill ``eps_diluted_ytd`` with the reported diluted EPS from the fiscal-year start."""
    year_starts = {end + timedelta(days=1) for end in calendar.year_ends}
    year_starts |= {row["period_start"] for row in rows if row["fiscal_quarter"] == 1}
    for row in rows:
        quarters, end = row["fiscal_quarter"], row["period_end"]
        for concept in EPS_DILUTED_CONCEPTS:
            spans = [
                fact
                for period, fact in facts.concept(concept).items()
                if period[1] == end
                and period[0] in year_starts
                and quarter_count(period) == quarters
            ]
            if spans:
                # Two candidate starts only days apart (a fiscal-year start given as MMDD and
                # the Q1 row's) are settled like any duplicate: the latest filing wins.
                latest = max(spans, key=lambda f: f.filing_key)
                row["eps_diluted_ytd"] = float(latest.value)
                row["eps_diluted_ytd_filed"] = latest.filed
                break


def _score(row: Mapping[str, Any], starts: set[date]) -> tuple[bool, bool, int, date]:
    """Which of two rows for one quarter to keep: reported revenue, contiguous with the next
    quarter (a mistyped end date is not), more values, then the later start."""
    reported_revenue = row["revenue"] is not None and "revenue=" not in (row["derivation"] or "")
    contiguous = row["period_end"] + timedelta(days=1) in starts
    values = sum(row[c] is not None for c in ("revenue", "net_income", "eps_diluted"))
    return (reported_revenue, contiguous, values, row["period_start"])


def _unique(
    rows: list[dict[str, Any]], cik: str, source: str
) -> tuple[list[dict[str, Any]], list[Rejected]]:
    """Keep one row per period end and per fiscal quarter; reject the others with a reason."""
    starts = {row["period_start"] for row in rows}
    ranked = sorted(rows, key=lambda r: _score(r, starts), reverse=True)
    taken: dict[object, dict[str, Any]] = {}
    kept_ids: set[int] = set()
    rejected: list[Rejected] = []
    for row in ranked:
        keys = (row["period_end"], (row["fiscal_year"], row["fiscal_quarter"]))
        winner = next((taken[k] for k in keys if k in taken), None)
        if winner is None:
            taken.update(dict.fromkeys(keys, row))
            kept_ids.add(id(row))
            continue
        rejected.append(
            Rejected(
                table=QUARTERLY_REPORTS.name,
                record_key=f"{cik}|{row['period_end']}",
                reason=(
                    f"period {row['period_start']}..{row['period_end']} duplicates fiscal "
                    f"{winner['fiscal_year']} Q{winner['fiscal_quarter']}, kept as "
                    f"{winner['period_start']}..{winner['period_end']}"
                ),
                source=source,
                record={k: str(v) if isinstance(v, date) else v for k, v in row.items()},
            )
        )
    return [r for r in rows if id(r) in kept_ids], rejected
