"""Reading a companyfacts document and selecting the facts that count.

Only duration facts from 10-Q and 10-K filings (and their /A amendments) count; for each
concept and period the latest filed value wins (ties on the filing date go to the later
accession number), so restatements, including split-adjusted EPS, replace earlier values.
The replaced values stay in ``CompanyFacts.history``: they date the stock splits.
"""

from __future__ import annotations

import logging
import math
import threading
from collections.abc import Collection, Mapping
from dataclasses import dataclass, field
from datetime import date
from typing import Any

import simdjson

from etl_service.errors import InputError, SchemaError
from etl_service.src.adapters import files
from etl_service.src.models.records import Rejected, plain_record, short_repr
from etl_service.src.models.schemas import QUARTERLY_REPORTS

logger = logging.getLogger(__name__)

COUNTED_FORMS: frozenset[str] = frozenset({"10-Q", "10-K", "10-Q/A", "10-K/A"})
ANNUAL_FORMS: frozenset[str] = frozenset({"10-K", "10-K/A"})
TAXONOMY = "us-gaap"
MAX_ABS_FACT_VALUE = 1e15
"""Bound on the magnitude of a counted fact: no company reports a flow, a share count or an
EPS near 10^15 (world GDP is about 10^14 USD), and the int64 columns end near 9.2 * 10^18."""

Period = tuple[date, date]
"""(start, end), both inclusive, as companyfacts writes them."""


@dataclass(frozen=True)
class Fact:
    """One reported value of a concept for a duration, with the filing that reported it."""

    concept: str
    start: date
    end: date
    value: float
    form: str
    accession: str
    filed: date

    @property
    def period(self) -> Period:
        return (self.start, self.end)

    @property
    def days(self) -> int:
        """Length of the period in days, both ends included."""
        return (self.end - self.start).days + 1

    @property
    def filing_key(self) -> tuple[date, str]:
        """Orders filings: later filed first, then later accession."""
        return (self.filed, self.accession)


@dataclass
class CompanyFacts:
    """The selected facts of one company: concept → period → the fact that counts."""

    cik: str
    name: str
    facts: dict[str, dict[Period, Fact]]
    warnings: list[str] = field(default_factory=list)
    history: dict[str, list[Fact]] = field(default_factory=dict)
    """Every counted fact per concept, the replaced ones too."""
    rejected: list[Rejected] = field(default_factory=list)
    """Facts refused for their value (not finite, or out of range), each with its reason."""

    def concept(self, name: str) -> dict[Period, Fact]:
        return self.facts.get(name, {})


def cik10(cik: int | str) -> str:
    """Zero-padded 10-digit CIK; raise InputError for anything that is not a CIK."""
    text = str(cik).strip()
    if text.upper().startswith("CIK"):
        text = text[3:]
    if not text.isdigit() or len(text) > 10 or int(text) == 0:
        raise InputError("not a CIK", field="cik", value=cik)
    return text.zfill(10)


def parse_json(data: bytes, source: str) -> Mapping[str, Any]:
    """Decode a companyfacts body; raise InputError naming the line for malformed JSON."""
    doc = files.parse_json(data, source)
    if not isinstance(doc, Mapping):
        raise SchemaError("expected a JSON object", source=source, value=type(doc).__name__)
    return doc


_parsers = threading.local()


def read_companyfacts(data: bytes, source: str, concepts: Collection[str]) -> Mapping[str, Any]:
    """The parts of a companyfacts body the rules read: ``cik``, ``entityName`` and the
    ``concepts`` of the us-gaap taxonomy, in the document's own shape.

    simdjson validates the whole body (a truncated or malformed one fails as a whole) and
    only the selected concepts become Python objects: a few percent of a company's facts.
    A body it refuses, or whose shape differs from SEC's (a duplicate key, where simdjson
    and ``json`` disagree on which value counts), goes through ``parse_json`` instead, so
    the result and every error are those of the full parse.
    """
    try:
        selected = _select_concepts(data, concepts)
    except (ValueError, RuntimeError):  # refused by simdjson; parse_json names the problem
        selected = None
    return parse_json(data, source) if selected is None else selected


def _select_concepts(data: bytes, concepts: Collection[str]) -> dict[str, Any] | None:
    """The selection, or None where the body's shape asks for the full parse."""
    parser = getattr(_parsers, "parser", None)
    if parser is None:  # one per thread: a parser holds one document at a time
        parser = _parsers.parser = simdjson.Parser()
    doc = parser.parse(data)
    if not isinstance(doc, simdjson.Object) or _duplicated(doc, ("cik", "entityName", "facts")):
        return None
    facts = doc.get("facts")
    if not isinstance(facts, simdjson.Object) or _duplicated(facts, (TAXONOMY,)):
        return None
    taxonomy: Any = facts.get(TAXONOMY, {})
    if not isinstance(taxonomy, simdjson.Object | dict) or _duplicated(taxonomy, concepts):
        return None
    selected = {concept: _plain(taxonomy[concept]) for concept in concepts if concept in taxonomy}
    head = {key: doc[key] for key in ("cik", "entityName") if key in doc}
    if not all(isinstance(value, int | str | None) for value in head.values()):
        return None
    return {**head, "facts": {TAXONOMY: selected}}


def _duplicated(obj: Any, keys: Collection[str]) -> bool:
    if isinstance(obj, dict):
        return False
    wanted = [key for key in obj if key in keys]
    return len(wanted) != len(set(wanted))


def _plain(value: Any) -> Any:
    if isinstance(value, simdjson.Object):
        return value.as_dict()
    if isinstance(value, simdjson.Array):
        return value.as_list()
    return value


