"""Data-quality rules, defined once as SQL that DuckDB and Spark both run.

A rule selects the rows that fail it. Critical rules abort the load. Row rules with a
``predicate`` quarantine the failing rows (kept in the quarantine table with the rule as
the reason) and let the rest through, recorded as a warning.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

import pyarrow as pa

from etl_service.settings import QualitySettings
from etl_service.src.models.quality import CheckResult, Severity
from etl_service.src.models.records import Rejected
from etl_service.src.models.schemas import TABLES_BY_NAME, TableSpec
from etl_service.src.transforms.sql_runner import SqlSession

GICS_SECTORS: frozenset[str] = frozenset(
    {
        "Communication Services",
        "Consumer Discretionary",
        "Consumer Staples",
        "Energy",
        "Financials",
        "Health Care",
        "Industrials",
        "Information Technology",
        "Materials",
        "Real Estate",
        "Utilities",
    }
)

SAMPLE_ROWS = 5


@dataclass(frozen=True)
class Rule:
    """One rule on one table; ``predicate`` makes it a quarantining row rule."""

    name: str
    table: str
    severity: Severity
    failing_sql: str
    predicate: str | None = None


def _row_rule(name: str, table: str, predicate: str) -> Rule:
    return Rule(
        name, table, Severity.WARNING, f"SELECT * FROM {table} WHERE {predicate}", predicate
    )


def _not_null_rule(spec: TableSpec) -> Rule:
    required = [c.name for c in spec.columns if not c.nullable]
    predicate = " OR ".join(f"{c} IS NULL" for c in required)
    return Rule(
        "not_null", spec.name, Severity.CRITICAL, f"SELECT * FROM {spec.name} WHERE {predicate}"
    )


def _unique_key_rule(spec: TableSpec) -> Rule:
    key = ", ".join(spec.key)
    sql = f"SELECT {key}, COUNT(*) AS copies FROM {spec.name} GROUP BY {key} HAVING COUNT(*) > 1"
    return Rule("unique_key", spec.name, Severity.CRITICAL, sql)


def rules(present: set[str], settings: QualitySettings) -> list[Rule]:
    """The rules that apply to the tables ``present``."""
    out: list[Rule] = []
    for name in sorted(present & set(TABLES_BY_NAME)):
        out += [_not_null_rule(TABLES_BY_NAME[name]), _unique_key_rule(TABLES_BY_NAME[name])]
    sectors = ", ".join(f"'{s}'" for s in sorted(GICS_SECTORS))
    if "companies" in present:
        out.append(
            Rule(
                "sector_is_gics",
                "companies",
                Severity.CRITICAL,
                f"SELECT ticker, sector FROM companies WHERE sector NOT IN ({sectors})",
            )
        )
        low, high = settings.constituents_min, settings.constituents_max
        out.append(
            Rule(
                f"constituent_count_between_{low}_and_{high}",
                "companies",
                Severity.CRITICAL,
                "SELECT COUNT(*) AS constituents FROM companies "
                f"HAVING COUNT(*) < {low} OR COUNT(*) > {high}",
            )
        )
    if {"companies", "sub_industries"} <= present:
        out.append(
            Rule(
                "sub_industry_exists",
                "companies",
                Severity.CRITICAL,
                "SELECT c.ticker, c.sub_industry FROM companies AS c "
                "LEFT JOIN sub_industries AS s ON s.sub_industry = c.sub_industry "
                "WHERE s.sub_industry IS NULL",
            )
        )
    if "quarterly_reports" in present:
        out.append(_row_rule("revenue_not_negative", "quarterly_reports", "revenue < 0"))
        out.append(
            _row_rule(
                f"profit_margin_between_{settings.margin_min:g}_and_{settings.margin_max:g}",
                "quarterly_reports",
                f"profit_margin < {settings.margin_min} OR profit_margin > {settings.margin_max}",
            )
        )
    if "prices_pe" in present:
        out.append(_row_rule("closing_price_positive", "prices_pe", "closing_price <= 0"))
        out.append(
            _row_rule(
                f"pe_between_{settings.pe_min:g}_and_{settings.pe_max:g}",
                "prices_pe",
                f"price_earnings_ratio < {settings.pe_min} "
                f"OR price_earnings_ratio > {settings.pe_max}",
            )
        )
    if {"prices_pe", "companies"} <= present:
        out.append(
            _row_rule(
                "prices_pe_ticker_is_a_company",
                "prices_pe",
                "ticker NOT IN (SELECT ticker FROM companies)",
            )
        )
    return out


@dataclass
class QualityOutcome:
    """Results per rule, the tables (engine frames) without quarantined rows, and the
    quarantined rows."""

    results: list[CheckResult]
    tables: dict[str, Any]
    quarantined: list[Rejected]


def _key_of(spec: TableSpec, row: Mapping[str, Any]) -> str:
    return "|".join(str(row.get(k)) for k in spec.key)


FailingRows = Callable[[Rule], tuple[pa.Table, Any | None]]
"""How a rule's failing rows are found: the rows (Arrow) and, for a quarantining rule, the
table's frame without them (None: selected by the rule's predicate)."""


def row_counts(session: SqlSession, tables: list[str]) -> dict[str, int]:
    """Every table's row count in one query (one job on Spark, not one per table)."""
    if not tables:
        return {}
    counts = ", ".join(f"(SELECT COUNT(*) FROM {t}) AS {t}" for t in tables)
    row = session.query(f"SELECT {counts}").to_pylist()[0]
    return {t: int(row[t]) for t in tables}


