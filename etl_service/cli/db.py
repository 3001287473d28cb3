"""``etl-service db``: schema migrations on the configured database."""

from __future__ import annotations

import sys

import click
import sqlalchemy as sa

from etl_service.settings import Settings
from etl_service.src.db import migrate
from etl_service.src.db.engine import describe


@click.group()
def db() -> None:
    """Manage the database schema (SQLite by default, PostgreSQL via ETL_DATABASE_URL)."""


@db.command()
@click.argument("revision", default="head")
@click.pass_obj
def upgrade(settings: Settings, revision: str) -> None:
    """Migrate the schema up to REVISION (default: head)."""
    engine = _engine(settings, create=True)
    migrate.upgrade(engine, revision)
    click.echo(f"database at revision {migrate.current(engine)}: {_where(engine)}")


@db.command()
@click.argument("revision")
@click.option("--yes", is_flag=True, help="Do not ask before dropping tables (REVISION base).")
@click.pass_obj
def downgrade(settings: Settings, revision: str, yes: bool) -> None:
    """Migrate the schema down to REVISION (`base` drops every table, after confirmation)."""
    engine = _engine(settings, create=False)
    if revision == "base" and not yes:
        if not sys.stdin.isatty():
            raise click.UsageError("downgrading to base drops every table: add --yes")
        click.confirm(f"drop every etl_service table in {_where(engine)}?", abort=True, err=True)
    migrate.downgrade(engine, revision)
    click.echo(f"database at revision {migrate.current(engine) or 'base'}: {_where(engine)}")


@db.command()
@click.pass_obj
def current(settings: Settings) -> None:
    """Print the schema revision of the database and the newest one available."""
    engine = _engine(settings, create=False)
    click.echo(f"current: {migrate.current(engine) or 'base (empty)'}; head: {migrate.head()}")


def _engine(settings: Settings, *, create: bool) -> sa.Engine:
    from etl_service.pipelines.compose import build_database

    return build_database(settings, create=create)


def _where(engine: sa.Engine) -> str:
    return describe(engine)