def load_companyfacts(
    companyfacts: bytes | Mapping[str, Any],
    source: str,
    units: Mapping[str, frozenset[str]],
) -> CompanyFacts:
    """Select the facts of the concepts in ``units`` (concept → accepted units).

    Args:
        companyfacts: the JSON body or the decoded document.
        source: a name for messages (file path or URL).
        units: the concepts to read and the units accepted for each; facts in other units
            are skipped with a warning.

    Returns:
        The selected facts, with warnings about skipped or conflicting facts.
    """
    doc = parse_json(companyfacts, source) if isinstance(companyfacts, bytes) else companyfacts
    facts_doc = doc.get("facts")
    if not isinstance(facts_doc, Mapping):
        raise SchemaError("no 'facts' object", source=source, field="facts")
    cik_value = doc.get("cik")
    try:
        cik = cik10(cik_value if isinstance(cik_value, int | str) else "")
    except InputError as exc:
        raise SchemaError(
            "missing or invalid CIK", source=source, field="cik", value=cik_value
        ) from exc
    taxonomy = facts_doc.get(TAXONOMY, {})
    if not isinstance(taxonomy, Mapping):
        raise SchemaError("taxonomy is not an object", source=source, field=f"facts.{TAXONOMY}")
    result = CompanyFacts(cik=cik, name=str(doc.get("entityName") or ""), facts={})
    for concept, accepted in units.items():
        entry = taxonomy.get(concept)
        if entry is None:
            continue
        unit_map = entry.get("units") if isinstance(entry, Mapping) else None
        if not isinstance(unit_map, Mapping):
            result.warnings.append(f"{source}: {concept} has no 'units' object; concept skipped")
            continue
        selected: dict[Period, Fact] = {}
        history = result.history.setdefault(concept, [])
        for unit, rows in unit_map.items():
            if unit not in accepted:
                count = len(rows) if isinstance(rows, list) else 0
                result.warnings.append(
                    f"{source}: {concept} reported in unexpected unit {unit!r} "
                    f"(expected {' or '.join(sorted(accepted))}); {count} facts skipped"
                )
                continue
            if not isinstance(rows, list):
                result.warnings.append(f"{source}: {concept}/{unit} is not a list; skipped")
                continue
            _select(concept, rows, selected, history, result, source)
        if selected:
            result.facts[concept] = selected
    return result


def _select(
    concept: str,
    rows: list[Any],
    selected: dict[Period, Fact],
    history: list[Fact],
    result: CompanyFacts,
    source: str,
) -> None:
    """Keep, per period, the latest filed counted fact of ``rows`` in ``selected``; every
    counted fact in ``history``; a counted fact with an impossible value in the rejects."""
    ignored_forms = 0
    warnings = result.warnings
    for row in rows:
        fact = _fact(concept, row, warnings, source)
        if fact is None:
            continue
        if fact.form not in COUNTED_FORMS:
            ignored_forms += 1
            continue
        problem = value_problem(fact.value)
        if problem is not None:
            result.rejected.append(_rejected(result.cik, fact, problem, source, row))
            continue
        history.append(fact)
        current = selected.get(fact.period)
        if current is None or fact.filing_key > current.filing_key:
            selected[fact.period] = fact
        elif fact.filing_key == current.filing_key and fact.value != current.value:
            warnings.append(
                f"{source}: {concept} {fact.start}..{fact.end} has two values in filing "
                f"{fact.accession} ({current.value} and {fact.value}); kept {current.value}"
            )
    if ignored_forms:
        logger.debug("%s: %s: ignored %d facts from other forms", source, concept, ignored_forms)


def _fact(concept: str, row: Any, warnings: list[str], source: str) -> Fact | None:
    """One companyfacts row as a Fact; None (with a warning if malformed) for instants."""
    if not isinstance(row, Mapping):
        warnings.append(f"{source}: {concept}: fact is not an object; skipped")
        return None
    if row.get("start") is None:
        return None  # an instant, not a duration: never a flow such as revenue
    try:
        value = row["val"]
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise TypeError(f"val {value!r} is not a number")
        return Fact(
            concept=concept,
            start=date.fromisoformat(str(row["start"])),
            end=date.fromisoformat(str(row["end"])),
            value=value,
            form=str(row["form"]),
            accession=str(row["accn"]),
            filed=date.fromisoformat(str(row["filed"])),
        )
    except (KeyError, TypeError, ValueError) as exc:
        # reprlib: bounded depth and length, whatever the document nests in a fact
        warnings.append(f"{source}: {concept}: malformed fact skipped ({exc}): {short_repr(row)}")
        return None


def value_problem(value: float) -> str | None:
    """Why ``value`` cannot be a reported figure, or None when it can."""
    if not math.isfinite(value):
        return "is not a finite number"
    if abs(value) > MAX_ABS_FACT_VALUE:
        return f"is out of range (magnitude over {MAX_ABS_FACT_VALUE:g})"
    return None


def _rejected(cik: str, fact: Fact, problem: str, source: str, row: Mapping[str, Any]) -> Rejected:
    """A fact refused for its value, as a quarantine row of ``quarterly_reports``."""
    period = f"{fact.start}..{fact.end}"
    return Rejected(
        table=QUARTERLY_REPORTS.name,
        record_key=f"{cik}|{fact.concept}|{period}|{fact.accession}",
        reason=f"CIK {cik}: {fact.concept} {period} value {fact.value!r} {problem}",
        source=source,
        record={"cik": cik, "concept": fact.concept, **plain_record(row)},
    )
