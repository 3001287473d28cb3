"""``etl-service query``: the analytical queries, as a table, CSV or JSON."""

from __future__ import annotations

import csv
import json
import sys
from collections.abc import Callable, Sequence
from datetime import date, datetime
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


def _window_options(command: F) -> F:
    """``--since DATE`` and ``--last N``: which quarters of a time series to show."""
    command = click.option(
        "--last",
        type=click.IntRange(min=1),
        default=None,
        metavar="N",
        help="Only the last N quarters (after --since).",
    )(command)
    return click.option(
        "--since",
        type=click.DateTime(["%Y-%m-%d"]),
        default=None,
        metavar="DATE",
        help="Only quarters ending on or after DATE (YYYY-MM-DD).",
    )(command)


def _window(since: datetime | None, last: int | None) -> queries.Window:
    return queries.Window(since.date() if since else None, last)


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
    if isinstance(value, bool):
        return str(value)
    if isinstance(value, float):
        return f"{value:,.4g}" if abs(value) < 1000 else f"{value:,.0f}"
    if isinstance(value, int):
        return f"{value:,}"
    if isinstance(value, dict):
        return ", ".join(f"{k} {_number(v)}" for k, v in value.items())
    if isinstance(value, list):
        return f"{len(value):,}"  # warnings and the like: their number; JSON has them all
    return str(value)


_TEXT_COLUMNS = frozenset({"ticker", "cik", "year", "record_key", "record"})
_LEFT_COLUMNS = frozenset({"name", "table", "table_name", "reason", "record", "error"})


def _cell(column: str, value: Any) -> str:
    if not (column.endswith("_id") or column in _TEXT_COLUMNS):
        return _number(value)
    return json.dumps(value, default=str) if isinstance(value, dict | list) else str(value)


def emit(rows: list[dict[str, Any]], fmt: str, title: str) -> None:
    """Print ``rows`` as a rich table, CSV or JSON lines; an empty result says so on stderr
    (stdout stays a valid, empty CSV or JSON stream)."""
    if not rows:
        click.echo(f"no rows: {title}", err=True)
        return
    if fmt == "json":
        for row in rows:
            click.echo(json.dumps(row, default=str))
        return
    if fmt == "csv":
        writer = csv.DictWriter(sys.stdout, fieldnames=list(rows[0]), lineterminator="\n")
        writer.writeheader()
        for row in rows:
            writer.writerow(
                {
                    k: json.dumps(v, default=str) if isinstance(v, dict | list) else v
                    for k, v in row.items()
                }
            )
        return
    table = Table(title=title)
    for column in rows[0]:
        left = column in _LEFT_COLUMNS or column.endswith("_industry")
        table.add_column(column, justify="left" if left else "right")
    for row in rows:
        table.add_row(*[_cell(k, v) for k, v in row.items()])
    Console(width=200).print(table)


@click.group()
def query() -> None:
    """Query the loaded data (run `etl-service run` first), or the lake's past with
    --as-of-snapshot/--as-of."""


@query.command("sectors")
@click.option(
    "--metric",
    type=click.Choice(list(queries.METRICS)),
    default=None,
    help="Compare all sectors side by side on this metric, quarter by quarter.",
)
@click.option(
    "--stat",
    "statistic",
    type=click.Choice(list(queries.STATISTICS)),
    default="mean",
    show_default=True,
    help="With --metric: the mean, the median, or the number of companies they are over.",
)
@_window_options
@FORMAT
@_as_of_options
@click.pass_obj
def sectors_cmd(
    settings: Settings,
    metric: str | None,
    statistic: str,
    since: datetime | None,
    last: int | None,
    fmt: str,
    as_of_snapshot: int | None,
    as_of: datetime | None,
) -> None:
    """List the sectors with their number of companies and sub-industries, or with --metric
    compare them on one metric over time."""
    engine = _database(settings, as_of_snapshot, as_of)
    if metric is None:
        if since or last:
            raise click.UsageError("--since and --last need --metric (a time series)")
        emit(queries.sectors(engine), fmt, "Sectors")
        return
    rows = queries.sectors_by_metric(engine, metric, statistic, _window(since, last))
    emit(rows, fmt, f"Sectors: {statistic} {metric}")


