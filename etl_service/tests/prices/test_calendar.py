"""NYSE trading days used to date the iShares prices."""

from __future__ import annotations

from datetime import date

import pytest

from etl_service.src.adapters.prices.calendar import (
    is_trading_day,
    nyse_holidays,
    previous_trading_day,
)

pytestmark = pytest.mark.unit


def test_2024_holidays() -> None:
    assert sorted(nyse_holidays(2024)) == [
        date(2024, 1, 1),
        date(2024, 1, 15),
        date(2024, 2, 19),
        date(2024, 3, 29),
        date(2024, 5, 27),
        date(2024, 6, 19),
        date(2024, 7, 4),
        date(2024, 9, 2),
        date(2024, 11, 28),
        date(2024, 12, 25),
    ]


@pytest.mark.parametrize(
    ("day", "previous"),
    [
        (date(2024, 4, 1), date(2024, 3, 28)),  # Good Friday 2024-03-29
        (date(2025, 1, 2), date(2024, 12, 31)),  # New Year's Day
        (date(2025, 1, 10), date(2025, 1, 8)),  # closed for President Carter's funeral
        (date(2022, 6, 21), date(2022, 6, 17)),  # Juneteenth on a Sunday, observed Monday
        (date(2022, 1, 3), date(2021, 12, 31)),  # New Year on a Saturday: Friday is open
        (date(2021, 12, 27), date(2021, 12, 23)),  # Christmas on a Saturday: Friday closed
        (date(2026, 7, 1), date(2026, 6, 30)),
    ],
)
def test_previous_trading_day(day: date, previous: date) -> None:
    assert previous_trading_day(day) == previous


def test_weekends_are_not_trading_days_and_old_years_are_refused() -> None:
    assert not is_trading_day(date(2017, 9, 30))
    assert is_trading_day(date(2017, 9, 29))
    with pytest.raises(ValueError, match="starts in 1998"):
        nyse_holidays(1972)
