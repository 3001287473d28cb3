"""Stock splits of one company, read from its companyfacts filings (``SPLIT_EVENTS``).

A split shows in the filings in two ways:

1. EPS of a period filed again later, divided by a clean ratio: after Apple's 7-for-1 split
   of 2014 its FY2012 diluted EPS of 44.15 was filed again as 6.31. Both figures are rounded
   to cents, so ``old = ratio * new`` holds within ``0.005 * (1 + ratio)``, for one ratio of
   ``RATIOS``. The new share basis started after the last filing with the old figure and
   on or before the first filing with the new one. Restatements of at least two periods by
   one ratio, in overlapping windows, make a split; a single one (unless a ratio fact
   confirms it), or a change by no clean ratio, is a correction: Apple's FY2009 EPS 6.29
   restated as 9.08 in 2010 for a change in revenue accounting. EPS below 0.10 is not
   compared: cents rounding makes its ratio meaningless.
2. A split-ratio fact (``RATIO_CONCEPTS``), dated by an instant (the day the filer names:
   Apple's and NVIDIA's distribution days, after whose close the new basis trades) or by a
   duration (NVIDIA dates its 2024 split by a month). Of the facts of one split the latest
   filed wins: NVIDIA first dated its 2021 split by the day shareholders approved it.

A split is dated by the window both agree on; when they disagree the EPS window wins, as
it is the one the EPS bases depend on, and the derivation says so. Price sources give no
dates: the Stooq daily files are already adjusted and publish no list of splits.
"""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import date, timedelta
from fractions import Fraction
from itertools import pairwise
from typing import Any

import pyarrow as pa

from etl_service.src.adapters.sec.companyfacts import (
    COUNTED_FORMS,
    TAXONOMY,
    CompanyFacts,
    Fact,
    Period,
)
from etl_service.src.models.schemas import SPLIT_EVENTS, arrow_schema

EPS_CONCEPTS: tuple[str, ...] = (
    "EarningsPerShareDiluted",
    "EarningsPerShareBasic",
    "EarningsPerShareBasicAndDiluted",
)
RATIO_CONCEPTS: tuple[str, ...] = (
    "StockholdersEquityNoteStockSplitConversionRatio1",
    "StockholdersEquityNoteStockSplitConversionRatio",
)

_WHOLE = (2, 3, 4, 5, 6, 7, 8, 9, 10, 12, 15, 20, 25, 30, 40, 50)
RATIOS: tuple[Fraction, ...] = (
    *(Fraction(n) for n in _WHOLE),
    *(Fraction(n, d) for n, d in ((3, 2), (4, 3), (5, 3), (5, 4), (5, 2))),
    *(Fraction(1, n) for n in (*_WHOLE, 100)),
)
"""New shares per old share of the splits recognised (1/10 is a 1-for-10 reverse split)."""

MIN_EPS = 0.10
MIN_PERIODS = 2
SAME_SPLIT_DAYS = 366
"""Ratio facts and EPS windows of one ratio this close together describe one split."""


@dataclass(frozen=True)
class Restatement:
    """An EPS figure filed again with another value; ``ratio`` when it is a clean one."""

    concept: str
    period: Period
    old: float
    new: float
    old_filed: date
    new_filed: date
    ratio: Fraction | None


@dataclass(frozen=True)
class Window:
    """The days the new share basis may have started: ``first`` .. ``last``, inclusive."""

    first: date
    last: date

    def meet(self, other: Window) -> Window | None:
        first, last = max(self.first, other.first), min(self.last, other.last)
        return Window(first, last) if first <= last else None

    def gap(self, other: Window) -> int:
        """Days between the two windows; 0 when they overlap."""
        return max((other.first - self.last).days, (self.first - other.last).days, 0)


@dataclass(frozen=True)
class RatioFact:
    """A split-ratio fact: its value, the window its date gives, and its filing."""

    ratio: Fraction
    window: Window
    dated: str
    filed: date


@dataclass(frozen=True)
class SplitEvent:
    """One split: its ratio, the window of its first day on the new basis, the evidence."""

    ratio: Fraction
    window: Window
    derivation: str

    def row(self, cik: str) -> dict[str, Any]:
        return {
            "cik": cik,
            "old_basis_before": self.window.first,
            "new_basis_from": self.window.last,
            "split_ratio": float(self.ratio),
            "split": f"{self.ratio.numerator}-for-{self.ratio.denominator}",
            "derivation": self.derivation,
        }


def clean_ratio(old: float, new: float) -> Fraction | None:
    """The ratio of ``RATIOS`` that ``old / new`` is, within cents rounding, else None."""
    if min(abs(old), abs(new)) < MIN_EPS or old * new <= 0:
        return None
    fits = [r for r in RATIOS if abs(old - new * float(r)) <= 0.005 * (1 + float(r)) + 1e-9]
    if not fits:
        return None
    observed = math.log(old / new)
    return min(fits, key=lambda r: abs(observed - math.log(r)))


def restatements(history: Mapping[str, list[Fact]]) -> list[Restatement]:
    """Every change of an EPS figure between two successive filings that reported it."""
    found: list[Restatement] = []
    for concept in EPS_CONCEPTS:
        by_period: dict[Period, list[Fact]] = defaultdict(list)
        for fact in history.get(concept, []):
            by_period[fact.period].append(fact)
        for period, facts in by_period.items():
            facts.sort(key=lambda f: f.filing_key)
            for before, after in pairwise(facts):
                if before.value == after.value or before.filed >= after.filed:
                    continue
                found.append(
                    Restatement(
                        concept,
                        period,
                        float(before.value),
                        float(after.value),
                        before.filed,
                        after.filed,
                        clean_ratio(float(before.value), float(after.value)),
                    )
                )
    return found


