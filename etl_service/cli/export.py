"""``etl-service export``: the curated tables as Parquet or CSV files, or to Snowflake."""

from __future__ import annotations

from pathlib import Path

import click
from rich.console import Console
from rich.table import Table

from etl_service.cli._summary import summary_is_json, write_summary
from etl_service.pipelines.curated_tables import ExportSource
from etl_service.pipelines.file_export import FileFormat, export_files
from etl_service.pipelines.snowflake_export import export_to_snowflake
from etl_service.settings import Settings
from etl_service.src.models.schemas import CURATED_TABLES

TABLES = click.option(
    "--tables",
    "tables",
    multiple=True,
    metavar="NAME[,NAME...]",
    help="Curated tables to export (repeatable or comma-separated; default: all of "
    f"{', '.join(spec.name for spec in CURATED_TABLES)}).",
)
SOURCE = click.option(
    "--from",
    "source",
    type=click.Choice([s.value for s in ExportSource]),
    default=ExportSource.DATABASE.value,
    show_default=True,
    help="Read the tables from the database or from the lake's curated zone.",
)


def _names(tables: tuple[str, ...]) -> list[str]:
    return [name.strip() for value in tables for name in value.split(",") if name.strip()]


@click.group(invoke_without_command=True)
@click.option(
    "--format",
    "fmt",
    type=click.Choice([f.value for f in FileFormat]),
    default=None,
    help="Write one file per table in this format (with --out).",
)
@click.option(
    "--out",
    type=click.Path(file_okay=False, path_type=Path),
    default=None,
    metavar="DIR",
    help="The folder of the files (created if missing; <table>.<format> replaced).",
)
@TABLES
@SOURCE
@click.pass_context
def export(
    ctx: click.Context, fmt: str | None, out: Path | None, tables: tuple[str, ...], source: str
) -> None:
    """Export the curated tables: as files (--format parquet|csv --out DIR) or to a
    warehouse (the snowflake command)."""
    if ctx.invoked_subcommand is not None:
        if fmt or out or tables:
            raise click.UsageError(
                f"--format, --out and --tables go after `{ctx.invoked_subcommand}` or without it"
            )
        return
    if fmt is None or out is None:
        raise click.UsageError("give --format parquet|csv and --out DIR, or a command")
    settings: Settings = ctx.obj
    report = export_files(settings, out, FileFormat(fmt), _names(tables), ExportSource(source))
    if summary_is_json():
        files = {name: {"file": str(p), "rows": n} for name, (p, n) in report.files.items()}
        write_summary({"source": report.source, "files": files, "duration_s": report.duration_s})
        return
    table = Table("table", "rows", "file", title="Exported")
    for name, (path, rows) in report.files.items():
        table.add_row(name, f"{rows:,}", str(path))
    console = Console(width=160)
    console.print(table)
    console.print(f"from the {report.source} in {report.duration_s:.1f}s")


@export.command()
@TABLES
@SOURCE
@click.pass_obj
def snowflake(settings: Settings, tables: tuple[str, ...], source: str) -> None:
    """Stage, COPY and MERGE the tables into ETL_SNOWFLAKE__DATABASE.__SCHEMA."""
    report = export_to_snowflake(settings, _names(tables), ExportSource(source))
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
