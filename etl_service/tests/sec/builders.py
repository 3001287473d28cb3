"""Small synthetic companyfacts documents for the SEC tests."""

from __future__ import annotations

import json
from typing import Any

CIK = 80424


def fact(
    start: str,
    end: str,
    val: float,
    *,
    form: str = "10-Q",
    accn: str = "0000080424-14-000001",
    filed: str = "2014-08-08",
    fy: int = 2014,
    fp: str = "Q1",
) -> dict[str, Any]:
    return {
        "start": start,
        "end": end,
        "val": val,
        "accn": accn,
        "fy": fy,
        "fp": fp,
        "form": form,
        "filed": filed,
    }


def companyfacts(concepts: dict[str, list[dict[str, Any]]], unit: str = "USD") -> dict[str, Any]:
    """A companyfacts document; EPS concepts get ``USD/shares`` and share counts ``shares``."""
    gaap: dict[str, Any] = {}
    for concept, facts in concepts.items():
        this_unit = (
            "USD/shares"
            if concept.startswith("EarningsPerShare")
            else "shares"
            if concept.startswith("WeightedAverage")
            else unit
        )
        gaap[concept] = {"label": concept, "units": {this_unit: facts}}
    return {"cik": CIK, "entityName": "Synthetic Co", "facts": {"us-gaap": gaap}}


def body(doc: dict[str, Any]) -> bytes:
    return json.dumps(doc).encode()


# A fiscal year July-June (P&G's): FY2014 = 2013-07-01..2014-06-30.
FY = ("2013-07-01", "2014-06-30")
Q1 = ("2013-07-01", "2013-09-30")
H1 = ("2013-07-01", "2013-12-31")
Q2 = ("2013-10-01", "2013-12-31")
M9 = ("2013-07-01", "2014-03-31")
Q3 = ("2014-01-01", "2014-03-31")
