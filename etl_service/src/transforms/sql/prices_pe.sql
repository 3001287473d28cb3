-- P/E per ticker and fiscal period: quarter-end close / trailing-twelve-month diluted EPS,
-- both per share as traded on the price date.
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
-- Share basis. Every EPS figure is the latest filed value for its period, restated for the
-- splits made before its filing (eps_diluted_filed, eps_diluted_ytd_filed); a close is as
-- traded, or adjusted for the splits up to adjusted_as_of (Stooq: the file's last day). The
-- split factor of a date is the product of the ratios of the company's splits in effect on
-- it (split_events; 1 before the first). Each figure is multiplied by the factor of its own
-- date, which puts all of them on the shares before the company's first known split, and
-- the results are divided by the factor of the price date (of the period end without a
-- close): share_basis 'as traded'. Apple's FY2012 EPS 6.31, filed after the 2014 7-for-1
-- split, counts as 44.17 at the 2012-09-28 close, and the Stooq close of that day,
-- 85.797, counts as 600.579 (split_factor 7; still lowered by the dividends Stooq adjusted
-- for, see README). A date in a split's window (on or after old_basis_before, before
-- new_basis_from) has no known factor: a figure filed then is not used; a price date there
-- leaves the close's own basis ('split-adjusted to <adjusted_as_of>') when it is adjusted,
-- and no basis otherwise. eps_ttm_derivation lists the factors the figures were multiplied
-- by when any is not 1. With no split events every factor is 1: figures as reported.
--
-- Splits the events miss still show: rules 1 and 3 reject figures on different split
-- bases, detected by implied share counts (net income / EPS on the common basis), which
-- must stay within a factor of 1.4 (a 3:2 split is 1.5; buy-backs and rounding of cents
-- stay well below). Figures with |EPS| < 0.10 or a sign differing from net income's are not
-- checked (cents rounding makes their share count meaningless); the YTD net income is the
-- sum of the year's quarters and is checked only when every quarter up to q is present.
-- P/E is null (never 0) when TTM EPS is null or <= 0 or the price is missing.
--
-- Inputs: quarterly_reports (QUARTERLY_REPORTS), companies (COMPANIES: ticker <-> cik; one
-- report row gives a row per ticker of its CIK), quarter_closes (the output of
-- quarter_end_close.sql over the periods of report_periods.sql), split_events
-- (SPLIT_EVENTS). Runs unchanged on DuckDB and Spark SQL 3.5/4.x: window functions only, no
-- self-join, so each report gives exactly one row even if its fiscal label repeats.
WITH basis_dates AS (
    -- every date whose split factor a row needs: the filings of a report's two EPS figures;
    -- per ticker the price date (the period end without a close) and the close's own basis
    SELECT cik, CAST(NULL AS STRING) AS ticker, period_end, 'quarter' AS role,
        eps_diluted_filed AS basis_date
    FROM quarterly_reports
    UNION ALL
    SELECT cik, CAST(NULL AS STRING) AS ticker, period_end, 'year_to_date' AS role,
        eps_diluted_ytd_filed AS basis_date
    FROM quarterly_reports
    UNION ALL
    SELECT c.cik, c.ticker, r.period_end, 'price' AS role,
        COALESCE(q.price_date, r.period_end) AS basis_date
    FROM quarterly_reports AS r
    JOIN companies AS c
        ON c.cik = r.cik
    LEFT JOIN quarter_closes AS q
        ON q.ticker = c.ticker
        AND q.period_end = r.period_end
    UNION ALL
    SELECT c.cik, c.ticker, r.period_end, 'close' AS role,
        COALESCE(q.adjusted_as_of, q.price_date) AS basis_date
    FROM quarterly_reports AS r
    JOIN companies AS c
        ON c.cik = r.cik
    LEFT JOIN quarter_closes AS q
        ON q.ticker = c.ticker
        AND q.period_end = r.period_end
),

