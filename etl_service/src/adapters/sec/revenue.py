"""Revenue per quarter: concept fallback per period, with one documented tie-break rule.

Companies switch revenue tags over time (Apple: SalesRevenueNet → Revenues →
RevenueFromContractWithCustomerExcludingAssessedTax), so every quarter is resolved on its
own from every candidate concept.

Tie-break rule, when several candidates have a value for the same quarter:
  1. the **largest** value wins: each candidate is meant to be total revenue, and a smaller
     value is a component, a segment or a mis-tagged context (P&G FY2014: ``Revenues`` =
     29.4B against ``SalesRevenueNet`` = 83.06B, the real total);
  2. on equal values, a reported value beats a derived one, then the concept earlier in
     ``PRIMARY_CONCEPTS`` wins.
``FALLBACK_CONCEPTS`` are used only when no primary concept has a value for the quarter:
revenue including excise taxes is larger than the revenue a company reports as its total,
so it must not win rule 1. Each concept is derived (YTD difference) from its own facts
only; concepts are never mixed within one subtraction.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from etl_service.src.adapters.sec.companyfacts import Fact, Period
from etl_service.src.adapters.sec.quarters import Resolved, resolve

PRIMARY_CONCEPTS: tuple[str, ...] = (
    "RevenueFromContractWithCustomerExcludingAssessedTax",
    "Revenues",
    "SalesRevenueNet",
    "RevenuesNetOfInterestExpense",  # banks: total net revenue
)
FALLBACK_CONCEPTS: tuple[str, ...] = ("RevenueFromContractWithCustomerIncludingAssessedTax",)
CONCEPTS: tuple[str, ...] = PRIMARY_CONCEPTS + FALLBACK_CONCEPTS


@dataclass(frozen=True)
class RevenueChoice:
    """The chosen revenue of a quarter, its concept, and the candidates that disagreed."""

    concept: str
    resolved: Resolved
    disagreeing: tuple[tuple[str, float], ...] = ()


def choose_revenue(
    facts_by_concept: Mapping[str, Mapping[Period, Fact]], quarter: Period
) -> RevenueChoice | None:
    """Apply the module's rule to the candidates for ``quarter``; None if there are none."""
    for group in (PRIMARY_CONCEPTS, FALLBACK_CONCEPTS):
        candidates: list[tuple[int, str, Resolved]] = []
        for rank, concept in enumerate(group):
            found = resolve(facts_by_concept.get(concept, {}), quarter)
            if found is not None:
                candidates.append((rank, concept, found))
        if not candidates:
            continue
        _, concept, best = min(candidates, key=lambda c: (-c[2].value, c[2].derived, c[0]))
        values = {c[2].value for c in candidates}
        disagreeing = tuple((c[1], c[2].value) for c in candidates) if len(values) > 1 else ()
        return RevenueChoice(concept, best, disagreeing)
    return None
