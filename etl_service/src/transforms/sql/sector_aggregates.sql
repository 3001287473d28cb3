-- Per calendar quarter means and medians for each GICS sector and sub-industry,
-- survivorship-free.
-- A fiscal quarter counts in the calendar quarter that contains the day 45 days before its
-- end (roughly its midpoint), so NVIDIA's quarter ending 2025-01-26 counts in 2024 Q4.
-- A company counts in a quarter when one of its spans in index_membership (by CIK) covers
-- that calendar quarter's last day, whether or not it is a member today. Its sector and
-- sub-industry are today's for current members, else the latest a member list gave
-- (former_members); a sector outside today's eleven is not averaged. Companies sharing a
-- CIK (GOOGL/GOOG) count once; their closes and P/Es are averaged first.
-- avg_closing_price uses the close on or before the calendar quarter end (calendar_closes),
-- avg_pe the P/E of the fiscal quarter (prices_pe); every mean and median ignores nulls, and
-- each metric's count (n_*) is the number of companies both are over. MEDIAN interpolates
-- between the middle two values on DuckDB and on Spark (3.4+) alike. This runs after the
-- quality gates, on the rows they kept.
-- Inputs: companies, former_members, index_membership, quarterly_reports, prices_pe,
-- calendar_closes. Runs unchanged on DuckDB and Spark SQL 3.5/4.x.
WITH reports AS (
    SELECT
        cik,
        period_end,
        revenue,
        net_income,
        eps_diluted,
        profit_margin,
        LAST_DAY(
            MAKE_DATE(
                YEAR(period_end - INTERVAL 45 DAY), QUARTER(period_end - INTERVAL 45 DAY) * 3, 1
            )
        ) AS quarter_end
    FROM quarterly_reports
),

current_firms AS (
    SELECT cik, MIN(sector) AS sector, MIN(sub_industry) AS sub_industry
    FROM companies
    WHERE cik IS NOT NULL
    GROUP BY cik
),

firms AS (
    SELECT cik, sector, sub_industry FROM current_firms
    UNION ALL
    SELECT f.cik, MIN(f.sector) AS sector, MIN(f.sub_industry) AS sub_industry
    FROM former_members AS f
    LEFT JOIN current_firms AS c
        ON c.cik = f.cik
    WHERE f.cik IS NOT NULL
        AND c.cik IS NULL
        AND f.sector IN (SELECT DISTINCT sector FROM companies)
    GROUP BY f.cik
),

members AS (
    SELECT DISTINCT r.cik, r.quarter_end
    FROM reports AS r
    JOIN index_membership AS m
        ON m.cik = r.cik
        AND m.valid_from <= r.quarter_end
        AND (m.valid_to IS NULL OR m.valid_to > r.quarter_end)
),

pe AS (
    SELECT cik, period_end, AVG(price_earnings_ratio) AS pe
    FROM prices_pe
    GROUP BY cik, period_end
),

closes AS (
    SELECT m.cik, q.period_end AS quarter_end, AVG(q.closing_price) AS closing_price
    FROM calendar_closes AS q
    JOIN index_membership AS m
        ON m.ticker = q.ticker
        AND m.valid_from <= q.period_end
        AND (m.valid_to IS NULL OR m.valid_to > q.period_end)
    WHERE m.cik IS NOT NULL
    GROUP BY m.cik, q.period_end
),

facts AS (
    SELECT
        f.sector,
        f.sub_industry,
        r.quarter_end,
        r.cik,
        r.revenue,
        r.net_income,
        r.eps_diluted,
        r.profit_margin,
        cl.closing_price,
        pe.pe
    FROM reports AS r
    JOIN members AS mb
        ON mb.cik = r.cik
        AND mb.quarter_end = r.quarter_end
    JOIN firms AS f
        ON f.cik = r.cik
    LEFT JOIN pe
        ON pe.cik = r.cik
        AND pe.period_end = r.period_end
    LEFT JOIN closes AS cl
        ON cl.cik = r.cik
        AND cl.quarter_end = r.quarter_end
),

levels AS (
    SELECT 'sector' AS level
    UNION ALL
    SELECT 'sub_industry' AS level
),

grouped AS (
    SELECT
        lv.level,
        CASE WHEN lv.level = 'sector' THEN f.sector ELSE f.sub_industry END AS name,
        f.*
    FROM facts AS f
    CROSS JOIN levels AS lv
)

SELECT
    level,
    name,
    quarter_end,
    COUNT(DISTINCT cik) AS n_companies,
    AVG(CAST(revenue AS DOUBLE)) AS avg_revenue,
    AVG(CAST(net_income AS DOUBLE)) AS avg_net_income,
    AVG(eps_diluted) AS avg_eps_diluted,
    AVG(profit_margin) AS avg_profit_margin,
    AVG(closing_price) AS avg_closing_price,
    AVG(pe) AS avg_pe,
    COUNT(revenue) AS n_revenue,
    COUNT(net_income) AS n_net_income,
    COUNT(eps_diluted) AS n_eps_diluted,
    COUNT(profit_margin) AS n_profit_margin,
    COUNT(closing_price) AS n_closing_price,
    COUNT(pe) AS n_pe,
    MEDIAN(CAST(revenue AS DOUBLE)) AS median_revenue,
    MEDIAN(CAST(net_income AS DOUBLE)) AS median_net_income,
    MEDIAN(eps_diluted) AS median_eps_diluted,
    MEDIAN(profit_margin) AS median_profit_margin,
    MEDIAN(closing_price) AS median_closing_price,
    MEDIAN(pe) AS median_pe
FROM grouped
WHERE name IS NOT NULL
GROUP BY level, name, quarter_end
ORDER BY level, name, quarter_end
