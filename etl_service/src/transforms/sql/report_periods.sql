-- The (ticker, period_end) pairs of every quarterly report, one per ticker of its CIK.
-- Inputs: quarterly_reports (QUARTERLY_REPORTS), companies (COMPANIES; GOOGL and GOOG share
-- a CIK, so one report gives a period for each). Output: ticker, period_end.
-- Runs unchanged on DuckDB and Spark SQL 3.5/4.x.
SELECT DISTINCT
    c.ticker,
    r.period_end
FROM quarterly_reports AS r
JOIN companies AS c
    ON c.cik = r.cik