factors AS (
    -- the product of the ratios of the splits in effect on basis_date (rounded: EXP(LN)
    -- noise); null for an unknown date or one in a split's window
    SELECT
        b.cik,
        b.ticker,
        b.period_end,
        b.role,
        CASE
            WHEN COUNT(s.cik) = 0 THEN CAST(1 AS DOUBLE)
            WHEN b.basis_date IS NULL THEN NULL
            WHEN SUM(
                CASE
                    WHEN b.basis_date >= s.old_basis_before AND b.basis_date < s.new_basis_from
                        THEN 1
                    ELSE 0
                END
            ) > 0 THEN NULL
            ELSE ROUND(
                EXP(
                    SUM(
                        CASE
                            WHEN s.new_basis_from <= b.basis_date THEN LN(s.split_ratio)
                            ELSE 0
                        END
                    )
                ),
                6
            )
        END AS factor
    FROM basis_dates AS b
    LEFT JOIN split_events AS s
        ON s.cik = b.cik
    GROUP BY b.cik, b.ticker, b.period_end, b.role, b.basis_date
),

reports AS (
    -- quarter_eps and ytd_eps: the two EPS figures on the shares before the first split
    SELECT
        r.cik,
        r.fiscal_year,
        r.fiscal_quarter,
        r.period_start,
        r.period_end,
        r.net_income,
        r.eps_diluted,
        r.eps_diluted_ytd,
        r.eps_diluted * fq.factor AS quarter_eps,
        r.eps_diluted_ytd * fy.factor AS ytd_eps,
        fq.factor AS quarter_factor,
        fy.factor AS ytd_factor,
        -- annual rows (fiscal_quarter 0) never enter a window of quarters
        CASE WHEN r.fiscal_quarter = 0 THEN 'year' ELSE 'quarter' END AS kind,
        CASE
            WHEN ABS(r.eps_diluted) >= 0.1 AND r.net_income * r.eps_diluted > 0
                THEN r.net_income / (r.eps_diluted * fq.factor)
        END AS quarter_shares
    FROM quarterly_reports AS r
    LEFT JOIN factors AS fq
        ON fq.cik = r.cik
        AND fq.period_end = r.period_end
        AND fq.role = 'quarter'
    LEFT JOIN factors AS fy
        ON fy.cik = r.cik
        AND fy.period_end = r.period_end
        AND fy.role = 'year_to_date'
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
                THEN ytd_net_income / ytd_eps
        END AS ytd_shares
    FROM ordered
),

windowed AS (
    SELECT
        *,
        COUNT(*) OVER w4 AS n_quarters,
        COUNT(eps_diluted) OVER w4 AS n_eps,
        COUNT(quarter_eps) OVER w4 AS n_known,
        SUM(quarter_eps) OVER w4 AS eps_sum,
        LAG(quarter_factor, 3) OVER wp AS factor_1,
        LAG(quarter_factor, 2) OVER wp AS factor_2,
        LAG(quarter_factor, 1) OVER wp AS factor_3,
        MAX(quarter_shares) OVER w4 AS max_quarter_shares,
        MIN(quarter_shares) OVER w4 AS min_quarter_shares,
        LAG(fiscal_year, 3) OVER wp AS first_year,
        LAG(fiscal_quarter, 3) OVER wp AS first_quarter,
        SUM(follows_previous) OVER (
            PARTITION BY cik, kind ORDER BY period_end ROWS BETWEEN 2 PRECEDING AND CURRENT ROW
        ) AS n_links,
        -- the fiscal year's Q4 (fiscal-year figures) and Q1 (its start), on every row
        COUNT(CASE WHEN fiscal_quarter = 4 THEN 1 END) OVER wy AS year_q4s,
        MAX(CASE WHEN fiscal_quarter = 4 THEN period_end END) OVER wy AS year_end,
        MAX(CASE WHEN fiscal_quarter = 4 THEN eps_diluted_ytd END) OVER wy AS year_reported,
        MAX(CASE WHEN fiscal_quarter = 4 THEN ytd_eps END) OVER wy AS year_eps,
        MAX(CASE WHEN fiscal_quarter = 4 THEN ytd_factor END) OVER wy AS year_factor,
        MAX(CASE WHEN fiscal_quarter = 4 THEN ytd_shares END) OVER wy AS year_shares,
        MIN(CASE WHEN fiscal_quarter = 1 THEN period_start END) OVER wy AS year_start
    FROM linked
    WINDOW
        w4 AS (
            PARTITION BY cik, kind ORDER BY period_end ROWS BETWEEN 3 PRECEDING AND CURRENT ROW
        ),
        wp AS (PARTITION BY cik, kind ORDER BY period_end),
        wy AS (PARTITION BY cik, kind, fiscal_year)
),

