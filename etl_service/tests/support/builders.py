"""Small canonical tables for store tests."""

from __future__ import annotations

from datetime import date

import pyarrow as pa

from etl_service.src.models.schemas import QUARTERLY_REPORTS, arrow_schema


def quarterly_reports(revenues: list[int | None]) -> pa.Table:
    """Apple-like quarters of 2024 with the given revenues and awkward text values."""
    n = len(revenues)
    return pa.Table.from_pydict(
        {
            "cik": ["0000320193"] * n,
            "fiscal_year": [2024] * n,
            "fiscal_quarter": [q + 1 for q in range(n)],
            "period_start": [date(2024, 1 + 3 * q, 1) for q in range(n)],
            "period_end": [date(2024, 3 + 3 * q, 28) for q in range(n)],
            "revenue": revenues,
            "net_income": [10] * n,
            "eps_basic": [1.5] * n,
            "eps_diluted": [1.25] * n,
            "eps_diluted_ytd": [None] * n,
            "eps_diluted_filed": [None] * n,
            "eps_diluted_ytd_filed": [None] * n,
            "profit_margin": [0.1] * n,
            "revenue_concept": ['Revenues, with ünïcode and "quotes", commas'] * n,
            "form": ["10-Q"] * n,
            "accession": [""] * n,  # empty string must stay distinct from null
            "filed": [None] * n,
            "derived": [False] * n,
            "derivation": [None] * n,
        },
        schema=arrow_schema(QUARTERLY_REPORTS),
    )
