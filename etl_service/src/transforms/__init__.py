"""Set-level transformations, defined once as SQL that DuckDB and Spark both run."""
