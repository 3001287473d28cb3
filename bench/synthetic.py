"""Deterministic synthetic S&P-500-shaped data at a scale factor, in the canonical Arrow schemas.

Scale factor 1 is 500 companies (one ticker each) with 10,000 trading days of closes
(5,000,000 daily rows, about 40 years) and 158 fiscal quarters each (79,000 quarterly
reports). A larger scale adds companies, not history, the way a bigger universe grows: per
ticker work stays the same, so time per row can stay flat.

Value ranges follow the real data: quarterly revenue 1e8..1e11 USD, diluted EPS -5..30,
closes 5..2000, fiscal years ending in any month, a quarter of the companies on 52/53-week
calendars (quarters end on the last Saturday of the month, so they last 13 or 14 weeks).
Prices follow each company's earnings trend with mean-reverting noise, so P/E stays mostly
in the band the quality rules accept, as it does for real constituents.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt
import pyarrow as pa
import pyarrow.compute as pc

from etl_service.src.adapters.prices.base import CLOSES_SCHEMA
from etl_service.src.adapters.wikipedia.changes import change_key
from etl_service.src.models.schemas import (
    COMPANIES,
    INDEX_CHANGES,
    QUARTERLY_REPORTS,
    arrow_schema,
)
from etl_service.src.transforms.quality import GICS_SECTORS

SEED = 20241009
COMPANIES_PER_SCALE = 500
TRADING_DAYS = 10_000
DAYS_PER_QUARTER = 63
FIRST_MONTH = np.datetime64("1985-01", "M")
FIRST_DAY = np.datetime64("1985-01-02", "D")
SUB_INDUSTRIES_PER_SECTOR = 6
PRICE_SOURCE = "stooq"
PRIMARY_REVENUE = "RevenueFromContractWithCustomerExcludingAssessedTax"
OLD_REVENUE = "SalesRevenueNet"
_ASC606 = np.datetime64("2018-01-01", "D")
_FYE_MONTHS = np.array([12, 9, 6, 3, 1, 10, 5, 8])
_FYE_WEIGHTS = np.array([0.55, 0.1, 0.1, 0.05, 0.07, 0.05, 0.04, 0.04])
_TICKER_CHUNK = 250

Floats = npt.NDArray[np.float64]
Ints = npt.NDArray[np.int64]


@dataclass(frozen=True)
class Universe:
    """One synthetic run's inputs: constituents, changes, quarterly reports and daily closes."""

    companies: pa.Table
    changes: pa.Table
    quarterly_reports: pa.Table
    closes: pa.Table

    @property
    def input_bytes(self) -> int:
        """The Arrow size of all four tables (buffers, as ``pa.Table.nbytes`` counts them)."""
        tables = (self.companies, self.changes, self.quarterly_reports, self.closes)
        return sum(t.nbytes for t in tables)


@dataclass(frozen=True)
class _Firms:
    """Per-company parameters, drawn once, shared by reports and closes."""

    tickers: list[str]
    ciks: list[str]
    fye_month: Ints
    week52: npt.NDArray[np.bool_]
    revenue0: Floats
    growth: Floats
    margin: Floats
    pe: Floats
    shares0: Floats
    price0: Floats


