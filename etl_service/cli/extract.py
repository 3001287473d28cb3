"""``etl-service extract``: run one source's extraction and print its canonical table."""

from __future__ import annotations

import click


@click.group()
def extract() -> None:
    """Extract one source to stdout or a file (CSV, JSON lines or Parquet)."""


def _register() -> None:
    from etl_service.cli import extract_financials, extract_prices, extract_wikipedia

    extract.add_command(extract_wikipedia.companies)
    extract.add_command(extract_wikipedia.changes)
    extract.add_command(extract_financials.financials)
    extract.add_command(extract_prices.prices)


_register()
