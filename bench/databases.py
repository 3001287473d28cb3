"""Fresh PostgreSQL databases on a running server, migrated to the service's schema."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from contextlib import contextmanager

import sqlalchemy as sa

from etl_service.src.db import migrate


@contextmanager
def fresh_database(admin_url: str, migrated: bool = True) -> Iterator[sa.Engine]:
    """A new database on the server of ``admin_url`` (migrated to head), dropped afterwards."""
    name = f"bench_{uuid.uuid4().hex[:12]}"
    admin = sa.create_engine(admin_url, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.exec_driver_sql(f'CREATE DATABASE "{name}"')
    engine = sa.create_engine(sa.make_url(admin_url).set(database=name))
    try:
        if migrated:
            migrate.upgrade(engine)
        yield engine
    finally:
        engine.dispose()
        with admin.connect() as conn:
            conn.exec_driver_sql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        admin.dispose()


def server_version(admin_url: str) -> str:
    """The server's ``SELECT version()``."""
    engine = sa.create_engine(admin_url)
    try:
        with engine.connect() as conn:
            return str(conn.exec_driver_sql("SELECT version()").scalar_one())
    finally:
        engine.dispose()
