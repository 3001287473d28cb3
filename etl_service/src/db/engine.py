"""Building the SQLAlchemy engine from the configured URL."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import make_url

from etl_service.errors import ConfigError, NotInstalledError, StoreUnavailableError
from etl_service.redact import one_line, redact_text, redact_url


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.execute("PRAGMA busy_timeout=30000")
    cursor.close()


def create_engine(url: str, *, create: bool = True) -> sa.Engine:
    """An engine for SQLite or PostgreSQL.

    A SQLite file's folder is created on demand, unless ``create`` is false (read-only
    commands), when a missing file is a ``StoreUnavailableError`` instead of a new database.
    """
    try:
        parsed = make_url(url)
    except (sa.exc.ArgumentError, ValueError) as exc:
        raise ConfigError("ETL_DATABASE_URL is not a valid database URL") from exc
    backend = parsed.get_backend_name()
    if backend == "sqlite":
        if parsed.database and parsed.database != ":memory:":
            path = Path(parsed.database)
            if not create and not path.is_file():
                raise StoreUnavailableError(
                    f"no database at {path}: run `etl-service run` (or `etl-service db "
                    "upgrade`) first, or set ETL_DATABASE_URL"
                )
            try:
                path.parent.mkdir(parents=True, exist_ok=True)
            except OSError as exc:
                raise StoreUnavailableError(
                    f"cannot create the database folder {path.parent}: {exc.strerror}"
                ) from exc
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


def describe(engine: sa.Engine) -> str:
    """The engine's URL for messages: no password, in the userinfo or the query."""
    return redact_url(engine.url.render_as_string(hide_password=False))


def unreachable(engine: sa.Engine, exc: sa.exc.DBAPIError) -> StoreUnavailableError:
    """The one-line, secret-free error for a database that cannot be reached or used."""
    detail = redact_text(one_line(exc.orig), [engine.url.password or ""])
    verb = "reach" if isinstance(exc, sa.exc.OperationalError) else "use"
    return StoreUnavailableError(f"cannot {verb} the database {describe(engine)}: {detail}")


def check_connection(engine: sa.Engine) -> None:
    """Fail fast with StoreUnavailableError when the database cannot be reached."""
    try:
        with engine.connect() as conn:
            conn.execute(sa.text("SELECT 1"))
            if engine.dialect.name == "sqlite":  # a file that is not a database fails here
                conn.execute(sa.text("SELECT count(*) FROM sqlite_master"))
    except sa.exc.DBAPIError as exc:
        raise unreachable(engine, exc) from exc


def connected_engine(url: str, *, create: bool = True) -> sa.Engine:
    """An engine for ``url`` that has been shown to reach its database (see ``create``)."""
    engine = create_engine(url, create=create)
    check_connection(engine)
    return engine
