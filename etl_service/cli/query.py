"""``etl-service query``: the analytical queries, as a table, CSV or JSON."""

from __future__ import annotations

import csv
import json
import sys
from collections.abc import Callable, Sequence
from datetime import datetime
from typing import Any, TypeVar

import click
import sqlalchemy as sa
from rich.console import Console
from rich.table import Table

from etl_service.errors import InputError
from etl_service.settings import Settings
from etl_service.src.db import queries

F = TypeVar("F", bound=Callable[..., Any])

FORMAT = click.option(
    "--format",
    "fmt",
    type=click.Choice(["table", "csv", "json"]),
    default="table",
    show_default=True,
)


def _metric_option(allowed: Sequence[str]) -> Callable[[F], F]:
    return click.option(
        "--metric",
        "metrics",
        multiple=True,
        type=click.Choice(list(allowed)),
        help="Metric to show (repeatable; default: all).",
    )


def _as_of_options(command: F) -> F:
    """``--as-of-snapshot ID`` and ``--as-of TIME``: query the lake's past instead."""
    command = click.option(
        "--as-of",
        "as_of",
        type=click.DateTime(["%Y-%m-%d", "%Y-%m-%dT%H:%M:%S", "%Y-%m-%dT%H:%M:%S.%f"]),
        default=None,
        help="Query the lake's tables as they were at this UTC time.",
    )(command)
    return click.option(
        "--as-of-snapshot",
        "as_of_snapshot",
        type=int,
        default=None,
        help="Query the lake as the run that committed this snapshot left it "
        "(ids: etl-service lake history TABLE).",
    )(command)


def _database(settings: Settings, as_of_snapshot: int | None, as_of: datetime | None) -> sa.Engine:
    """The database to query: the configured one, or the lake at a past point."""
    if as_of_snapshot is None and as_of is None:
        from etl_service.pipelines.compose import build_database

        return build_database(settings, create=False)
    if as_of_snapshot is not None and as_of is not None:
        raise InputError("give --as-of-snapshot or --as-of, not both", field="--as-of")
    from etl_service.pipelines.compose import build_lake
    from etl_service.src.db.lake import AsOf
    from etl_service.src.db.point_in_time import database_as_of

    lake = build_lake(settings)
    return database_as_of(lake, lake.resolve(AsOf(as_of_snapshot, as_of)))


def _number(value: Any) -> str:
    if value is None:
        return "—"
    if isinstance(value, float):
        return f"{value:,.4g}" if abs(value) < 1000 else f"{value:,.0f}"
    if isinstance(value, int):
        return f"{value:,}"
    return str(value)


def emit(rows: list[dict[str, Any]], fmt: str, title: str) -> None:
    """Print ``rows`` as a rich table, CSV or JSON lines."""
    if fmt == "json":
        for row in rows:
            click.echo(json.dumps(row, default=str))
        return
    if fmt == "csv":
        if rows:
            writer = csv.DictWriter(sys.stdout, fieldnames=list(rows[0]), lineterminator="\n")
            writer.writeheader()
            writer.writerows(rows)
        return
    table = Table(title=title)
    for column in rows[0] if rows else ["(no rows)"]:
        table.add_column(column, justify="right" if column != "name" else "left")
    for row in rows:
        table.add_row(*[str(v) if k.endswith("_id") else _number(v) for k, v in row.items()])
    Console(width=200).print(table)


@click.group()
def query() -> None:
    """Query the loaded data (run `etl-service run` first), or the lake's past with
    --as-of-snapshot/--as-of."""


@query.command("sectors")
@FORMAT
@_as_of_options
@click.pass_obj
def sectors_cmd(
    settings: Settings, fmt: str, as_of_snapshot: int | None, as_of: datetime | None
) -> None:
    """List the sectors with their number of companies and sub-industries."""
    emit(queries.sectors(_database(settings, as_of_snapshot, as_of)), fmt, "Sectors")


def _add_group_command(level: str, label: str) -> None:
    """``query sector NAME`` and ``query sub-industry NAME``: one definition for both levels."""

    @query.command(label.lower())
    @click.argument("name")
    @_metric_option(queries.AGGREGATE_METRICS)
    @FORMAT
    @_as_of_options
    @click.pass_obj
    def command(
        settings: Settings,
        name: str,
        metrics: tuple[str, ...],
        fmt: str,
        as_of_snapshot: int | None,
        as_of: datetime | None,
    ) -> None:
        engine = _database(settings, as_of_snapshot, as_of)
        emit(queries.group_history(engine, level, name, metrics), fmt, f"{label}: {name}")

    command.help = f"Per-quarter averages for {label.lower()} NAME (case-insensitive)."


_add_group_command("sector", "Sector")
_add_group_command("sub_industry", "Sub-industry")


@query.command("company")
@click.argument("ticker")
@_metric_option(queries.COMPANY_METRICS)
@FORMAT
@_as_of_options
@click.pass_obj
def company_cmd(
    settings: Settings,
    ticker: str,
    metrics: tuple[str, ...],
    fmt: str,
    as_of_snapshot: int | None,
    as_of: datetime | None,
) -> None:
    """Fiscal-quarter history of TICKER (a member or former member) and its membership spans."""
    engine = _database(settings, as_of_snapshot, as_of)
    emit(queries.company_history(engine, ticker, metrics), fmt, f"Company: {ticker}")
    if fmt == "table":
        emit(queries.membership_spans(engine, ticker), fmt, f"Index membership: {ticker}")
