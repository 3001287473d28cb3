"""``etl-service extract financials``: quarterly revenue, net income and EPS from SEC XBRL."""

from __future__ import annotations

import logging
from pathlib import Path

import click
import pyarrow as pa

from etl_service.cli._output import FORMATS, write_table
from etl_service.errors import InputError
from etl_service.settings import Settings
from etl_service.snapshot import SEC_COMPANYFACTS
from etl_service.src.adapters.files import read_bytes
from etl_service.src.adapters.http import build_http_client
from etl_service.src.adapters.sec.client import (
    BulkCompanyFacts,
    CompanyFactsClient,
    build_sec_fetcher,
)
from etl_service.src.adapters.sec.quarterly import extract_quarterly

logger = logging.getLogger(__name__)

COLUMNS = [
    "cik",
    "fiscal_year",
    "fiscal_quarter",
    "period_start",
    "period_end",
    "revenue",
    "net_income",
    "eps_basic",
    "eps_diluted",
    "profit_margin",
    "revenue_concept",
    "form",
    "accession",
    "filed",
    "derived",
]


def _fetch(settings: Settings, cik: str, live: bool) -> tuple[bytes, str]:
    if live:
        fetcher = build_sec_fetcher(
            build_http_client(),
            settings.http,
            settings.sec_user_agent,
            settings.sec.max_requests_per_s,
        )
        return CompanyFactsClient(fetcher, settings.sec.base_url).get(cik)
    return BulkCompanyFacts(settings.sec.bulk_path or SEC_COMPANYFACTS).get(cik)


@click.command()
@click.option(
    "--input",
    "input_path",
    type=click.Path(path_type=Path),
    help="A companyfacts CIK##########.json (or .json.gz) file.",
)
@click.option("--cik", help="CIK to read from the bulk files (ETL_SEC__BULK_PATH or snapshot).")
@click.option("--live", is_flag=True, help="With --cik: fetch from data.sec.gov.")
@click.option("--format", "fmt", type=click.Choice(FORMATS), default="csv", show_default=True)
@click.option("--out", type=click.Path(dir_okay=False, path_type=Path), help="Default: stdout.")
@click.pass_obj
def financials(
    settings: Settings,
    input_path: Path | None,
    cik: str | None,
    live: bool,
    fmt: str,
    out: Path | None,
) -> None:
    """Quarterly financials of one company, one row per fiscal quarter, by period end."""
    if (input_path is None) == (cik is None):
        raise click.UsageError("give exactly one of --input PATH or --cik N")
    if live and cik is None:
        raise click.UsageError("--live needs --cik N")
    if input_path is not None:
        body, source = read_bytes(input_path), str(input_path)
    else:
        body, source = _fetch(settings, str(cik), live)
    extracted = extract_quarterly(body, source)
    if extracted.table.num_rows == 0:
        rejected = extracted.rejected
        first = f" ({len(rejected)} rejected, first: {rejected[0].reason})" if rejected else ""
        raise InputError(
            f"no quarterly revenue or net income facts{first}; nothing written", source=source
        )
    for fact in extracted.rejected:
        logger.warning("fact rejected: %s", fact.reason)
    table: pa.Table = extracted.table.select(COLUMNS).sort_by("period_end")
    write_table(table, fmt, out)
