"""Quarter-end close: last trading day on or before the period end, at most 10 days back."""

from __future__ import annotations

from datetime import date
from pathlib import Path
from typing import Any

import pyarrow as pa
import pytest

from etl_service.errors import SchemaError
from etl_service.src.adapters.prices.base import CLOSES_SCHEMA
from etl_service.src.adapters.prices.daily_csv import DailyCsvFolder
from etl_service.src.adapters.prices.ishares import IsharesHoldings
from etl_service.src.transforms.prices_pe import (
    PERIODS_SCHEMA,
    QUARTER_CLOSES_SCHEMA,
    calendar_periods,
    calendar_quarter_ends,
    quarter_end_closes,
)
from etl_service.tests.prices.conftest import FIXTURES

pytestmark = pytest.mark.unit


def _periods(pairs: list[tuple[str, date]]) -> pa.Table:
    return pa.Table.from_pydict(
        {"ticker": [p[0] for p in pairs], "period_end": [p[1] for p in pairs]},
        schema=PERIODS_SCHEMA,
    )


def _lookup(closes: pa.Table, pairs: list[tuple[str, date]]) -> dict[tuple[str, date], Any]:
    result = quarter_end_closes(closes, _periods(pairs))
    assert result.schema == QUARTER_CLOSES_SCHEMA
    return {(r["ticker"], r["period_end"]): r for r in result.to_pylist()}


@pytest.fixture(scope="module")
def stooq() -> pa.Table:
    path = Path(__file__).resolve().parents[2] / "snapshot" / "prices" / "stooq_daily"
    return DailyCsvFolder(path).closes(["AAPL", "NVDA", "GOOG", "GOOGL"]).table


# Expected closes read by hand from aapl.us.txt / nvda.us.txt (Close column).
SPOT_CHECKS = [
    # trading day: the period end itself
    ("AAPL", date(2012, 12, 31), date(2012, 12, 31), 68.754),
    ("AAPL", date(2017, 6, 30), date(2017, 6, 30), 142.95),
    # calendar quarter ends on a Saturday
    ("AAPL", date(2016, 12, 31), date(2016, 12, 30), 113.99),
    ("AAPL", date(2017, 9, 30), date(2017, 9, 29), 153.57),
    # Apple fiscal period end on a Saturday
    ("AAPL", date(2015, 3, 28), date(2015, 3, 27), 117.14),
    # Apple fiscal Q2 2016 ends Saturday 2016-03-26, the day after Good Friday: back two days
    ("AAPL", date(2016, 3, 26), date(2016, 3, 24), 102.28),
    # NVIDIA fiscal quarter ends on a Sunday
    ("NVDA", date(2017, 10, 29), date(2017, 10, 27), 201.86),
]


@pytest.mark.parametrize(("ticker", "period_end", "price_date", "close"), SPOT_CHECKS)
def test_spot_checks_against_the_stooq_files(
    stooq: pa.Table, ticker: str, period_end: date, price_date: date, close: float
) -> None:
    row = _lookup(stooq, [(ticker, period_end)])[(ticker, period_end)]
    assert (row["price_date"], row["closing_price"], row["note"]) == (price_date, close, None)
    assert row["price_source"] == f"stooq_csv:{ticker.lower()}.us.txt.gz (adjusted)"


def test_calendar_quarter_end_on_a_market_holiday() -> None:
    # 1972-03-31 was Good Friday (NYSE closed) and the end of calendar Q1 1972.
    ge = DailyCsvFolder(FIXTURES / "stooq_ge_1972").closes().table
    row = _lookup(ge, [("GE", date(1972, 3, 31))])[("GE", date(1972, 3, 31))]
    assert (row["price_date"], row["closing_price"]) == (date(1972, 3, 30), 1.0788)


def test_ishares_close_at_a_quarter_end_after_good_friday(ishares_dir: Path) -> None:
    closes = IsharesHoldings.from_folder(ishares_dir).closes(["AAPL", "BRK.B"]).table
    got = _lookup(closes, [("AAPL", date(2024, 3, 31)), ("BRK.B", date(2025, 12, 31))])
    assert got[("AAPL", date(2024, 3, 31))]["closing_price"] == 171.48
    assert got[("AAPL", date(2024, 3, 31))]["price_date"] == date(2024, 3, 28)
    assert got[("BRK.B", date(2025, 12, 31))]["closing_price"] == 502.65
    assert "as traded" in got[("BRK.B", date(2025, 12, 31))]["price_source"]


def test_no_close_in_the_window_is_null_with_a_reason(stooq: pa.Table) -> None:
    got = _lookup(
        stooq,
        [
            ("AAPL", date(2017, 12, 30)),  # after the history ends 2017-11-10
            ("AAPL", date(2008, 12, 27)),  # before the snapshot's first row 2009-01-02
            ("AAPL", date(2017, 11, 20)),  # 10 days after the last close: still found
            ("MSFT", date(2017, 9, 30)),  # not among the loaded tickers
        ],
    )
    assert got[("AAPL", date(2017, 12, 30))]["closing_price"] is None
    assert got[("AAPL", date(2017, 12, 30))]["note"] == (
        "no close within 10 calendar days before the period end: history ends 2017-11-10"
    )
    assert got[("AAPL", date(2008, 12, 27))]["note"] == (
        "no close on or before the period end: history starts 2009-01-02"
    )
    assert got[("AAPL", date(2017, 11, 20))]["price_date"] == date(2017, 11, 10)
    assert got[("MSFT", date(2017, 9, 30))]["note"] == "no closes for this ticker"


def test_window_is_exactly_ten_calendar_days_and_gaps_give_null() -> None:
    closes = pa.Table.from_pydict(
        {
            "ticker": ["X", "X"],
            "date": [date(2020, 1, 1), date(2020, 3, 1)],
            "close": [10.0, 11.0],
            "source": ["t", "t"],
            "adjusted_as_of": [None, None],
        },
        schema=CLOSES_SCHEMA,
    )
    got = _lookup(closes, [("X", date(2020, 1, 11)), ("X", date(2020, 1, 12))])
    assert got[("X", date(2020, 1, 11))]["closing_price"] == 10.0
    assert got[("X", date(2020, 1, 12))]["closing_price"] is None
    assert got[("X", date(2020, 1, 12))]["note"] == (
        "no close within 10 calendar days before the period end (gap in history)"
    )


def test_calendar_periods_for_the_sector_aggregates() -> None:
    assert calendar_quarter_ends(date(2016, 12, 31), date(2017, 9, 30)) == [
        date(2016, 12, 31),
        date(2017, 3, 31),
        date(2017, 6, 30),
        date(2017, 9, 30),
    ]
    periods = calendar_periods(["AAPL", "NVDA", "AAPL"], date(2017, 1, 1), date(2017, 12, 31))
    assert periods.num_rows == 8


def test_missing_input_column_is_a_schema_error() -> None:
    with pytest.raises(SchemaError, match="lacks") as caught:
        quarter_end_closes(pa.table({"ticker": ["X"]}), _periods([]))
    assert caught.value.source == "closes"