def _add_list_command(
    name: str, argument: str, listing: Callable[[sa.Engine, str], list[dict[str, Any]]], doc: str
) -> None:
    """``query sub-industries SECTOR`` and ``query companies SUB_INDUSTRY``: one definition."""

    @query.command(name, help=doc)
    @click.argument("value", metavar=argument)
    @FORMAT
    @_as_of_options
    @click.pass_obj
    def command(
        settings: Settings,
        value: str,
        fmt: str,
        as_of_snapshot: int | None,
        as_of: datetime | None,
    ) -> None:
        engine = _database(settings, as_of_snapshot, as_of)
        emit(listing(engine, value), fmt, f"{name.capitalize()}: {value}")


_add_list_command(
    "sub-industries",
    "SECTOR",
    queries.sub_industries,
    "List the sub-industries of SECTOR (case-insensitive) with their number of companies.",
)
_add_list_command(
    "companies",
    "SUB_INDUSTRY",
    queries.companies_in,
    "List ticker, name and CIK of the constituents in SUB_INDUSTRY (case-insensitive).",
)


@query.command("members")
@click.option(
    "--on",
    "day",
    type=click.DateTime(["%Y-%m-%d"]),
    required=True,
    metavar="DATE",
    help="The day whose index members to list (YYYY-MM-DD). Not --as-of, which picks the "
    "lake's past to read.",
)
@FORMAT
@_as_of_options
@click.pass_obj
def members_cmd(
    settings: Settings,
    day: datetime,
    fmt: str,
    as_of_snapshot: int | None,
    as_of: datetime | None,
) -> None:
    """The index members on a DATE: the ticker as of then, name, CIK and sector."""
    engine = _database(settings, as_of_snapshot, as_of)
    on: date = day.date()
    emit(queries.members_on(engine, on), fmt, f"Members on {on.isoformat()}")


def _add_group_command(level: str, label: str) -> None:
    """``query sector NAME`` and ``query sub-industry NAME``: one definition for both levels."""

    @query.command(label.lower())
    @click.argument("name")
    @_metric_option(queries.AGGREGATE_METRICS)
    @_window_options
    @FORMAT
    @_as_of_options
    @click.pass_obj
    def command(
        settings: Settings,
        name: str,
        metrics: tuple[str, ...],
        since: datetime | None,
        last: int | None,
        fmt: str,
        as_of_snapshot: int | None,
        as_of: datetime | None,
    ) -> None:
        engine = _database(settings, as_of_snapshot, as_of)
        rows = queries.group_history(engine, level, name, metrics, _window(since, last))
        emit(rows, fmt, f"{label}: {name}")

    command.help = (
        f"Per-quarter means for {label.lower()} NAME (case-insensitive); medians and counts "
        "with --metric median_*/n_*."
    )


_add_group_command("sector", "Sector")
_add_group_command("sub_industry", "Sub-industry")


@query.command("company")
@click.argument("ticker")
@_metric_option(queries.COMPANY_METRICS)
@_window_options
@FORMAT
@_as_of_options
@click.pass_obj
def company_cmd(
    settings: Settings,
    ticker: str,
    metrics: tuple[str, ...],
    since: datetime | None,
    last: int | None,
    fmt: str,
    as_of_snapshot: int | None,
    as_of: datetime | None,
) -> None:
    """Fiscal-quarter history of TICKER (a member or former member) and its membership spans."""
    engine = _database(settings, as_of_snapshot, as_of)
    rows = queries.company_history(engine, ticker, metrics, _window(since, last))
    emit(rows, fmt, f"Company: {ticker}")
    if fmt == "table":
        emit(queries.membership_spans(engine, ticker), fmt, f"Index membership: {ticker}")
