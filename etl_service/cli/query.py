"""``etl-service query``: the analytical queries, as a table, CSV or JSON."""

from __future__ import annotations

import csv
import json
import sys
from collections.abc import Callable, Sequence
from typing import Any, TypeVar

import click
from rich.console import Console
from rich.table import Table

from etl_service.settings import Settings
from etl_service.src.db import queries
from etl_service.src.db.engine import connected_engine

F = TypeVar("F", bound=Callable[..., Any])

_FORMAT = click.option(
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
        table.add_row(*[_number(v) for v in row.values()])
    Console(width=200).print(table)


@click.group()
def query() -> None:
    """Query the loaded data (run `etl-service run` first)."""


@query.command("sectors")
@_FORMAT
@click.pass_obj
def sectors_cmd(settings: Settings, fmt: str) -> None:
    """List the sectors with their number of companies and sub-industries."""
    engine = connected_engine(settings.database_url_value, create=False)
    emit(queries.sectors(engine), fmt, "Sectors")


def _add_group_command(level: str, label: str) -> None:
    """``query sector NAME`` and ``query sub-industry NAME``: one definition for both levels."""

    @query.command(label.lower())
    @click.argument("name")
    @_metric_option(queries.AGGREGATE_METRICS)
    @_FORMAT
    @click.pass_obj
    def command(settings: Settings, name: str, metrics: tuple[str, ...], fmt: str) -> None:
        engine = connected_engine(settings.database_url_value, create=False)
        emit(queries.group_history(engine, level, name, metrics), fmt, f"{label}: {name}")

    command.help = f"Per-quarter averages for {label.lower()} NAME (case-insensitive)."


_add_group_command("sector", "Sector")
_add_group_command("sub_industry", "Sub-industry")


@query.command("company")
@click.argument("ticker")
@_metric_option(queries.COMPANY_METRICS)
@_FORMAT
@click.pass_obj
def company_cmd(settings: Settings, ticker: str, metrics: tuple[str, ...], fmt: str) -> None:
    """Fiscal-quarter history of TICKER (a member or former member) and its membership spans."""
    engine = connected_engine(settings.database_url_value, create=False)
    emit(queries.company_history(engine, ticker, metrics), fmt, f"Company: {ticker}")
    if fmt == "table":
        emit(queries.membership_spans(engine, ticker), fmt, f"Index membership: {ticker}")