def universe(
    scale: float,
    *,
    trading_days: int = TRADING_DAYS,
    quarters: int | None = None,
    seed: int = SEED,
) -> Universe:
    """The synthetic universe of ``round(500 * scale)`` companies.

    Args:
        scale: the scale factor (1 = 500 companies, 5,000,000 daily closes).
        trading_days: daily closes per ticker (weekdays from 1985-01-02); 0 for none.
        quarters: fiscal quarters per company; default one per 63 trading days.
        seed: the random seed; the same arguments always give the same tables.

    Returns:
        The four input tables, in the canonical schemas.
    """
    n = max(1, round(COMPANIES_PER_SCALE * scale))
    rng = np.random.default_rng(seed)
    firms = _firms(n, rng)
    n_quarters = quarters if quarters is not None else max(5, trading_days // DAYS_PER_QUARTER)
    return Universe(
        companies=_companies(firms, rng),
        changes=_changes(firms, rng),
        quarterly_reports=_reports(firms, n_quarters, rng),
        closes=_closes(firms, trading_days, rng),
    )


def reports_only(rows: int, *, quarters: int = 160, seed: int = SEED) -> pa.Table:
    """Exactly ``rows`` quarterly reports (whole companies of ``quarters`` rows, then a cut)."""
    n = -(-rows // quarters)
    rng = np.random.default_rng(seed)
    table: pa.Table = _reports(_firms(n, rng), quarters, rng)
    return table.slice(0, rows)


def _tickers(n: int, rng: np.random.Generator, skip: int = 0) -> list[str]:
    # bijective base 26: 2 to 4 letters, all distinct
    codes = rng.choice(26**4 + 26**3 + 26**2 - 26, size=n + skip, replace=False)[skip:] + 27
    out = []
    for code in codes.tolist():
        letters = []
        while code:
            code, rest = divmod(code - 1, 26)
            letters.append(chr(65 + rest))
        out.append("".join(reversed(letters)))
    return out


def _firms(n: int, rng: np.random.Generator) -> _Firms:
    ciks = rng.choice(np.arange(1_000, 2_000_000), size=n, replace=False)
    revenue0 = np.exp(rng.uniform(np.log(1e8), np.log(1.5e10), n))
    margin = np.clip(rng.normal(0.10, 0.06, n), -0.25, 0.40)
    pe = rng.uniform(10.0, 35.0, n)
    price0 = np.exp(rng.uniform(np.log(5.0), np.log(300.0), n))
    eps0 = price0 / pe / 4.0
    return _Firms(
        tickers=_tickers(n, rng),
        ciks=[f"{c:010d}" for c in ciks.tolist()],
        fye_month=rng.choice(_FYE_MONTHS, size=n, p=_FYE_WEIGHTS).astype(np.int64),
        week52=rng.random(n) < 0.25,
        revenue0=revenue0,
        growth=rng.normal(0.05, 0.03, n),
        margin=margin,
        pe=pe,
        shares0=revenue0 * np.maximum(np.abs(margin), 0.02) / eps0,
        price0=price0,
    )


def _companies(firms: _Firms, rng: np.random.Generator) -> pa.Table:
    n = len(firms.tickers)
    sectors = sorted(GICS_SECTORS)
    sector = rng.integers(0, len(sectors), n)
    sub = rng.integers(1, SUB_INDUSTRIES_PER_SECTOR + 1, n)
    added = FIRST_DAY + rng.integers(-10_000, 14_000, n).astype("timedelta64[D]")
    founded = rng.integers(1850, 2015, n)
    cities = ["New York", "Chicago", "Houston", "San Jose", "Boston", "Atlanta", "Dallas"]
    regions = ["New York", "Illinois", "Texas", "California", "Massachusetts", "Georgia", "Texas"]
    city = rng.integers(0, len(cities), n)
    rows = {
        "ticker": firms.tickers,
        "name": [f"Synthetic {t} Inc." for t in firms.tickers],
        "cik": firms.ciks,
        "sector": [sectors[s] for s in sector.tolist()],
        "sub_industry": [
            f"{sectors[s]} {k}" for s, k in zip(sector.tolist(), sub.tolist(), strict=True)
        ],
        "headquarters": [f"{cities[c]}, {regions[c]}" for c in city.tolist()],
        "hq_city": [cities[c] for c in city.tolist()],
        "hq_region": [regions[c] for c in city.tolist()],
        "date_added": added.tolist(),
        "year_founded": founded.tolist(),
        "founded_raw": [str(y) for y in founded.tolist()],
        "aliases": [None] * n,
        "source_revision": ["synthetic"] * n,
    }
    return pa.Table.from_pydict(rows, schema=arrow_schema(COMPANIES))


def _changes(firms: _Firms, rng: np.random.Generator) -> pa.Table:
    """One change per 20 members: the member added, a former member removed the same day."""
    n = len(firms.tickers)
    picked = sorted(rng.choice(n, size=max(1, n // 20), replace=False).tolist())
    removed = _tickers(len(picked), np.random.default_rng(rng.integers(1 << 31)), skip=n)
    days = FIRST_DAY + rng.integers(3_000, 14_000, len(picked)).astype("timedelta64[D]")
    rows = []
    for index, gone, day in zip(picked, removed, days.tolist(), strict=True):
        added = firms.tickers[index]
        rows.append(
            {
                "change_key": change_key(day, added, gone),
                "change_date": day,
                "added_ticker": added,
                "added_name": f"Synthetic {added} Inc.",
                "removed_ticker": gone,
                "removed_name": f"Former {gone} Corp.",
                "reason": "Market capitalization change.",
            }
        )
    return pa.Table.from_pylist(rows, schema=arrow_schema(INDEX_CHANGES))


def _weekday(days: npt.NDArray[Any]) -> Ints:
    """Monday 0 ... Sunday 6 (1970-01-01 was a Thursday)."""
    return (days.astype(np.int64) + 3) % 7


def _quarter_ends(firms: _Firms, quarters: int) -> npt.NDArray[np.datetime64]:
    """(companies, quarters + 1) fiscal quarter ends; column 0 ends the quarter before the first."""
    first = (firms.fye_month - 1) % 3  # the first month of 1985 that ends a fiscal quarter
    months = first[:, None] + 3 * np.arange(quarters + 1)[None, :]
    month_end = (FIRST_MONTH + months + 1).astype("datetime64[D]") - np.timedelta64(1, "D")
    saturday = month_end - ((_weekday(month_end) - 5) % 7).astype("timedelta64[D]")
    ends: npt.NDArray[np.datetime64] = np.where(firms.week52[:, None], saturday, month_end)
    return ends


def _reports(firms: _Firms, quarters: int, rng: np.random.Generator) -> pa.Table:
    n = len(firms.tickers)
    ends_all = _quarter_ends(firms, quarters)
    starts = ends_all[:, :-1] + np.timedelta64(1, "D")
    ends = ends_all[:, 1:]
    month = (ends.astype("datetime64[M]").astype(np.int64) % 12) + 1
    year = ends.astype("datetime64[Y]").astype(np.int64) + 1970
    fye = firms.fye_month[:, None]
    fiscal_quarter = ((month - fye - 1) % 12) // 3 + 1
    fiscal_year = year + (month > fye)
    t = (ends - FIRST_DAY).astype(np.int64) / 365.25
    seasonal = 1.0 + 0.06 * np.sin(fiscal_quarter * np.pi / 2)
    noise = np.exp(rng.normal(0.0, 0.04, (n, quarters)))
    revenue = np.clip(
        firms.revenue0[:, None] * np.exp(firms.growth[:, None] * t) * seasonal * noise, 1e8, 1e11
    )
    margin = firms.margin[:, None] + rng.normal(0.0, 0.02, (n, quarters))
    net_income = np.round(revenue * margin)
    revenue = np.round(revenue)
    shares = firms.shares0[:, None] * np.exp(0.004 * t)
    eps_diluted = np.clip(np.round(net_income / shares, 2), -5.0, 30.0)
    eps_basic = np.clip(np.round(net_income / (shares * 0.99), 2), -5.0, 30.0)
    cumulative = np.concatenate([np.zeros((n, 1)), np.cumsum(net_income, axis=1)], axis=1)
    position = np.arange(quarters)[None, :] + 1
    year_start = position - fiscal_quarter
    full_year = year_start >= 0
    ytd_income = cumulative[np.arange(n)[:, None], position] - np.take_along_axis(
        cumulative, np.maximum(year_start, 0), axis=1
    )
    eps_ytd = np.clip(np.round(ytd_income / shares, 2), -5.0, 30.0)
    missing_eps = rng.random((n, quarters)) < 0.002
    lag = rng.integers(25, 45, (n, quarters)) + 30 * (fiscal_quarter == 4)
    filed = ends + lag.astype("timedelta64[D]")
    q4 = fiscal_quarter == 4
    cik = np.repeat(np.array(firms.ciks, dtype=object), quarters)
    sequence = np.arange(n * quarters) % 100_000

    def flat(values: npt.NDArray[np.generic]) -> npt.NDArray[np.generic]:
        return values.reshape(-1)

    accession = pc.binary_join_element_wise(
        pa.array(cik.tolist(), pa.string()),
        pc.utf8_lpad(pc.cast(pa.array(flat(year % 100)), pa.string()), 2, "0"),
        pc.utf8_lpad(pc.cast(pa.array(sequence), pa.string()), 6, "0"),
        "-",
    )
    columns = {
        "cik": pa.array(cik.tolist(), pa.string()),
        "fiscal_year": pa.array(flat(fiscal_year), pa.int64()),
        "fiscal_quarter": pa.array(flat(fiscal_quarter), pa.int64()),
        "period_start": pa.array(flat(starts)),
        "period_end": pa.array(flat(ends)),
        "revenue": pa.array(flat(revenue).astype(np.int64)),
        "net_income": pa.array(flat(net_income).astype(np.int64)),
        "eps_basic": pa.array(flat(eps_basic), mask=flat(missing_eps)),
        "eps_diluted": pa.array(flat(eps_diluted), mask=flat(missing_eps)),
        "eps_diluted_ytd": pa.array(flat(eps_ytd), mask=flat(~full_year | missing_eps)),
        "eps_diluted_filed": pa.array(flat(filed), mask=flat(missing_eps)),
        "eps_diluted_ytd_filed": pa.array(flat(filed), mask=flat(~full_year | missing_eps)),
        "profit_margin": pa.array(flat(net_income / revenue)),
        "revenue_concept": pa.array(
            np.where(flat(ends) >= _ASC606, PRIMARY_REVENUE, OLD_REVENUE).tolist(), pa.string()
        ),
        "form": pa.array(np.where(flat(q4), "10-K", "10-Q").tolist(), pa.string()),
        "accession": accession,
        "filed": pa.array(flat(filed)),
        "derived": pa.array(flat(q4 | missing_eps)),
        "derivation": pa.array(
            [
                "revenue=FY-9M; net_income=FY-9M"
                if is_q4
                else ("eps_diluted=null (not reported)" if gap else None)
                for is_q4, gap in zip(flat(q4).tolist(), flat(missing_eps).tolist(), strict=True)
            ],
            pa.string(),
        ),
    }
    schema = arrow_schema(QUARTERLY_REPORTS)
    return pa.Table.from_arrays([columns[f.name].cast(f.type) for f in schema], schema=schema)


def _closes(firms: _Firms, days: int, rng: np.random.Generator) -> pa.Table:
    """Daily closes, ticker by ticker in date order, as the price sources produce them."""
    if days == 0:
        return CLOSES_SCHEMA.empty_table()
    calendar = np.busday_offset(FIRST_DAY, np.arange(days), roll="forward")
    years = (calendar - FIRST_DAY).astype(np.int64) / 365.25
    dates = pa.array(calendar.astype("datetime64[D]"))
    names = pa.array(firms.tickers, pa.string())
    chunks: list[pa.RecordBatch] = []
    for first in range(0, len(firms.tickers), _TICKER_CHUNK):
        part = slice(first, first + _TICKER_CHUNK)
        width = len(firms.tickers[part])
        noise = _mean_reverting(rng, days, width)
        trend = np.log(firms.price0[part])[None, :] + firms.growth[part][None, :] * years[:, None]
        close = np.clip(np.round(np.exp(trend + noise), 2), 5.0, 2000.0).T.reshape(-1)
        index = np.repeat(np.arange(first, first + width, dtype=np.int32), days)
        chunks.append(
            pa.record_batch(
                [
                    pa.DictionaryArray.from_arrays(pa.array(index), names).cast(pa.string()),
                    pa.concat_arrays([dates] * width),
                    pa.array(close),
                    pa.repeat(PRICE_SOURCE, width * days).cast(pa.string()),
                    pa.nulls(width * days, pa.date32()),  # as traded
                ],
                schema=CLOSES_SCHEMA,
            )
        )
    return pa.Table.from_batches(chunks, schema=CLOSES_SCHEMA)


def _mean_reverting(rng: np.random.Generator, days: int, width: int) -> Floats:
    """(days, width) AR(1) log-price noise: daily volatility 1%, stationary spread about 0.2."""
    shocks = rng.normal(0.0, 0.01, (days, width))
    noise = np.empty_like(shocks)
    level = rng.normal(0.0, 0.2, width)
    for day in range(days):
        level = 0.998 * level + shocks[day]
        noise[day] = level
    return noise
