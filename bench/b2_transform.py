"""B2: quarter-end close, TTM EPS and P/E on the standard engine against hand-written DuckDB.

The measured call is ``compute_prices_pe`` (the shared SQL files, run on DuckDB over Arrow).
The baseline is what a DuckDB expert writes for the same outputs over the same Arrow tables:
an ``ASOF JOIN`` for the last close on or before the period end (kept when within 10 days),
a 4-row window sum for TTM EPS, and the ratio. It may use DuckDB-only syntax; the shared
SQL may not, because Spark runs it too. Both results are compared row for row, so the
baseline is known to compute the same values.
"""

from __future__ import annotations

import logging

import duckdb
import pyarrow as pa

from bench.config import Profile
from bench.measure import Figure, Goal, Sample, timed
from bench.synthetic import universe
from etl_service.src.transforms.prices_pe import (
    compute_prices_pe,
    quarter_end_closes,
    report_periods,
)

logger = logging.getLogger(__name__)

BASELINE_SQL = """
WITH reports AS (
    SELECT
        c.ticker, r.cik, r.period_end, r.fiscal_year, r.fiscal_quarter,
        CASE WHEN COUNT(r.eps_diluted) OVER w = 4 THEN ROUND(SUM(r.eps_diluted) OVER w, 4) END
            AS eps_ttm
    FROM quarterly_reports AS r
    JOIN companies AS c ON c.cik = r.cik
    WINDOW w AS (PARTITION BY r.cik ORDER BY r.period_end ROWS BETWEEN 3 PRECEDING AND CURRENT ROW)
),
priced AS (
    SELECT r.*, c.date AS close_date, c.close
    FROM reports AS r
    ASOF LEFT JOIN closes AS c ON c.ticker = r.ticker AND c.date <= r.period_end
),
windowed AS (
    SELECT
        *,
        CASE WHEN close_date >= period_end - INTERVAL 10 DAY THEN close_date END AS price_date,
        CASE WHEN close_date >= period_end - INTERVAL 10 DAY THEN close END AS closing_price
    FROM priced
)
SELECT
    ticker, cik, period_end, fiscal_year, fiscal_quarter, price_date, closing_price, eps_ttm,
    CASE WHEN eps_ttm > 0 THEN closing_price / eps_ttm END AS price_earnings_ratio
FROM windowed
ORDER BY ticker, period_end
"""

AGREEMENT_SQL = """
SELECT
    COUNT(*) AS rows_compared,
    COUNT(*) FILTER (WHERE s.price_date IS DISTINCT FROM b.price_date
        OR s.closing_price IS DISTINCT FROM b.closing_price) AS close_mismatches,
    COUNT(*) FILTER (WHERE s.eps_ttm_derivation LIKE 'sum of 4%') AS ttm_sum_rows,
    COUNT(*) FILTER (WHERE s.eps_ttm_derivation LIKE 'sum of 4%'
        AND (s.eps_ttm IS DISTINCT FROM b.eps_ttm
            OR s.price_earnings_ratio IS DISTINCT FROM b.price_earnings_ratio))
        AS ttm_mismatches
FROM standard AS s
FULL JOIN baseline AS b ON b.ticker = s.ticker AND b.period_end = s.period_end
"""


def handwritten_duckdb(reports: pa.Table, closes: pa.Table, companies: pa.Table) -> pa.Table:
    """The baseline: the same outputs in one idiomatic DuckDB query over the Arrow tables."""
    con = duckdb.connect()
    try:
        con.register("quarterly_reports", reports)
        con.register("closes", closes)
        con.register("companies", companies)
        return con.sql(BASELINE_SQL).to_arrow_table()
    finally:
        con.close()


def agreement(standard: pa.Table, baseline: pa.Table) -> dict[str, int]:
    """How many rows both computed, and how many differ in close, TTM EPS (rule 1) or P/E."""
    con = duckdb.connect()
    try:
        con.register("standard", standard)
        con.register("baseline", baseline)
        row = con.execute(AGREEMENT_SQL).fetchone()
    finally:
        con.close()
    assert row is not None
    keys = ("rows_compared", "close_mismatches", "ttm_sum_rows", "ttm_mismatches")
    counts = dict(zip(keys, (int(v) for v in row), strict=True))
    counts["standard_rows"], counts["baseline_rows"] = standard.num_rows, baseline.num_rows
    return counts


def run(profile: Profile) -> Figure:
    """Measure B2 on the profile's universe (scale 1: 5,000,000 daily closes, 500 tickers)."""
    data = universe(profile.b2_scale, trading_days=profile.b2_days)
    inputs = (data.quarterly_reports, data.closes, data.companies)
    standard_s, baseline_s = [], []
    results: dict[str, pa.Table] = {}
    for _ in range(profile.runs):  # interleaved, so drift hits both alike
        baseline_s.append(timed(lambda: results.update(baseline=handwritten_duckdb(*inputs))))
        standard_s.append(timed(lambda: results.update(standard=compute_prices_pe(*inputs))))
    checked = agreement(results["standard"], results["baseline"])
    periods = report_periods(data.quarterly_reports, data.companies)
    lookup_s = timed(lambda: quarter_end_closes(data.closes, periods))
    measured = Sample("compute_prices_pe (shared SQL on DuckDB)", "s", standard_s)
    baseline = Sample("hand-written DuckDB query (ASOF JOIN, window sum)", "s", baseline_s)
    figure = Figure(
        id="B2",
        title="Transform: quarter-end close, TTM EPS and P/E",
        workload=(
            f"{data.closes.num_rows:,} daily closes × {data.companies.num_rows:,} tickers, "
            f"{data.quarterly_reports.num_rows:,} quarterly reports"
        ),
        measured=measured,
        baseline=baseline,
        ratio=measured.median / baseline.median,
        ratio_means="time of the standard engine / time of the hand-written DuckDB query",
        goal=Goal("<=", 1.2),
        details={"agreement": checked, "quarter_end_lookup_seconds_once": lookup_s},
        notes=[
            "Both return one row per ticker and fiscal period; the standard engine also "
            "applies TTM rules 2-3 (fiscal-year EPS, trailing identity), the split-basis "
            "check and the notes, which the baseline does not compute.",
            f"Agreement: {checked['close_mismatches']} of {checked['rows_compared']:,} rows "
            f"differ in the quarter-end close; {checked['ttm_mismatches']} of "
            f"{checked['ttm_sum_rows']:,} four-quarter-sum rows differ in TTM EPS or P/E.",
        ],
    )
    if figure.met is False:
        figure.reason_unmet = (
            f"The standard engine needs {measured.median:.2f} s against the baseline's "
            f"{baseline.median:.2f} s; the quarter-end lookup alone (quarter_end_close.sql, "
            f"timed once) takes {lookup_s:.2f} s. "
            "The shared SQL must also run on Spark, so it cannot use ASOF JOIN: the lookup "
            "matches closes on the 11 candidate days of each period end (an equality hash "
            "join on ticker and date over all closes) and ranks them; the rest is TTM EPS "
            "with rules 2-3 and the split check, several window passes the baseline does not "
            "make. Closing the gap takes an engine-specific lookup on DuckDB (ASOF JOIN "
            "behind the engine interface, the parity test guarding equality) and folding "
            "the TTM rules into one window pass."
        )
    return figure
