"""``etl-service extract``: run one source's extraction and print its canonical table."""

from __future__ import annotations

import click

import etl_service.cli.extract_financials as extract_financials
import etl_service.cli.extract_fsds as extract_fsds
import etl_service.cli.extract_prices as extract_prices
import etl_service.cli.extract_wikipedia as extract_wikipedia


@click.group()
def extract() -> None:
    """Extract one source to stdout or a file (CSV, JSON lines or Parquet)."""


extract.add_command(extract_wikipedia.companies)
extract.add_command(extract_wikipedia.changes)
extract.add_command(extract_financials.financials)
extract.add_command(extract_prices.prices)
extract.add_command(extract_fsds.fsds)
