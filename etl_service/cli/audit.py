"""``etl-service runs`` and ``etl-service quarantine``: what the runs did and rejected."""

from __future__ import annotations

import click

from etl_service.cli.query import FORMAT, emit
from etl_service.settings import Settings
from etl_service.src.db import audit
from etl_service.src.db.engine import connected_engine


@click.command()
@click.option(
    "--last",
    type=click.IntRange(min=1),
    default=10,
    show_default=True,
    metavar="N",
    help="How many of the latest runs to show.",
)
@FORMAT
@click.pass_obj
def runs(settings: Settings, last: int, fmt: str) -> None:
    """The latest runs, newest first: status, source, engine, duration, rows per table,
    data-quality rules passed and failed, warnings (their number; all of them in JSON)."""
    engine = connected_engine(settings.database_url_value, create=False)
    history = audit.run_history(engine, last)
    if fmt != "table" or not history:
        emit(history, fmt, "Runs")
        return
    # On a terminal the rows per table get a table of their own, a column per run.
    emit([{**run, "rows": sum(run["rows"].values())} for run in history], fmt, "Runs")
    tables = sorted({name for run in history for name in run["rows"]})
    per_table = [
        {"table": name, **{run["run_id"][:8]: run["rows"].get(name) for run in history}}
        for name in tables
    ]
    emit(per_table, fmt, "Rows per table (newest run first)")


@click.command()
@click.option("--table", default=None, metavar="T", help="Only the rows rejected from table T.")
@click.option(
    "--run",
    "run_id",
    default=None,
    metavar="ID",
    help="Only rows a run first rejected (an id or its prefix).",
)
@FORMAT
@click.pass_obj
def quarantine(settings: Settings, table: str | None, run_id: str | None, fmt: str) -> None:
    """The rows the latest run rejected, with their reasons and the run that first did."""
    engine = connected_engine(settings.database_url_value, create=False)
    emit(audit.quarantined(engine, table, run_id), fmt, "Quarantine")