def ratio_facts(companyfacts: Mapping[str, Any]) -> list[RatioFact]:
    """The split-ratio facts of 10-Q and 10-K filings; malformed ones are skipped."""
    taxonomy = companyfacts.get("facts", {}).get(TAXONOMY, {})
    found: list[RatioFact] = []
    for concept in RATIO_CONCEPTS:
        entry = taxonomy.get(concept)
        units = entry.get("units") if isinstance(entry, Mapping) else None
        rows = units.get("pure") if isinstance(units, Mapping) else None
        for row in rows if isinstance(rows, list) else []:
            if not isinstance(row, Mapping):
                continue
            try:
                value, end = float(row["val"]), date.fromisoformat(str(row["end"]))
                start = date.fromisoformat(str(row["start"])) if row.get("start") else None
                filed, form = date.fromisoformat(str(row["filed"])), str(row["form"])
            except (KeyError, TypeError, ValueError):
                continue
            if form not in COUNTED_FORMS or not math.isfinite(value) or value <= 0 or value == 1:
                continue
            # an instant names the day the split was effected: trading on the new basis
            # starts that day or the next; a duration names a span containing it
            window = Window(start or end, end + timedelta(days=1))
            dated = f"{start}..{end}" if start else str(end)
            ratio = Fraction(value).limit_denominator(100)
            found.append(RatioFact(ratio, window, dated, filed))
    return found


def _eps_splits(found: Iterable[Restatement]) -> list[tuple[Fraction, Window, list[Restatement]]]:
    """Restatements by one clean ratio whose windows overlap, grouped; one group a split."""
    by_ratio: dict[Fraction, list[Restatement]] = defaultdict(list)
    for item in found:
        if item.ratio is not None:
            by_ratio[item.ratio].append(item)
    groups: list[tuple[Fraction, Window, list[Restatement]]] = []
    for ratio, items in by_ratio.items():
        items.sort(key=lambda r: r.new_filed)
        current: list[Restatement] = []
        window = Window(date.min, date.max)
        for item in items:
            own = Window(item.old_filed + timedelta(days=1), item.new_filed)
            joined = window.meet(own)
            if joined is None:
                groups.append((ratio, window, current))
                current, joined = [], own
            current.append(item)
            window = joined
        if current:
            groups.append((ratio, window, current))
    return groups


def _product_of_others(
    ratio: Fraction, window: Window, groups: list[tuple[Fraction, Window, list[Restatement]]]
) -> bool:
    """True when splits dated inside ``window`` explain ``ratio`` (28 = 7 x 4)."""
    inside = [g for g in groups if g[0] != ratio and window.first <= g[1].first <= window.last]
    product = math.prod((g[0] for g in inside), start=Fraction(1))
    return len(inside) > 1 and product == ratio


def _latest_facts(facts: list[RatioFact]) -> list[RatioFact]:
    """The latest filed ratio fact of each split (facts of one ratio within a year)."""
    chosen: list[RatioFact] = []
    for fact in sorted(facts, key=lambda f: f.filed, reverse=True):
        if not any(
            c.ratio == fact.ratio and c.window.gap(fact.window) <= SAME_SPLIT_DAYS for c in chosen
        ):
            chosen.append(fact)
    return chosen


def _describe_eps(ratio: Fraction, window: Window, items: list[Restatement]) -> str:
    periods = len({r.period for r in items})
    before = window.first - timedelta(days=1)
    return (
        f"EPS of {periods} periods refiled divided by {ratio} (old basis last filed {before}, "
        f"new basis first filed {window.last})"
    )


def split_events(facts: CompanyFacts, companyfacts: Mapping[str, Any]) -> list[SplitEvent]:
    """The splits ``facts`` (EPS history) and ``companyfacts`` (ratio facts) show, by date.

    Args:
        facts: the company's facts as loaded with the EPS concepts (their ``history``).
        companyfacts: the decoded companyfacts document, for the split-ratio facts.

    Returns:
        One event per split, ordered by the first day surely on the new basis.
    """
    groups = _eps_splits(restatements(facts.history))
    unmatched = _latest_facts(ratio_facts(companyfacts))
    events: list[SplitEvent] = []
    for ratio, window, items in groups:
        fact = next(
            (
                f
                for f in unmatched
                if ratio in (f.ratio, 1 / f.ratio) and f.window.gap(window) <= SAME_SPLIT_DAYS
            ),
            None,
        )
        evidence = _describe_eps(ratio, window, items)
        if fact is None:
            if len({r.period for r in items}) < MIN_PERIODS:
                continue
            if _product_of_others(ratio, window, groups):
                continue
            events.append(SplitEvent(ratio, window, evidence))
            continue
        unmatched.remove(fact)
        named = f"ratio fact {fact.ratio} dated {fact.dated} (filed {fact.filed})"
        agreed = window.meet(fact.window)
        if agreed is None:
            events.append(SplitEvent(ratio, window, f"{evidence}; {named} disagrees, not used"))
        else:
            events.append(SplitEvent(ratio, agreed, f"{named}; {evidence}"))
    for fact in unmatched:
        named = f"ratio fact {fact.ratio} dated {fact.dated} (filed {fact.filed})"
        events.append(SplitEvent(fact.ratio, fact.window, f"{named}; no EPS restated by it"))
    return sorted(events, key=lambda e: e.window.last)


def split_table(cik: str, events: Iterable[SplitEvent]) -> pa.Table:
    """``events`` as rows of ``SPLIT_EVENTS``."""
    return pa.Table.from_pylist([e.row(cik) for e in events], schema=arrow_schema(SPLIT_EVENTS))
