"""``etl-service report``: the charts of the loaded data, as a page and PNGs."""

from __future__ import annotations

from pathlib import Path

import click

from etl_service.cli._summary import summary_is_json, write_summary
from etl_service.report import write_report
from etl_service.settings import Settings
from etl_service.src.db.engine import connected_engine


@click.command()
@click.option(
    "--out",
    type=click.Path(file_okay=False, path_type=Path),
    required=True,
    metavar="DIR",
    help="The folder to write report.html and one PNG per chart into (created if missing).",
)
@click.option(
    "--runs",
    "last_runs",
    type=click.IntRange(min=1),
    default=10,
    show_default=True,
    metavar="N",
    help="How many of the latest runs the data-quality chart shows.",
)
@click.pass_obj
def report(settings: Settings, out: Path, last_runs: int) -> None:
    """Write a self-contained HTML page (opens offline) and a PNG of each chart: sector and
    sub-industry revenue, net margin, EPS and P/E (means, medians, counts), index changes per
    year, coverage, and the data quality of the latest runs."""
    engine = connected_engine(settings.database_url_value, create=False)
    files = write_report(engine, out, last_runs)
    if summary_is_json():
        write_summary({"page": str(files.page), "images": [str(p) for p in files.images]})
        return
    click.echo(f"wrote {files.page} and {len(files.images)} charts (PNG) in {out}")
