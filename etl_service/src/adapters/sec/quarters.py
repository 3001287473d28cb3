"""What makes a fiscal quarter: period lengths, YTD differences and fiscal labels.

A quarter is a duration of 11 to 17 weeks (calendar quarters, 13- and 14-week quarters of
52/53-week years, 12- and 16-week quarters). A quarter that is not reported on its own is
the difference of two year-to-date values that start on the same date and end one quarter
apart: Q2 = 6M − 3M, Q3 = 9M − 6M, Q4 = FY − 9M. Fiscal year and quarter are computed
from the company's fiscal-year ends, never from the ``fy``/``fp`` fields, which describe
the filing that reported a fact.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import date, timedelta
from itertools import pairwise

from etl_service.errors import InputError
from etl_service.src.adapters.sec.companyfacts import Fact, Period

QUARTER_DAYS = range(77, 120)
YEAR_DAYS = range(350, 381)
_DAYS_PER_QUARTER = 365.2425 / 4
_SPAN_NAMES = {1: "3M", 2: "6M", 3: "9M", 4: "FY"}


def days(period: Period) -> int:
    """Length of ``period`` in days, both ends included."""
    return (period[1] - period[0]).days + 1


def is_quarter(period: Period) -> bool:
    return days(period) in QUARTER_DAYS


def is_year(period: Period) -> bool:
    return days(period) in YEAR_DAYS


def quarter_count(period: Period) -> int:
    """How many quarters ``period`` spans, to the nearest whole quarter (a 53-week year: 4)."""
    return round(days(period) / _DAYS_PER_QUARTER)


def span_name(period: Period) -> str:
    """``3M``, ``6M``, ``9M`` or ``FY`` for year-to-date spans, else the length in days."""
    return _SPAN_NAMES.get(quarter_count(period), f"{days(period)}d")


@dataclass(frozen=True)
class Resolved:
    """A quarter's value of one concept: reported, or a difference of two YTD facts."""

    value: float
    fact: Fact
    derivation: str | None = None

    @property
    def derived(self) -> bool:
        return self.derivation is not None


def resolve(facts: Mapping[Period, Fact], quarter: Period) -> Resolved | None:
    """The reported value for ``quarter``, else the YTD difference, else None.

    The difference uses a total ending with the quarter and a part ending the day before
    it starts, both starting on the same date; the earliest common start (the fiscal
    year's) is preferred. The credited filing is the later-filed of the two facts.
    """
    if (reported := facts.get(quarter)) is not None:
        return Resolved(reported.value, reported)
    start, end = quarter
    day_before = start - timedelta(days=1)
    totals = sorted((f for p, f in facts.items() if p[1] == end and p[0] < start), key=_start)
    for total in totals:
        part = facts.get((total.start, day_before))
        if part is None:
            continue
        credited = max(total, part, key=lambda f: f.filing_key)
        how = f"{span_name(total.period)}-{span_name(part.period)}"
        return Resolved(total.value - part.value, credited, how)
    return None


def _start(fact: Fact) -> date:
    return fact.start


def quarter_periods(facts: Iterable[Mapping[Period, Fact]]) -> set[Period]:
    """Every quarter reported on its own or obtainable as a YTD difference."""
    found: set[Period] = set()
    for by_period in facts:
        by_start: dict[date, list[date]] = defaultdict(list)
        for period in by_period:
            if is_quarter(period):
                found.add(period)
            by_start[period[0]].append(period[1])
        for start, ends in by_start.items():
            ordered = sorted(ends)
            for shorter, longer in pairwise(ordered):
                candidate = (shorter + timedelta(days=1), longer)
                if start < candidate[0] and is_quarter(candidate):
                    found.add(candidate)
    return found


@dataclass(frozen=True)
class FiscalCalendar:
    """Fiscal-year ends of one company, used to label any period end.

    A fiscal year is named after the calendar year in which it ends (Apple's fiscal 2024
    ends 2024-09-28, NVIDIA's fiscal 2025 ends 2025-01-26), except that a 52/53-week year
    ending in the first seven days of January is named after the previous year (it is the
    year ending "on the Saturday closest to December 31").
    """

    year_ends: tuple[date, ...]

    @classmethod
    def from_periods(cls, periods: Iterable[Period]) -> FiscalCalendar:
        """From the fiscal-year periods (about one year long) reported in annual filings."""
        return cls(tuple(sorted({end for start, end in periods if is_year((start, end))})))

    @classmethod
    def from_month_day(cls, month_day: str, first_year: int, last_year: int) -> FiscalCalendar:
        """From a ``MMDD`` fiscal-year end such as the submissions API's ``fiscalYearEnd``."""
        try:
            if len(month_day) != 4 or not month_day.isdigit():
                raise ValueError(month_day)
            month, day = int(month_day[:2]), int(month_day[2:])
            ends = [_clamped(year, month, day) for year in range(first_year, last_year + 2)]
        except ValueError as exc:
            raise InputError(
                "invalid fiscal-year end (expected MMDD)", field="fiscal_year_end", value=month_day
            ) from exc
        return cls(tuple(ends))

    @staticmethod
    def year_name(year_end: date) -> int:
        """The fiscal year a year ending on ``year_end`` is named after."""
        if year_end.month == 1 and year_end.day <= 7:
            return year_end.year - 1
        return year_end.year

    def label(self, period_end: date) -> tuple[int, int]:
        """(fiscal_year, fiscal_quarter) of a quarter ending on ``period_end``."""
        if not self.year_ends:
            raise InputError("no fiscal-year end known", field="fiscal_year_end")
        anchor = min(self.year_ends, key=lambda end: abs((end - period_end).days))
        offset = round((period_end - anchor).days / _DAYS_PER_QUARTER)
        index = self.year_name(anchor) * 4 + 3 + offset
        return index // 4, index % 4 + 1


def _clamped(year: int, month: int, day: int) -> date:
    """``date(year, month, day)``, with 29 February falling back to the 28th."""
    if month == 2 and day == 29:
        try:
            return date(year, 2, 29)
        except ValueError:
            return date(year, 2, 28)
    return date(year, month, day)
