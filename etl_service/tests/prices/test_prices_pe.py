"""P/E = quarter-end close / trailing-twelve-month diluted EPS, with its null cases."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date
from pathlib import Path
from typing import Any

import pyarrow as pa
import pytest

from etl_service.src.adapters.prices.daily_csv import DailyCsvFolder
from etl_service.src.models.schemas import COMPANIES, PRICES_PE, QUARTERLY_REPORTS, arrow_schema
from etl_service.src.transforms.prices_pe import compute_prices_pe

pytestmark = pytest.mark.unit

APPLE = "0000320193"
NVIDIA = "0001045810"
ALPHABET = "0001652044"

# Quarterly diluted EPS from ../shared/data/sec/companyfacts/CIK0000320193.json and
# CIK0001045810.json (us-gaap:EarningsPerShareDiluted, latest filing of each quarter).
APPLE_QUARTERS = [  # (fiscal year, quarter, start, end, diluted EPS)
    (2016, 1, date(2015, 9, 27), date(2015, 12, 26), 3.28),
    (2016, 2, date(2015, 12, 27), date(2016, 3, 26), 1.90),
    (2016, 3, date(2016, 3, 27), date(2016, 6, 25), 1.42),
    (2016, 4, date(2016, 6, 26), date(2016, 9, 24), 1.67),
    (2017, 1, date(2016, 9, 25), date(2016, 12, 31), 3.36),
    (2017, 2, date(2017, 1, 1), date(2017, 4, 1), 2.10),
    (2017, 3, date(2017, 4, 2), date(2017, 7, 1), 1.67),
    (2017, 4, date(2017, 7, 2), date(2017, 9, 30), 2.07),
    (2018, 1, date(2017, 10, 1), date(2017, 12, 30), 3.89),
]
NVIDIA_QUARTERS = [
    (2018, 1, date(2017, 1, 30), date(2017, 4, 30), 0.79),
    (2018, 2, date(2017, 5, 1), date(2017, 7, 30), 0.92),
    (2018, 3, date(2017, 7, 31), date(2017, 10, 29), 1.33),
    (2017, 4, date(2016, 10, 31), date(2017, 1, 29), 0.99),
]


Quarter = tuple[int, int, date, date, float | None]


def _reports(cik: str, quarters: Sequence[Quarter]) -> list[dict[str, Any]]:
    return [
        {
            "cik": cik,
            "fiscal_year": fy,
            "fiscal_quarter": fq,
            "period_start": start,
            "period_end": end,
            "eps_diluted": eps,
            "derived": False,
        }
        for fy, fq, start, end, eps in quarters
    ]


def _table(rows: list[dict[str, Any]], schema: pa.Schema) -> pa.Table:
    return pa.Table.from_pylist([{n: r.get(n) for n in schema.names} for r in rows], schema=schema)


def _companies(pairs: list[tuple[str, str]]) -> pa.Table:
    rows = [
        {"ticker": t, "name": t, "cik": c, "sector": "IT", "sub_industry": "x"} for t, c in pairs
    ]
    return _table(rows, arrow_schema(COMPANIES))


@pytest.fixture(scope="module")
def closes() -> pa.Table:
    path = Path(__file__).resolve().parents[2] / "snapshot" / "prices" / "stooq_daily"
    return DailyCsvFolder(path).closes(["AAPL", "NVDA", "GOOG", "GOOGL"]).table


def _pe(reports: list[dict[str, Any]], closes: pa.Table, companies: pa.Table) -> dict[Any, Any]:
    table = compute_prices_pe(_table(reports, arrow_schema(QUARTERLY_REPORTS)), closes, companies)
    assert table.schema == arrow_schema(PRICES_PE)
    return {(r["ticker"], r["period_end"]): r for r in table.to_pylist()}


def test_apple_ttm_pe_and_the_first_three_quarters_are_null(closes: pa.Table) -> None:
    got = _pe(_reports(APPLE, APPLE_QUARTERS), closes, _companies([("AAPL", APPLE)]))
    assert len(got) == 9
    fy17q4 = got[("AAPL", date(2017, 9, 30))]
    assert fy17q4["eps_ttm"] == pytest.approx(3.36 + 2.10 + 1.67 + 2.07)
    assert fy17q4["closing_price"] == 153.57
    assert fy17q4["price_date"] == date(2017, 9, 29)
    assert fy17q4["price_earnings_ratio"] == pytest.approx(153.57 / 9.20)
    assert (fy17q4["fiscal_year"], fy17q4["fiscal_quarter"], fy17q4["note"]) == (2017, 4, None)
    fy16q4 = got[("AAPL", date(2016, 9, 24))]
    assert fy16q4["eps_ttm"] == pytest.approx(3.28 + 1.90 + 1.42 + 1.67)
    for end in (date(2015, 12, 26), date(2016, 3, 26), date(2016, 6, 25)):
        row = got[("AAPL", end)]
        assert row["eps_ttm"] is None
        assert row["price_earnings_ratio"] is None
        assert row["closing_price"] is not None
        assert row["note"] == "fewer than four fiscal quarters reported"
    # Missing price: FY2018 Q1 ends after the price history (2017-11-10); P/E null, not 0.
    fy18q1 = got[("AAPL", date(2017, 12, 30))]
    assert fy18q1["eps_ttm"] == pytest.approx(2.10 + 1.67 + 2.07 + 3.89)
    assert fy18q1["closing_price"] is None
    assert fy18q1["price_earnings_ratio"] is None
    assert fy18q1["note"] == (
        "no close within 10 calendar days before the period end: history ends 2017-11-10"
    )


def test_nvidia_quarters_in_any_input_order_ending_on_sundays(closes: pa.Table) -> None:
    got = _pe(_reports(NVIDIA, NVIDIA_QUARTERS), closes, _companies([("NVDA", NVIDIA)]))
    row = got[("NVDA", date(2017, 10, 29))]
    assert row["eps_ttm"] == pytest.approx(0.99 + 0.79 + 0.92 + 1.33)
    assert row["price_earnings_ratio"] == pytest.approx(201.86 / 4.03)


def test_ttm_eps_zero_or_negative_gives_null_pe(closes: pa.Table) -> None:
    # Hand-made losses on Apple's real fiscal calendar.
    losses = [-1.0, 0.5, 0.25, 0.25]
    quarters = [(*q[:4], eps) for q, eps in zip(APPLE_QUARTERS[4:8], losses, strict=True)]
    got = _pe(_reports(APPLE, quarters), closes, _companies([("AAPL", APPLE)]))
    row = got[("AAPL", date(2017, 9, 30))]
    assert row["eps_ttm"] == 0.0
    assert row["price_earnings_ratio"] is None
    assert row["closing_price"] == 153.57
    assert row["note"] == "TTM diluted EPS is zero or negative: P/E undefined"


def test_a_gap_or_a_missing_eps_breaks_the_trailing_four_quarters(closes: pa.Table) -> None:
    gap = [q for q in APPLE_QUARTERS if q[3] != date(2016, 6, 25)]
    got = _pe(_reports(APPLE, gap), closes, _companies([("AAPL", APPLE)]))
    assert got[("AAPL", date(2016, 12, 31))]["eps_ttm"] is None
    assert got[("AAPL", date(2016, 12, 31))]["note"] == (
        "the last four fiscal quarters are not consecutive"
    )
    assert got[("AAPL", date(2017, 9, 30))]["eps_ttm"] == pytest.approx(9.20)
    missing: list[Quarter] = list(APPLE_QUARTERS)
    missing[5] = (*APPLE_QUARTERS[5][:4], None)
    got = _pe(_reports(APPLE, missing), closes, _companies([("AAPL", APPLE)]))
    assert got[("AAPL", date(2017, 9, 30))]["price_earnings_ratio"] is None
    assert got[("AAPL", date(2017, 9, 30))]["note"] == (
        "diluted EPS missing in one of the last four fiscal quarters"
    )


def test_share_classes_of_one_cik_each_get_a_row(closes: pa.Table) -> None:
    # Hand-made EPS on a calendar-quarter fiscal year; the prices are the real GOOG/GOOGL closes.
    quarters: list[Quarter] = [
        (2016, 4, date(2016, 10, 1), date(2016, 12, 31), 6.0),
        (2017, 1, date(2017, 1, 1), date(2017, 3, 31), 6.0),
        (2017, 2, date(2017, 4, 1), date(2017, 6, 30), 6.0),
        (2017, 3, date(2017, 7, 1), date(2017, 9, 30), 6.0),
    ]
    companies = _companies([("GOOGL", ALPHABET), ("GOOG", ALPHABET), ("AAPL", APPLE)])
    got = _pe(_reports(ALPHABET, quarters), closes, companies)
    assert set(got) == {(t, q[3]) for t in ("GOOG", "GOOGL") for q in quarters}
    googl, goog = got[("GOOGL", date(2017, 9, 30))], got[("GOOG", date(2017, 9, 30))]
    assert googl["eps_ttm"] == goog["eps_ttm"] == 24.0
    assert googl["price_date"] == goog["price_date"] == date(2017, 9, 29)
    assert (googl["closing_price"], goog["closing_price"]) == (973.36, 959.11)  # googl/goog.us.txt
    assert googl["price_earnings_ratio"] == pytest.approx(973.36 / 24.0)
    assert googl["cik"] == goog["cik"] == ALPHABET
