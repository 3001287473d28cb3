-- P/E per ticker and fiscal period: quarter-end close / trailing-twelve-month diluted EPS.
--
-- TTM diluted EPS of a fiscal quarter (Y, q), first rule that applies:
--   1. the sum of the diluted EPS of the last four fiscal quarters, when they are consecutive
--      (each starts within 7 days after the previous one ended) and all four have a diluted
--      EPS, reported or computed (eps_ttm_derivation 'sum of 4 quarterly EPS, FY2024 Q2 to
--      FY2025 Q1');
--   2. for a Q4 (and an annual row, fiscal_quarter 0): the fiscal-year diluted EPS reported
--      in the 10-K, eps_diluted_ytd of that row ('fiscal-year EPS FY2024');
--   3. for Q1-Q3: the trailing identity from reported figures only,
--      eps_diluted_ytd(Y, q) + eps_diluted_ytd(Y-1, Q4) - eps_diluted_ytd(Y-1, q), when all
--      three exist, the (Y-1, q) report ends 350-380 days before this one and (Y-1, Q4) ends
--      at most 7 days before the (Y, Q1) report starts ('FY2024 + 9M FY2025 - 9M FY2024');
--   4. otherwise null, and `note` gives the reason of rule 1 and of rule 2 or 3.
-- EPS is never derived by subtraction within a quarter (Q4 = FY - 9M is not EPS); rule 3
-- subtracts year-to-date figures only to form a trailing sum, the standard identity.
-- Sums are rounded to 4 decimals to drop binary floating-point noise (EPS has 2).
--
-- Split basis: every EPS figure is the latest filed value for its period, and EPS is
-- restated for splits only in filings made after the split. The figures of one TTM can
-- therefore come from filings on either side of a split (for NVIDIA FY2025 Q1, 3M FY2024 =
-- 0.82 was last filed before the 2024 10:1 split, FY2024 = 1.19 after it). Rules 1 and 3
-- reject such a mix: the implied share count (net income / EPS) of each figure they use
-- must stay within a factor of 1.4 (a 3:2 split is 1.5; buy-backs and rounding of cents
-- stay well below). Figures with |EPS| < 0.10 or a sign differing from net income's are not
-- checked (cents rounding makes their share count meaningless); the YTD net income is the
-- sum of the year's quarters and is checked only when every quarter up to q is present.
-- P/E is null (never 0) when TTM EPS is null or <= 0 or the price is missing.
--
-- Inputs: quarterly_reports (QUARTERLY_REPORTS), companies (COMPANIES: ticker <-> cik; one
-- report row gives a row per ticker of its CIK), quarter_closes (the output of
-- quarter_end_close.sql over the periods of report_periods.sql).
-- Runs unchanged on DuckDB and Spark SQL 3.5/4.x: window functions only, no self-join, so
-- each report gives exactly one row even if its fiscal label repeats.
WITH reports AS (
    SELECT
        cik,
        fiscal_year,
        fiscal_quarter,
        period_start,
        period_end,
        net_income,
        eps_diluted,
        eps_diluted_ytd,
        -- annual rows (fiscal_quarter 0) never enter a window of quarters
        CASE WHEN fiscal_quarter = 0 THEN 'year' ELSE 'quarter' END AS kind,
        CASE
            WHEN ABS(eps_diluted) >= 0.1 AND net_income * eps_diluted > 0
                THEN net_income / eps_diluted
        END AS quarter_shares
    FROM quarterly_reports
),

ordered AS (
    SELECT
        *,
        LAG(period_end) OVER (PARTITION BY cik, kind ORDER BY period_end) AS previous_end,
        SUM(net_income) OVER (
            PARTITION BY cik, kind, fiscal_year ORDER BY period_end
            ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW
        ) AS ytd_net_income,
        COUNT(net_income) OVER (
            PARTITION BY cik, kind, fiscal_year ORDER BY period_end
            ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW
        ) AS ytd_reports
    FROM reports
),

linked AS (
    SELECT
        *,
        CASE
            WHEN previous_end < period_start
                AND previous_end >= period_start - INTERVAL 7 DAY
                THEN 1
            ELSE 0
        END AS follows_previous,
        CASE
            WHEN ytd_reports = fiscal_quarter
                AND ABS(eps_diluted_ytd) >= 0.1
                AND ytd_net_income * eps_diluted_ytd > 0
                THEN ytd_net_income / eps_diluted_ytd
        END AS ytd_shares
    FROM ordered
),

windowed AS (
    SELECT
        *,
        COUNT(*) OVER w4 AS n_quarters,
        COUNT(eps_diluted) OVER w4 AS n_eps,
        SUM(eps_diluted) OVER w4 AS eps_sum,
        MAX(quarter_shares) OVER w4 AS max_quarter_shares,
        MIN(quarter_shares) OVER w4 AS min_quarter_shares,
        LAG(fiscal_year, 3) OVER (PARTITION BY cik, kind ORDER BY period_end) AS first_year,
        LAG(fiscal_quarter, 3) OVER (PARTITION BY cik, kind ORDER BY period_end)
            AS first_quarter,
        SUM(follows_previous) OVER (
            PARTITION BY cik, kind ORDER BY period_end ROWS BETWEEN 2 PRECEDING AND CURRENT ROW
        ) AS n_links,
        -- the fiscal year's Q4 (fiscal-year figures) and Q1 (its start), on every row
        COUNT(CASE WHEN fiscal_quarter = 4 THEN 1 END) OVER wy AS year_q4s,
        MAX(CASE WHEN fiscal_quarter = 4 THEN period_end END) OVER wy AS year_end,
        MAX(CASE WHEN fiscal_quarter = 4 THEN eps_diluted_ytd END) OVER wy AS year_eps,
        MAX(CASE WHEN fiscal_quarter = 4 THEN ytd_shares END) OVER wy AS year_shares,
        MIN(CASE WHEN fiscal_quarter = 1 THEN period_start END) OVER wy AS year_start
    FROM linked
    WINDOW
        w4 AS (
            PARTITION BY cik, kind ORDER BY period_end ROWS BETWEEN 3 PRECEDING AND CURRENT ROW
        ),
        wy AS (PARTITION BY cik, kind, fiscal_year)
),

prior_year_rows AS (
    -- the same fiscal quarter of the previous report year, and that year's Q4 figures
    SELECT
        *,
        LAG(fiscal_year) OVER wq AS prior_year,
        LAG(period_end) OVER wq AS prior_end,
        LAG(eps_diluted_ytd) OVER wq AS prior_ytd_eps,
        LAG(ytd_shares) OVER wq AS prior_ytd_shares,
        LAG(year_q4s) OVER wq AS prior_year_q4s,
        LAG(year_end) OVER wq AS prior_year_end,
        LAG(year_eps) OVER wq AS prior_year_eps,
        LAG(year_shares) OVER wq AS prior_year_shares
    FROM windowed
    WINDOW wq AS (PARTITION BY cik, kind, fiscal_quarter ORDER BY period_end)
),

checked AS (
    SELECT
        *,
        CONCAT('FY', CAST(fiscal_year AS STRING)) AS fy_name,
        CONCAT('FY', CAST(fiscal_year - 1 AS STRING)) AS prior_fy_name,
        CASE fiscal_quarter WHEN 1 THEN '3M' WHEN 2 THEN '6M' WHEN 3 THEN '9M' END AS span,
        COALESCE(
            GREATEST(ytd_shares, prior_ytd_shares, prior_year_shares)
            > 1.4 * LEAST(ytd_shares, prior_ytd_shares, prior_year_shares),
            FALSE
        ) AS identity_mixes_splits,
        CASE
            WHEN fiscal_quarter = 0 THEN NULL
            WHEN n_quarters < 4 THEN 'fewer than four fiscal quarters reported'
            WHEN n_links < 3 THEN 'the last four fiscal quarters are not consecutive'
            WHEN n_eps < 4 THEN 'diluted EPS missing in one of the last four fiscal quarters'
            WHEN max_quarter_shares > 1.4 * min_quarter_shares
                THEN 'the last four quarterly EPS are on different split bases'
        END AS sum_failure
    FROM prior_year_rows
),

explained AS (
    SELECT
        *,
        CASE
            WHEN fiscal_quarter IN (0, 4) THEN
                CASE
                    WHEN eps_diluted_ytd IS NULL
                        THEN CONCAT('fiscal-year diluted EPS ', fy_name, ' not reported')
                END
            WHEN eps_diluted_ytd IS NULL
                THEN CONCAT(span, ' ', fy_name, ' diluted EPS not reported')
            WHEN prior_year IS NULL
                OR prior_year <> fiscal_year - 1
                OR prior_end < period_end - INTERVAL 380 DAY
                OR prior_end > period_end - INTERVAL 350 DAY
                THEN CONCAT(
                    'no ', prior_fy_name, ' Q', CAST(fiscal_quarter AS STRING),
                    ' report one year earlier'
                )
            WHEN prior_ytd_eps IS NULL
                THEN CONCAT(span, ' ', prior_fy_name, ' diluted EPS not reported')
            WHEN prior_year_q4s <> 1 THEN CONCAT('no single ', prior_fy_name, ' Q4 report')
            WHEN prior_year_eps IS NULL
                THEN CONCAT('fiscal-year diluted EPS ', prior_fy_name, ' not reported')
            WHEN year_start IS NULL
                OR prior_year_end >= year_start
                OR prior_year_end < year_start - INTERVAL 7 DAY
                THEN CONCAT(prior_fy_name, ' Q4 does not end just before ', fy_name, ' Q1')
            WHEN identity_mixes_splits
                THEN 'the year-to-date EPS of the trailing identity are on different split bases'
        END AS fallback_failure
    FROM checked
),

ttm AS (
    SELECT
        cik,
        fiscal_year,
        fiscal_quarter,
        period_end,
        sum_failure,
        fallback_failure,
        CASE
            WHEN sum_failure IS NULL AND fiscal_quarter > 0 THEN ROUND(eps_sum, 4)
            WHEN fallback_failure IS NULL AND fiscal_quarter IN (0, 4) THEN eps_diluted_ytd
            WHEN fallback_failure IS NULL
                THEN ROUND(eps_diluted_ytd + prior_year_eps - prior_ytd_eps, 4)
        END AS eps_ttm,
        CASE
            WHEN sum_failure IS NULL AND fiscal_quarter > 0
                THEN CONCAT(
                    'sum of 4 quarterly EPS, FY', CAST(first_year AS STRING),
                    ' Q', CAST(first_quarter AS STRING), ' to ', fy_name,
                    ' Q', CAST(fiscal_quarter AS STRING)
                )
            WHEN fallback_failure IS NULL AND fiscal_quarter IN (0, 4)
                THEN CONCAT('fiscal-year EPS ', fy_name)
            WHEN fallback_failure IS NULL
                THEN CONCAT(
                    prior_fy_name, ' + ', span, ' ', fy_name, ' - ', span, ' ', prior_fy_name
                )
        END AS eps_ttm_derivation
    FROM explained
),

noted AS (
    SELECT
        *,
        CASE
            WHEN eps_ttm IS NULL THEN CONCAT_WS('; ', sum_failure, fallback_failure)
            WHEN eps_ttm <= 0 THEN 'TTM diluted EPS is zero or negative: P/E undefined'
        END AS eps_note
    FROM ttm
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
    t.eps_ttm_derivation,
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
FROM noted AS t
JOIN companies AS c
    ON c.cik = t.cik
LEFT JOIN quarter_closes AS q
    ON q.ticker = c.ticker
    AND q.period_end = t.period_end
ORDER BY c.ticker, t.period_end
