"""``etl-service db``: schema migrations on the configured database."""

from __future__ import annotations

import click
import sqlalchemy as sa

from etl_service.settings import Settings
from etl_service.src.db import migrate
from etl_service.src.db.engine import connected_engine


@click.group()
def db() -> None:
    """Manage the database schema (SQLite by default, PostgreSQL via ETL_DATABASE_URL)."""


@db.command()
@click.argument("revision", default="head")
@click.pass_obj
def upgrade(settings: Settings, revision: str) -> None:
    """Migrate the schema up to REVISION (default: head)."""
    engine = connected_engine(settings.database_url_value)
    migrate.upgrade(engine, revision)
    click.echo(f"database at revision {migrate.current(engine)}: {_where(engine)}")


@db.command()
@click.argument("revision", default="base")
@click.pass_obj
def downgrade(settings: Settings, revision: str) -> None:
    """Migrate the schema down to REVISION (default: base, dropping every table)."""
    engine = connected_engine(settings.database_url_value)
    migrate.downgrade(engine, revision)
    click.echo(f"database at revision {migrate.current(engine) or 'base'}: {_where(engine)}")


@db.command()
@click.pass_obj
def current(settings: Settings) -> None:
    """Print the schema revision of the database and the newest one available."""
    engine = connected_engine(settings.database_url_value)
    click.echo(f"current: {migrate.current(engine) or 'base (empty)'}; head: {migrate.head()}")


def _where(engine: sa.Engine) -> str:
    return engine.url.render_as_string(hide_password=True)