prior_year_rows AS (
    -- the same fiscal quarter of the previous report year, and that year's Q4 figures
    SELECT
        *,
        LAG(fiscal_year) OVER wq AS prior_year,
        LAG(period_end) OVER wq AS prior_end,
        LAG(eps_diluted_ytd) OVER wq AS prior_ytd_reported,
        LAG(ytd_eps) OVER wq AS prior_ytd_eps,
        LAG(ytd_factor) OVER wq AS prior_ytd_factor,
        LAG(ytd_shares) OVER wq AS prior_ytd_shares,
        LAG(year_q4s) OVER wq AS prior_year_q4s,
        LAG(year_end) OVER wq AS prior_year_end,
        LAG(year_reported) OVER wq AS prior_year_reported,
        LAG(year_eps) OVER wq AS prior_year_eps,
        LAG(year_factor) OVER wq AS prior_year_factor,
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
            WHEN n_known < 4
                THEN 'a diluted EPS of the last four fiscal quarters has no known split basis'
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
                    WHEN ytd_eps IS NULL
                        THEN CONCAT(
                            'fiscal-year diluted EPS ', fy_name, ' has no known split basis'
                        )
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
            WHEN prior_ytd_reported IS NULL
                THEN CONCAT(span, ' ', prior_fy_name, ' diluted EPS not reported')
            WHEN prior_year_q4s <> 1 THEN CONCAT('no single ', prior_fy_name, ' Q4 report')
            WHEN prior_year_reported IS NULL
                THEN CONCAT('fiscal-year diluted EPS ', prior_fy_name, ' not reported')
            WHEN year_start IS NULL
                OR prior_year_end >= year_start
                OR prior_year_end < year_start - INTERVAL 7 DAY
                THEN CONCAT(prior_fy_name, ' Q4 does not end just before ', fy_name, ' Q1')
            WHEN ytd_eps IS NULL OR prior_ytd_eps IS NULL OR prior_year_eps IS NULL
                THEN 'a year-to-date EPS of the trailing identity has no known split basis'
            WHEN identity_mixes_splits
                THEN 'the year-to-date EPS of the trailing identity are on different split bases'
        END AS fallback_failure
    FROM checked
),

ttm AS (
    -- eps_base: TTM EPS on the shares before the first split; factor_* the factors of the
    -- figures it adds up, in the order the derivation names them
    SELECT
        cik,
        fiscal_year,
        fiscal_quarter,
        period_end,
        sum_failure,
        fallback_failure,
        CASE
            WHEN sum_failure IS NULL AND fiscal_quarter > 0 THEN eps_sum
            WHEN fallback_failure IS NULL AND fiscal_quarter IN (0, 4) THEN ytd_eps
            WHEN fallback_failure IS NULL THEN ytd_eps + prior_year_eps - prior_ytd_eps
        END AS eps_base,
        CASE
            WHEN sum_failure IS NULL AND fiscal_quarter > 0 THEN factor_1
            WHEN fallback_failure IS NULL AND fiscal_quarter IN (0, 4) THEN ytd_factor
            WHEN fallback_failure IS NULL THEN prior_year_factor
        END AS used_1,
        CASE
            WHEN sum_failure IS NULL AND fiscal_quarter > 0 THEN factor_2
            WHEN fallback_failure IS NULL AND fiscal_quarter IN (1, 2, 3) THEN ytd_factor
        END AS used_2,
        CASE
            WHEN sum_failure IS NULL AND fiscal_quarter > 0 THEN factor_3
            WHEN fallback_failure IS NULL AND fiscal_quarter IN (1, 2, 3) THEN prior_ytd_factor
        END AS used_3,
        CASE WHEN sum_failure IS NULL AND fiscal_quarter > 0 THEN quarter_factor END AS used_4,
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
        END AS rule_derivation
    FROM explained
),

