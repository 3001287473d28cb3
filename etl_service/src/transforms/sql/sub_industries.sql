-- GICS sub-industries and their sector, from the constituents. A sub-industry listed under
-- two sectors yields two rows, which the unique-key rule then reports.
-- Input: companies. Runs unchanged on DuckDB and Spark SQL 3.5/4.x.
SELECT DISTINCT sub_industry, sector
FROM companies
ORDER BY sub_industry, sector
