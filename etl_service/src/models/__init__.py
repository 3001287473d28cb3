"""Canonical schemas, tickers, quality results, queries and aggregations."""
