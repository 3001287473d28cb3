"""``etl-service export snowflake``: the curated tables to Snowflake, outside a run."""

from __future__ import annotations

import click
from rich.console import Console
from rich.table import Table

from etl_service.pipelines.snowflake_export import ExportSource, export_to_snowflake
from etl_service.settings import Settings
from etl_service.src.models.schemas import CURATED_TABLES


@click.group()
def export() -> None:
    """Export the curated tables to a warehouse."""


@export.command()
@click.option(
    "--tables",
    "tables",
    multiple=True,
    metavar="NAME[,NAME...]",
    help="Curated tables to export (repeatable or comma-separated; default: all of "
    f"{', '.join(spec.name for spec in CURATED_TABLES)}).",
)
@click.option(
    "--from",
    "source",
    type=click.Choice([s.value for s in ExportSource]),
    default=ExportSource.DATABASE.value,
    show_default=True,
    help="Read the tables from the database or from the lake's curated zone.",
)
@click.pass_obj
def snowflake(settings: Settings, tables: tuple[str, ...], source: str) -> None:
    """Stage, COPY and MERGE the tables into ETL_SNOWFLAKE__DATABASE.__SCHEMA."""
    names = [name.strip() for value in tables for name in value.split(",") if name.strip()]
    report = export_to_snowflake(settings, names, ExportSource(source))
    table = Table("table", "rows", "inserted", "updated", "deleted", title="Exported")
    for name, rows in report.rows.items():
        merged = report.merged.get(name, {})
        counts = (f"{merged.get(k, 0):,}" for k in ("inserted", "updated", "deleted"))
        table.add_row(name, f"{rows:,}", *counts)
    console = Console(width=120)
    console.print(table)
    console.print(
        f"from {report.source} to {report.destination} in {report.duration_s:.1f}s; "
        "unchanged rows were not rewritten"
    )