based AS (
    -- one row per ticker and report: the factor of the share basis shown (the price date's,
    -- else the adjusted close's own) and the close's factor
    SELECT
        c.ticker,
        t.*,
        q.ticker AS looked_up,
        q.price_date,
        q.closing_price AS source_close,
        q.price_source,
        q.note AS price_note,
        q.adjusted_as_of,
        fp.factor AS price_factor,
        fc.factor AS close_factor,
        COALESCE(fp.factor, CASE WHEN q.adjusted_as_of IS NOT NULL THEN fc.factor END)
            AS basis_factor
    FROM ttm AS t
    JOIN companies AS c
        ON c.cik = t.cik
    LEFT JOIN quarter_closes AS q
        ON q.ticker = c.ticker
        AND q.period_end = t.period_end
    LEFT JOIN factors AS fp
        ON fp.ticker = c.ticker
        AND fp.period_end = t.period_end
        AND fp.role = 'price'
    LEFT JOIN factors AS fc
        ON fc.ticker = c.ticker
        AND fc.period_end = t.period_end
        AND fc.role = 'close'
),

shown AS (
    -- relative_*: what each figure was multiplied by to reach the basis shown
    SELECT
        *,
        ROUND(eps_base / basis_factor, 4) AS eps_ttm,
        CASE WHEN source_close IS NOT NULL THEN close_factor / basis_factor END AS split_factor,
        ROUND(used_1 / basis_factor, 6) AS relative_1,
        ROUND(used_2 / basis_factor, 6) AS relative_2,
        ROUND(used_3 / basis_factor, 6) AS relative_3,
        ROUND(used_4 / basis_factor, 6) AS relative_4
    FROM based
),

factor_texts AS (
    -- a factor as text: 7, 0.25, 0.6667 (4 decimals, trailing zeros dropped)
    SELECT
        *,
        REGEXP_REPLACE(CAST(CAST(relative_1 AS DECIMAL(18, 4)) AS STRING), '[.]?0+$', '')
            AS text_1,
        REGEXP_REPLACE(CAST(CAST(relative_2 AS DECIMAL(18, 4)) AS STRING), '[.]?0+$', '')
            AS text_2,
        REGEXP_REPLACE(CAST(CAST(relative_3 AS DECIMAL(18, 4)) AS STRING), '[.]?0+$', '')
            AS text_3,
        REGEXP_REPLACE(CAST(CAST(relative_4 AS DECIMAL(18, 4)) AS STRING), '[.]?0+$', '')
            AS text_4
    FROM shown
),

noted AS (
    SELECT
        *,
        ROUND(source_close * split_factor, 6) AS closing_price,
        CASE
            WHEN eps_base IS NOT NULL AND basis_factor IS NULL
                THEN 'no known share basis on the price date: it falls in a split''s window'
            WHEN eps_base IS NULL THEN CONCAT_WS('; ', sum_failure, fallback_failure)
            WHEN eps_ttm <= 0 THEN 'TTM diluted EPS is zero or negative: P/E undefined'
        END AS eps_note,
        CASE
            WHEN source_close IS NOT NULL AND split_factor IS NULL
                THEN 'the close has no known share basis: a split''s window'
        END AS close_note
    FROM factor_texts
)

SELECT
    ticker,
    cik,
    period_end,
    fiscal_year,
    fiscal_quarter,
    price_date,
    closing_price,
    eps_ttm,
    CASE
        WHEN eps_ttm IS NOT NULL AND (
            relative_1 <> 1 OR relative_2 <> 1 OR relative_3 <> 1 OR relative_4 <> 1
        )
            THEN CONCAT(
                rule_derivation, ', split factors ',
                CONCAT_WS(', ', text_1, text_2, text_3, text_4)
            )
        WHEN eps_ttm IS NOT NULL THEN rule_derivation
    END AS eps_ttm_derivation,
    CASE
        WHEN closing_price IS NOT NULL AND eps_ttm > 0 THEN closing_price / eps_ttm
    END AS price_earnings_ratio,
    CASE
        WHEN closing_price IS NULL AND eps_ttm IS NULL THEN NULL
        WHEN price_factor IS NOT NULL THEN 'as traded'
        WHEN basis_factor IS NOT NULL
            THEN CONCAT('split-adjusted to ', CAST(adjusted_as_of AS STRING))
    END AS share_basis,
    split_factor,
    price_source,
    NULLIF(
        CONCAT_WS(
            '; ',
            CASE WHEN looked_up IS NULL THEN 'no quarter-end close looked up' ELSE price_note END,
            close_note,
            eps_note
        ),
        ''
    ) AS note
FROM noted
ORDER BY ticker, period_end
