"""The project's data-quality rules in DQDL, AWS Glue Data Quality's language, rule by rule.

Each rule of ``src.transforms.quality`` maps to one top-level DQDL rule with the same
verdict, or to none with a note saying why. DQDL's own semantics decide the wording: a NULL
fails every ``ColumnValues`` rule except ``= NULL`` (the project's row rules let NULLs
through, so NULL is allowed explicitly), ``between`` is exclusive, and composites are flat
(``(a) and (b)`` or ``(a) or (b)``, never nested), so an inclusive band that lets NULLs
through is a ``CustomSql`` that returns the passing rows, written with the rule's own SQL
predicate.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass

from etl_service.settings import QualitySettings
from etl_service.src.models.quality import Severity
from etl_service.src.models.schemas import CURATED_TABLES, TABLES_BY_NAME, TableSpec
from etl_service.src.transforms.quality import GICS_SECTORS, SHRINK_RULE, Rule, rules


@dataclass(frozen=True)
class DqdlRule:
    """One project rule in DQDL: ``dqdl`` is None when DQDL cannot express it.

    ``row_level``: Glue reports, row by row, which rows fail it (quarantine comes from
    those); otherwise the verdict is for the table as a whole. ``references`` are the
    other tables it reads (``additional_data_sources`` of ``EvaluateDataQuality``).
    """

    rule: str
    table: str
    severity: Severity
    dqdl: str | None
    row_level: bool = False
    references: tuple[str, ...] = ()
    note: str = ""


def _q(text: str) -> str:
    return '"' + text.replace('"', '\\"') + '"'


def _all(parts: Sequence[str]) -> str:
    return parts[0] if len(parts) == 1 else " and ".join(f"({p})" for p in parts)


def _number(value: float) -> str:
    return f"{value:g}" if float(value).is_integer() else repr(float(value))


def _not_null(rule: Rule, spec: TableSpec, _: QualitySettings) -> DqdlRule:
    required = [c.name for c in spec.columns if not c.nullable]
    dqdl = _all([f"IsComplete {_q(c)}" for c in required])
    return DqdlRule(rule.name, rule.table, rule.severity, dqdl, row_level=True)


def _unique_key(rule: Rule, spec: TableSpec, _: QualitySettings) -> DqdlRule:
    dqdl = "IsPrimaryKey " + " ".join(_q(k) for k in spec.key)
    note = "IsPrimaryKey also requires the key complete, which not_null requires already"
    return DqdlRule(rule.name, rule.table, rule.severity, dqdl, note=note)


def _sector(rule: Rule, spec: TableSpec, _: QualitySettings) -> DqdlRule:
    sectors = ", ".join(_q(s) for s in sorted(GICS_SECTORS))
    note = "a NULL sector fails here, and fails not_null in the project's rules"
    return DqdlRule(
        rule.name,
        rule.table,
        rule.severity,
        f'ColumnValues "sector" in [{sectors}]',
        True,
        (),
        note,
    )


def _count(rule: Rule, spec: TableSpec, settings: QualitySettings) -> DqdlRule:
    # DQDL's between is exclusive: one step outside each bound keeps both bounds allowed.
    low, high = settings.constituents_min - 1, settings.constituents_max + 1
    return DqdlRule(rule.name, rule.table, rule.severity, f"RowCount between {low} and {high}")


def _sub_industry(rule: Rule, spec: TableSpec, _: QualitySettings) -> DqdlRule:
    dqdl = 'ReferentialIntegrity "sub_industry" "sub_industries.sub_industry" = 1.0'
    return DqdlRule(rule.name, rule.table, rule.severity, dqdl, references=("sub_industries",))


def _at_least(column: str, op: str, bound: float) -> Callable[..., DqdlRule]:
    def render(rule: Rule, spec: TableSpec, _: QualitySettings) -> DqdlRule:
        values = f"ColumnValues {_q(column)}"
        dqdl = f"({values} {op} {_number(bound)}) or ({values} = NULL)"
        return DqdlRule(rule.name, rule.table, rule.severity, dqdl, row_level=True)

    return render


def _band(rule: Rule, spec: TableSpec, _: QualitySettings) -> DqdlRule:
    if rule.predicate is None or '"' in rule.predicate:
        raise ValueError(f"{rule.name}: a CustomSql band needs a predicate without quotes")
    key = ", ".join(spec.key)
    sql = f"SELECT {key} FROM primary WHERE NOT COALESCE({rule.predicate}, false)"
    note = "CustomSql returns the passing rows: an inclusive band that lets NULLs through"
    return DqdlRule(rule.name, rule.table, rule.severity, f"CustomSql {_q(sql)}", True, (), note)


def _ticker(rule: Rule, spec: TableSpec, _: QualitySettings) -> DqdlRule:
    note = (
        "ReferentialIntegrity has no row-level results: the job takes the rows to "
        "quarantine from the rule's own SQL"
    )
    dqdl = 'ReferentialIntegrity "ticker" "companies.ticker" = 1.0'
    return DqdlRule(rule.name, rule.table, rule.severity, dqdl, False, ("companies",), note)


_RENDERERS: dict[str, Callable[[Rule, TableSpec, QualitySettings], DqdlRule]] = {
    "not_null": _not_null,
    "unique_key": _unique_key,
    "sector_is_gics": _sector,
    "constituent_count_between_": _count,
    "sub_industry_exists": _sub_industry,
    "revenue_not_negative": _at_least("revenue", ">=", 0),
    "profit_margin_between_": _band,
    "closing_price_positive": _at_least("closing_price", ">", 0),
    "pe_between_": _band,
    "prices_pe_ticker_is_a_company": _ticker,
}
"""A rule name (or the prefix of a parametrized one) and its DQDL."""


def dqdl_rule(rule: Rule, settings: QualitySettings) -> DqdlRule:
    """``rule`` in DQDL, or with ``dqdl`` None and a note when it has no mapping."""
    spec = TABLES_BY_NAME[rule.table]
    for name, render in _RENDERERS.items():
        if rule.name == name or (name.endswith("_") and rule.name.startswith(name)):
            return render(rule, spec, settings)
    return DqdlRule(rule.name, rule.table, rule.severity, None, note="no DQDL mapping")


def shrink_rule(table: str) -> DqdlRule:
    """``no_shrink``, which DQDL cannot express."""
    note = (
        "compares with the rows the database holds from the last load and yields to "
        "--allow-shrink; DQDL's dynamic rules (RowCount > last(1) * 0.5) compare with Glue's "
        "own history of earlier evaluations instead, so the job keeps the project's check"
    )
    return DqdlRule(SHRINK_RULE, table, Severity.CRITICAL, None, note=note)


def export(settings: QualitySettings) -> list[DqdlRule]:
    """Every rule on the curated tables in DQDL, ``no_shrink`` included."""
    names = {spec.name for spec in CURATED_TABLES}
    mapped = [dqdl_rule(rule, settings) for rule in rules(names, settings)]
    return mapped + [shrink_rule(spec.name) for spec in CURATED_TABLES]


def ruleset(mapped: Iterable[DqdlRule]) -> str:
    """A DQDL ruleset of the rules that have a DQDL form."""
    lines = [m.dqdl for m in mapped if m.dqdl is not None]
    return "Rules = [\n" + ",\n".join(f"    {line}" for line in lines) + "\n]"
