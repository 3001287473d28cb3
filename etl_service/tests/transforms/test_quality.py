"""Data-quality rules: critical failures, quarantined rows, and the count band."""

from __future__ import annotations

from datetime import date

import pyarrow as pa
import pytest

from etl_service.engines.duckdb import DuckDbSession
from etl_service.settings import QualitySettings
from etl_service.src.models.quality import Severity
from etl_service.src.models.schemas import COMPANIES, QUARTERLY_REPORTS, arrow_schema
from etl_service.src.transforms.quality import evaluate

pytestmark = pytest.mark.unit


def _companies(rows: list[tuple[str, str, str]]) -> pa.Table:
    return pa.Table.from_pylist(
        [
            {c: None for c in COMPANIES.column_names}
            | {"ticker": t, "name": t.lower(), "sector": s, "sub_industry": sub, "cik": "1"}
            for t, s, sub in rows
        ],
        schema=arrow_schema(COMPANIES),
    )


def _reports(revenues: list[int], margins: list[float]) -> pa.Table:
    return pa.Table.from_pylist(
        [
            {c: None for c in QUARTERLY_REPORTS.column_names}
            | {
                "cik": "1",
                "fiscal_year": 2024,
                "fiscal_quarter": i + 1,
                "period_start": date(2024, 1 + 3 * i, 1),
                "period_end": date(2024, 3 + 3 * i, 28),
                "revenue": r,
                "profit_margin": m,
                "derived": False,
            }
            for i, (r, m) in enumerate(zip(revenues, margins, strict=True))
        ],
        schema=arrow_schema(QUARTERLY_REPORTS),
    )


def _by_rule(outcome: object) -> dict[str, int]:
    return {f"{r.table}.{r.rule}": r.failed for r in outcome.results}  # type: ignore[attr-defined]


def test_clean_tables_pass_every_rule() -> None:
    companies = _companies([("AAA", "Energy", "Oil"), ("BBB", "Utilities", "Power")])
    outcome = evaluate(
        DuckDbSession(),
        {"companies": companies, "quarterly_reports": _reports([10, 20], [0.1, 0.2])},
        QualitySettings(constituents_min=2, constituents_max=3),
    )
    assert all(r.passed for r in outcome.results)
    assert sorted(_by_rule(outcome)) == [
        "companies.constituent_count_between_2_and_3",
        "companies.not_null",
        "companies.sector_is_gics",
        "companies.unique_key",
        "quarterly_reports.not_null",
        "quarterly_reports.profit_margin_between_-10_and_1",
        "quarterly_reports.revenue_not_negative",
        "quarterly_reports.unique_key",
    ]
    assert outcome.quarantined == []


def test_bad_sector_duplicate_key_and_count_band_are_critical() -> None:
    companies = _companies([("AAA", "Energy", "Oil"), ("AAA", "Tech", "Chips")])
    outcome = evaluate(DuckDbSession(), {"companies": companies}, QualitySettings())
    failed = {k: v for k, v in _by_rule(outcome).items() if v}
    assert failed == {
        "companies.unique_key": 1,
        "companies.sector_is_gics": 1,
        "companies.constituent_count_between_495_and_510": 1,
    }
    assert {r.severity for r in outcome.results if not r.passed} == {Severity.CRITICAL}
    sector = next(r for r in outcome.results if r.rule == "sector_is_gics")
    assert sector.samples == [{"ticker": "AAA", "sector": "Tech"}]


def test_row_rules_quarantine_the_failing_rows_and_keep_the_rest() -> None:
    reports = _reports([100, -5, 50], [0.2, 0.1, 3.5])
    outcome = evaluate(DuckDbSession(), {"quarterly_reports": reports}, QualitySettings())
    assert _by_rule(outcome)["quarterly_reports.revenue_not_negative"] == 1
    assert _by_rule(outcome)["quarterly_reports.profit_margin_between_-10_and_1"] == 1
    assert outcome.tables["quarterly_reports"].column("revenue").to_pylist() == [100]
    reasons = sorted((q.record_key, q.reason) for q in outcome.quarantined)
    assert reasons == [
        ("1|2024-06-28", "data quality: revenue_not_negative"),
        ("1|2024-09-28", "data quality: profit_margin_between_-10_and_1"),
    ]


def test_implausible_pe_is_quarantined_as_a_split_basis_mismatch() -> None:
    from etl_service.src.models.schemas import PRICES_PE

    rows = [
        {c: None for c in PRICES_PE.column_names}
        | {"ticker": "AAPL", "period_end": date(2012, 12, 29), "price_earnings_ratio": pe}
        for pe in (1.48, 16.7)
    ]
    rows[1]["period_end"] = date(2017, 9, 30)
    table = pa.Table.from_pylist(rows, schema=arrow_schema(PRICES_PE))
    outcome = evaluate(DuckDbSession(), {"prices_pe": table}, QualitySettings())
    assert _by_rule(outcome)["prices_pe.pe_between_3_and_1000"] == 1
    assert outcome.tables["prices_pe"].column("price_earnings_ratio").to_pylist() == [16.7]
    assert [q.record_key for q in outcome.quarantined] == ["AAPL|2012-12-29"]