def evaluate(
    engine: SqlSession,
    tables: Mapping[str, Any],
    settings: QualitySettings,
    failing_rows: Callable[[Mapping[str, Any]], FailingRows] | None = None,
) -> QualityOutcome:
    """Run every rule in ``engine``'s session; quarantine the failing rows of row rules.

    Only the failing rows travel to the caller (as Arrow); the kept tables stay frames of
    the engine. A table's rules run in order, each on the rows the earlier ones kept.

    Args:
        engine: the session the tables are registered in.
        tables: the frames to check, by table name.
        settings: the rules' thresholds.
        failing_rows: given the tables, what finds each rule's failing rows (Glue's
            EvaluateDataQuality); default: the rule's SQL in ``engine``.
    """
    results: list[CheckResult] = []
    kept = dict(tables)
    quarantined: list[Rejected] = []
    for name, table in tables.items():
        engine.register(name, table)
    checked_rules = rules(set(tables), settings)
    # Counted as given, before any quarantine.
    counts = row_counts(engine, sorted({rule.table for rule in checked_rules}))
    find = (
        failing_rows(tables)
        if failing_rows
        else lambda rule: (engine.query(rule.failing_sql), None)
    )
    for rule in checked_rules:
        failing, without = find(rule)
        checked = counts[rule.table]
        samples = failing.slice(0, SAMPLE_ROWS).to_pylist()
        results.append(
            CheckResult(
                rule.name,
                rule.table,
                rule.severity,
                failing.num_rows,
                checked,
                json.loads(json.dumps(samples, default=str)),
            )
        )
        if rule.predicate and failing.num_rows:
            spec = TABLES_BY_NAME[rule.table]
            quarantined += [
                Rejected(rule.table, _key_of(spec, row), f"data quality: {rule.name}", None, row)
                for row in failing.to_pylist()
            ]
            kept[rule.table] = (
                without
                if without is not None
                else engine.select(
                    f"SELECT * FROM {rule.table} WHERE NOT COALESCE({rule.predicate}, false)"
                )
            )
            engine.register(rule.table, kept[rule.table])
    return QualityOutcome(results, kept, quarantined)


SHRINK_RULE = "no_shrink"


def shrink_results(
    previous: Mapping[str, int],
    current: Mapping[str, int],
    max_shrink: float,
    allowed: bool = False,
) -> list[CheckResult]:
    """One ``no_shrink`` result per table loaded before: failed (by the rows it would lose)
    when the new load is empty or smaller by more than ``max_shrink`` of the previous rows.

    Critical unless ``allowed`` (``--allow-shrink``), when it is a warning the run records.
    """
    severity = Severity.WARNING if allowed else Severity.CRITICAL
    results = []
    for table, before in sorted(previous.items()):
        if table not in current or before == 0:
            continue
        after = current[table]
        shrinks = after == 0 or after < before * (1 - max_shrink)
        results.append(
            CheckResult(
                SHRINK_RULE,
                table,
                severity,
                failed=before - after if shrinks else 0,
                checked=before,
                samples=[{"previous_rows": before, "new_rows": after}] if shrinks else [],
            )
        )
    return results
