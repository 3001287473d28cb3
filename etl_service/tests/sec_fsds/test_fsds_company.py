"""One company's FSDS facts go through the companyfacts extraction unchanged."""

from __future__ import annotations

import json
from datetime import date
from typing import Any

import pandas as pd
import pytest

from etl_service.src.adapters.sec.fsds_company import (
    FACT_COLUMNS,
    OUTPUT_COLUMNS,
    company_rows,
    companyfacts_document,
)
from etl_service.src.adapters.sec.quarterly import extract_quarterly
from etl_service.src.models.schemas import QUARTERLY_REPORTS

pytestmark = pytest.mark.unit

APPLE_10Q = "0001193125-09-153165"


def _fact(
    concept: str, start: str, val: float, *, unit: str = "USD", **extra: Any
) -> dict[str, Any]:
    fact = {
        "cik": "0000320193",
        "concept": concept,
        "unit": unit,
        "start": start,
        "end": "2009-06-30",
        "val": val,
        "accn": APPLE_10Q,
        "fy": "2009",
        "fp": "Q3",
        "form": "10-Q",
        "filed": "2009-07-22",
        "fye": "0930",
        "quarter": "2009q3",
    }
    return fact | extra


def _apple(**extra: Any) -> list[dict[str, Any]]:
    return [
        _fact("SalesRevenueNet", "2009-04-01", 8_337_000_000.0, **extra),
        _fact("NetIncomeLoss", "2009-04-01", 1_229_000_000.0, **extra),
        _fact("EarningsPerShareDiluted", "2009-04-01", 1.35, unit="USD/shares", **extra),
        _fact("EarningsPerShareDiluted", "2008-10-01", 4.47, unit="USD/shares", **extra),
    ]


def _frame(facts: list[dict[str, Any]]) -> pd.DataFrame:
    return pd.DataFrame(facts, columns=list(FACT_COLUMNS))


def test_document_has_the_companyfacts_shape() -> None:
    doc = companyfacts_document("0000320193", _apple(fy=float("nan"), fp=None))

    assert doc["cik"] == 320193
    revenue = doc["facts"]["us-gaap"]["SalesRevenueNet"]["units"]["USD"]
    assert revenue == [
        {
            "start": "2009-04-01",
            "end": "2009-06-30",
            "val": 8_337_000_000,
            "accn": APPLE_10Q,
            "fy": None,
            "fp": None,
            "form": "10-Q",
            "filed": "2009-07-22",
        }
    ]
    assert isinstance(revenue[0]["val"], int)
    eps = doc["facts"]["us-gaap"]["EarningsPerShareDiluted"]["units"]["USD/shares"]
    assert [f["val"] for f in eps] == [1.35, 4.47]


def test_company_rows_are_the_companyfacts_extraction() -> None:
    out = company_rows(_frame(_apple()))

    assert list(out.columns) == list(OUTPUT_COLUMNS)
    assert out["_kind"].tolist() == ["row"]
    row = out.iloc[0]
    assert (row["fiscal_year"], row["fiscal_quarter"]) == (2009, 3)
    assert (row["period_start"], row["period_end"]) == (date(2009, 4, 1), date(2009, 6, 30))
    assert (row["revenue"], row["net_income"]) == (8_337_000_000, 1_229_000_000)
    assert (row["eps_diluted"], row["eps_diluted_ytd"]) == (1.35, 4.47)
    assert (row["form"], row["accession"], row["filed"]) == ("10-Q", APPLE_10Q, date(2009, 7, 22))
    expected = extract_quarterly(
        companyfacts_document("0000320193", _apple()), "x", fiscal_year_end="0930"
    ).table.to_pylist()
    assert [{c: row[c] for c in QUARTERLY_REPORTS.column_names}] == expected


def test_fiscal_year_end_of_the_latest_filing_labels_and_a_change_is_warned() -> None:
    later = _apple(accn="0001193125-09-999999", form="10-Q/A", filed="2009-09-01", fye="1231")

    out = company_rows(_frame(_apple() + later))

    rows = out[out["_kind"] == "row"]
    assert (rows.iloc[0]["fiscal_year"], rows.iloc[0]["fiscal_quarter"]) == (2009, 2)
    assert rows.iloc[0]["accession"] == "0001193125-09-999999"
    warnings = out.loc[out["_kind"] == "warning", "_message"].tolist()
    assert warnings == [
        "FSDS 2009q3 CIK 0000320193: fiscal-year end differs between filings (0930, 1231); "
        "quarters labelled with 1231 from the latest filing 0001193125-09-999999"
    ]


def test_unusable_fiscal_year_end_rejects_the_company_with_the_reason() -> None:
    out = company_rows(_frame(_apple(fye="1399")))

    assert out["_kind"].tolist() == ["rejected"]
    rejected = out.iloc[0]
    assert rejected["_key"] == "0000320193"
    assert "invalid fiscal-year end" in rejected["_message"]
    assert "'1399'" in rejected["_message"]
    assert json.loads(rejected["_record"]) == {"cik": "0000320193", "fye": "1399"}
    assert rejected["revenue"] is None
