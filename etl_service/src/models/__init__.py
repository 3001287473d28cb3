"""Canonical schemas, tickers, record sets and quality results."""
