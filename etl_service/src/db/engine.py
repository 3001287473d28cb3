"""Building the SQLAlchemy engine from the configured URL."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import make_url

from etl_service.errors import ConfigError, NotInstalledError, StoreUnavailableError


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.execute("PRAGMA busy_timeout=30000")
    cursor.close()


def create_engine(url: str) -> sa.Engine:
    """An engine for SQLite or PostgreSQL; a SQLite file's folder is created on demand."""
    try:
        parsed = make_url(url)
    except sa.exc.ArgumentError as exc:
        raise ConfigError("ETL_DATABASE_URL is not a valid database URL") from exc
    backend = parsed.get_backend_name()
    if backend == "sqlite":
        if parsed.database and parsed.database != ":memory:":
            Path(parsed.database).parent.mkdir(parents=True, exist_ok=True)
        engine = sa.create_engine(parsed)
        sa.event.listen(engine, "connect", _sqlite_pragmas)
        return engine
    if backend == "postgresql":
        if parsed.drivername == "postgresql":
            parsed = parsed.set(drivername="postgresql+psycopg")
        try:
            import psycopg  # noqa: F401
        except ImportError as exc:
            raise NotInstalledError("the PostgreSQL driver (psycopg)", "postgres") from exc
        return sa.create_engine(parsed, pool_pre_ping=True)
    raise ConfigError(f"unsupported database backend {backend!r}: use sqlite or postgresql")


def check_connection(engine: sa.Engine) -> None:
    """Fail fast with StoreUnavailableError when the database cannot be reached."""
    try:
        with engine.connect() as conn:
            conn.execute(sa.text("SELECT 1"))
    except sa.exc.OperationalError as exc:
        target = engine.url.render_as_string(hide_password=True)
        raise StoreUnavailableError(f"cannot reach the database {target}: {exc.orig}") from exc


def connected_engine(url: str) -> sa.Engine:
    """An engine for ``url`` that has been shown to reach its database."""
    engine = create_engine(url)
    check_connection(engine)
    return engine
