"""``etl-service extract prices``: daily closes from a price file or a folder of them."""

from __future__ import annotations

import logging
from pathlib import Path

import click
import pyarrow.compute as pc

from etl_service.cli._output import FORMATS, write_table
from etl_service.errors import InputError
from etl_service.settings import Settings
from etl_service.src.adapters.prices.files import read_prices
from etl_service.src.models.tickers import canonical_ticker

logger = logging.getLogger(__name__)


@click.command(name="prices")
@click.option(
    "--input",
    "input_path",
    type=click.Path(path_type=Path),
    required=True,
    help="A Stooq/Yahoo daily file, an iShares holdings file (.gz too), or a folder of them.",
)
@click.option(
    "--ticker",
    "tickers",
    multiple=True,
    help="Canonical ticker (BRK.B) to keep; repeat for several (default: all).",
)
@click.option("--format", "fmt", type=click.Choice(FORMATS), default="csv", show_default=True)
@click.option(
    "--out", type=click.Path(path_type=Path, dir_okay=False), help="File (default: stdout)."
)
@click.pass_obj
def prices(
    settings: Settings, input_path: Path, tickers: tuple[str, ...], fmt: str, out: Path | None
) -> None:
    """Daily closes: ticker,date,close,source, sorted by ticker and date (layout auto-detected)."""
    if fmt == "parquet" and out is None:
        raise click.UsageError("--format parquet needs --out PATH")
    wanted = sorted({canonical_ticker(t) for t in tickers}) or None
    extracted = read_prices(input_path, wanted)
    rejects = extracted.rejected
    if extracted.table.num_rows == 0 and not wanted:
        first = f" ({len(rejects)} rejected, first: {rejects[0].reason})" if rejects else ""
        raise InputError(f"no valid price rows{first}", source=str(input_path))
    for rejected in extracted.rejected:
        logger.warning("price row rejected: %s", rejected.reason)
    for warning in extracted.warnings:
        logger.warning("%s", warning)
    table = extracted.table
    if wanted:
        missing = sorted(set(wanted) - set(table.column("ticker").to_pylist()))
        if missing:
            raise InputError(
                "no valid prices for ticker",
                source=str(input_path),
                field="ticker",
                value=missing[0],
            )
    order = pc.sort_indices(table, [("ticker", "ascending"), ("date", "ascending")])
    write_table(table.take(order), fmt, out)
