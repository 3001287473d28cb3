-- Quarter-end close: the close of the last trading day on or before each period end, looked
-- up at most 10 calendar days back (weekends, holidays and short gaps). With no close in that
-- window the price is null and `note` says why; an older close is never used.
-- Inputs: closes (ticker, date, close, source, adjusted_as_of: one row per trading day, as
-- the price sources produce), periods (ticker, period_end: fiscal period ends, or calendar
-- quarter ends for the sector aggregates). Output: one row per distinct (ticker, period_end)
-- with price_date, closing_price, price_source, adjusted_as_of (the close as the source
-- states it, see DAILY_CLOSES) and note.
-- Runs unchanged on DuckDB and Spark SQL 3.5/4.x (no ASOF JOIN, no QUALIFY).
WITH wanted AS (
    SELECT DISTINCT ticker, period_end
    FROM periods
),

-- The 11 days a period end may take its close from, so closes are matched on equality
-- (a hash join that reads only those days) rather than by a range per ticker.
candidate_days AS (
    SELECT w.ticker, w.period_end, w.period_end - d.days_back AS day
    FROM wanted AS w
    CROSS JOIN (
        VALUES (0), (1), (2), (3), (4), (5), (6), (7), (8), (9), (10)
    ) AS d(days_back)
),

in_window AS (
    SELECT
        d.ticker,
        d.period_end,
        c.date AS price_date,
        c.close AS closing_price,
        c.source AS price_source,
        c.adjusted_as_of,
        ROW_NUMBER() OVER (
            PARTITION BY d.ticker, d.period_end
            ORDER BY c.date DESC, c.source
        ) AS rn
    FROM candidate_days AS d
    JOIN closes AS c
        ON c.ticker = d.ticker
        AND c.date = d.day
),

history AS (
    SELECT ticker, MIN(date) AS first_date, MAX(date) AS last_date
    FROM closes
    GROUP BY ticker
)

SELECT
    w.ticker,
    w.period_end,
    p.price_date,
    p.closing_price,
    p.price_source,
    p.adjusted_as_of,
    CASE
        WHEN p.price_date IS NOT NULL THEN NULL
        WHEN h.ticker IS NULL THEN 'no closes for this ticker'
        WHEN w.period_end < h.first_date
            THEN CONCAT('no close on or before the period end: history starts ',
                        CAST(h.first_date AS STRING))
        WHEN h.last_date < w.period_end
            THEN CONCAT('no close within 10 calendar days before the period end: history ends ',
                        CAST(h.last_date AS STRING))
        ELSE 'no close within 10 calendar days before the period end (gap in history)'
    END AS note
FROM wanted AS w
LEFT JOIN in_window AS p
    ON p.ticker = w.ticker
    AND p.period_end = w.period_end
    AND p.rn = 1
LEFT JOIN history AS h
    ON h.ticker = w.ticker
ORDER BY w.ticker, w.period_end
