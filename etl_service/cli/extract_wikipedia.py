"""``etl-service extract companies|changes``: the Wikipedia S&P 500 tables from a file or live."""

from __future__ import annotations

import logging
from collections.abc import Callable
from pathlib import Path

import click
import pyarrow as pa
import pyarrow.compute as pc

from etl_service.cli._output import FORMATS, write_table
from etl_service.errors import InputError
from etl_service.settings import Settings
from etl_service.src.adapters.archive import RawArchive
from etl_service.src.adapters.http import HttpFetcher, build_http_client
from etl_service.src.adapters.wikipedia import ParsedPage, fetch_page, parse_page, read_page_file
from etl_service.src.models.records import Extracted

logger = logging.getLogger(__name__)

COMPANY_COLUMNS = (
    "ticker",
    "name",
    "sector",
    "sub_industry",
    "headquarters",
    "date_added",
    "cik",
    "year_founded",
)
CHANGE_COLUMNS = ("date", "added_ticker", "added_name", "removed_ticker", "removed_name", "reason")


def _load(settings: Settings, input_path: Path | None, live: bool) -> ParsedPage:
    if live == (input_path is not None):
        raise click.UsageError("give exactly one of --input FILE.html or --live")
    if input_path is not None:
        return parse_page(read_page_file(input_path), str(input_path))
    archive = RawArchive(str((settings.data_dir / "raw").resolve()))
    with build_http_client() as client:
        fetcher = HttpFetcher(client, settings.http, settings.user_agent)
        page = fetch_page(fetcher, settings.wikipedia_url, archive)
    return parse_page(page.body, settings.wikipedia_url)


def _report(label: str, extracted: Extracted) -> None:
    for warning in extracted.warnings:
        logger.warning("%s", warning)
    for rejected in extracted.rejected:
        logger.warning("%s row rejected: %s", label, rejected.reason)


def companies_output(page: ParsedPage) -> pa.Table:
    """The ``extract companies`` columns, sorted by ticker."""
    table = page.companies.table.select(list(COMPANY_COLUMNS))
    return table.take(pc.sort_indices(table, [("ticker", "ascending")]))


def changes_output(page: ParsedPage) -> pa.Table:
    """The ``extract changes`` columns, sorted by date, then added and removed ticker.

    Raises:
        InputError: the page has no changes table (revisions before it existed).
    """
    if not page.changes_found:
        raise InputError(
            "the page has no changes table, so there are no index changes to extract",
            source=page.source,
        )
    table = page.changes.table.rename_columns({"change_date": "date"}).select(list(CHANGE_COLUMNS))
    # Empty sides sort first; filling them avoids version-specific null placement options.
    keys = pa.table(
        {
            "date": table["date"],
            "added": pc.fill_null(table["added_ticker"], ""),
            "removed": pc.fill_null(table["removed_ticker"], ""),
        }
    )
    order = pc.sort_indices(
        keys, [("date", "ascending"), ("added", "ascending"), ("removed", "ascending")]
    )
    return table.take(order)


def _command(
    name: str, help_text: str, shape: Callable[[ParsedPage], pa.Table], part: str
) -> click.Command:
    @click.command(name=name, help=help_text)
    @click.option(
        "--input",
        "input_path",
        type=click.Path(path_type=Path),
        help="A saved page (.html or .html.gz, desktop or REST API format).",
    )
    @click.option("--live", is_flag=True, help="Fetch settings.wikipedia_url (archived raw).")
    @click.option("--format", "fmt", type=click.Choice(FORMATS), default="csv", show_default=True)
    @click.option(
        "--out", type=click.Path(path_type=Path, dir_okay=False), help="File (default: stdout)."
    )
    @click.pass_obj
    def command(
        settings: Settings, input_path: Path | None, live: bool, fmt: str, out: Path | None
    ) -> None:
        if fmt == "parquet" and out is None:
            raise click.UsageError("--format parquet needs --out PATH")
        page = _load(settings, input_path, live)
        table = shape(page)  # refuses a page without the table before any warning is shown
        _report(part, getattr(page, part))
        if not page.changes_found and part != "changes":
            _report("changes", page.changes)  # says why the page gives no changes
        write_table(table, fmt, out)

    return command


companies = _command(
    "companies",
    "S&P 500 constituents: ticker,name,sector,sub_industry,headquarters,date_added,cik,"
    "year_founded, sorted by ticker.",
    companies_output,
    "companies",
)
changes = _command(
    "changes",
    "Index changes: date,added_ticker,added_name,removed_ticker,removed_name,reason, "
    "sorted by date, then tickers.",
    changes_output,
    "changes",
)
