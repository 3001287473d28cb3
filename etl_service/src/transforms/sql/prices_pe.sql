-- P/E per ticker and fiscal period: quarter-end close / trailing-twelve-month diluted EPS.
-- TTM EPS is the sum of the diluted EPS of the last four fiscal quarters, which must be
-- consecutive (each quarter starts within 7 days after the previous one ended) and all have
-- a diluted EPS; otherwise it is null. P/E is null (never 0) when TTM EPS is null or <= 0 or
-- the price is missing; `note` says why.
-- Inputs: quarterly_reports (QUARTERLY_REPORTS), companies (COMPANIES: ticker <-> cik; one
-- report row gives a row per ticker of its CIK), quarter_closes (the output of
-- quarter_end_close.sql over the periods of report_periods.sql).
-- Runs unchanged on DuckDB and Spark SQL 3.5/4.x.
WITH ordered AS (
    SELECT
        cik,
        fiscal_year,
        fiscal_quarter,
        period_start,
        period_end,
        eps_diluted,
        LAG(period_end) OVER (PARTITION BY cik ORDER BY period_end) AS previous_end
    FROM quarterly_reports
),

linked AS (
    SELECT
        cik,
        fiscal_year,
        fiscal_quarter,
        period_end,
        eps_diluted,
        CASE
            WHEN previous_end < period_start
                AND previous_end >= period_start - INTERVAL 7 DAY
                THEN 1
            ELSE 0
        END AS follows_previous
    FROM ordered
),

windowed AS (
    SELECT
        cik,
        fiscal_year,
        fiscal_quarter,
        period_end,
        COUNT(*) OVER (
            PARTITION BY cik ORDER BY period_end ROWS BETWEEN 3 PRECEDING AND CURRENT ROW
        ) AS n_quarters,
        COUNT(eps_diluted) OVER (
            PARTITION BY cik ORDER BY period_end ROWS BETWEEN 3 PRECEDING AND CURRENT ROW
        ) AS n_eps,
        SUM(eps_diluted) OVER (
            PARTITION BY cik ORDER BY period_end ROWS BETWEEN 3 PRECEDING AND CURRENT ROW
        ) AS eps_sum,
        SUM(follows_previous) OVER (
            PARTITION BY cik ORDER BY period_end ROWS BETWEEN 2 PRECEDING AND CURRENT ROW
        ) AS n_links
    FROM linked
),

ttm AS (
    SELECT
        cik,
        fiscal_year,
        fiscal_quarter,
        period_end,
        CASE WHEN n_quarters = 4 AND n_eps = 4 AND n_links = 3 THEN eps_sum END AS eps_ttm,
        CASE
            WHEN n_quarters < 4 THEN 'fewer than four fiscal quarters reported'
            WHEN n_links < 3 THEN 'the last four fiscal quarters are not consecutive'
            WHEN n_eps < 4 THEN 'diluted EPS missing in one of the last four fiscal quarters'
            WHEN eps_sum <= 0 THEN 'TTM diluted EPS is zero or negative: P/E undefined'
        END AS eps_note
    FROM windowed
)

SELECT
    c.ticker,
    t.cik,
    t.period_end,
    t.fiscal_year,
    t.fiscal_quarter,
    q.price_date,
    q.closing_price,
    t.eps_ttm,
    CASE
        WHEN q.closing_price IS NOT NULL AND t.eps_ttm > 0 THEN q.closing_price / t.eps_ttm
    END AS price_earnings_ratio,
    q.price_source,
    NULLIF(
        CONCAT_WS(
            '; ',
            CASE WHEN q.ticker IS NULL THEN 'no quarter-end close looked up' ELSE q.note END,
            t.eps_note
        ),
        ''
    ) AS note
FROM ttm AS t
JOIN companies AS c
    ON c.cik = t.cik
LEFT JOIN quarter_closes AS q
    ON q.ticker = c.ticker
    AND q.period_end = t.period_end
ORDER BY c.ticker, t.period_end
