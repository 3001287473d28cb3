"""Connecting to Snowflake from the settings, and running statements with typed errors.

Only the entry points connect (``connect`` is called by the composition root or the CLI);
the sink is handed the connection. Login and network timeouts come from the settings, so
an unreachable endpoint fails in ``ETL_SNOWFLAKE__LOGIN_TIMEOUT_S`` seconds. Secrets go to
the connector only; messages name the account, host and database, never a credential.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from types import ModuleType
from typing import Any, Protocol

from etl_service.errors import (
    ConfigError,
    EtlError,
    LoadError,
    NotInstalledError,
    StoreUnavailableError,
)
from etl_service.settings import SnowflakeSettings

logger = logging.getLogger(__name__)


class Cursor(Protocol):
    """The part of a DB-API cursor the export uses."""

    description: Any

    def execute(self, command: str, params: Sequence[Any] | None = None) -> Any: ...

    def fetchall(self) -> list[tuple[Any, ...]]: ...

    def close(self) -> Any: ...


class Connection(Protocol):
    """The part of a ``snowflake.connector`` connection the export uses."""

    def cursor(self) -> Cursor: ...

    def autocommit(self, mode: bool) -> None: ...

    def commit(self) -> None: ...

    def rollback(self) -> None: ...

    def close(self) -> None: ...


def connector() -> ModuleType:
    """The ``snowflake.connector`` module; NotInstalledError names the extra to install."""
    try:
        import snowflake.connector
    except ImportError as exc:
        raise NotInstalledError("the Snowflake connector", "snowflake") from exc
    return snowflake.connector


def endpoint(settings: SnowflakeSettings) -> str:
    """Where the export goes, for messages and the run summary (never with a secret)."""
    port = f":{settings.port}" if settings.port else ""
    host = f"{settings.protocol}://{settings.host}{port}" if settings.host else ""
    where = f"{settings.database}.{settings.schema_name}".upper()
    return f"snowflake://{settings.account}/{where}" + (f" via {host}" if host else "")


def connect_kwargs(settings: SnowflakeSettings) -> dict[str, Any]:
    """The connector's arguments for ``settings``; ConfigError names a missing variable."""
    missing = [
        f"__{name.upper()}" for name in ("account", "user") if getattr(settings, name) is None
    ]
    if settings.password is None and settings.private_key_file is None:
        missing.append("__PASSWORD (or __PRIVATE_KEY_FILE)")
    if missing:
        raise ConfigError(f"Snowflake is not configured: set ETL_SNOWFLAKE{', '.join(missing)}")
    kwargs: dict[str, Any] = {
        "account": settings.account,
        "user": settings.user,
        "database": settings.database,
        "schema": settings.schema_name,
        "warehouse": settings.warehouse,
        "role": settings.role,
        "protocol": settings.protocol,
        "login_timeout": settings.login_timeout_s,
        # without it one hanging login request alone would wait the connector's 60 s
        "socket_timeout": settings.login_timeout_s,
        "network_timeout": settings.network_timeout_s,
        "application": "etl-service",
        # telemetry is a side channel to the default endpoint; it must not reach a custom one
        "session_parameters": {"CLIENT_OUT_OF_BAND_TELEMETRY_ENABLED": False},
    }
    if settings.host:
        kwargs["host"] = settings.host
    if settings.port:
        kwargs["port"] = settings.port
    if settings.password is not None:
        kwargs["password"] = settings.password.get_secret_value()
    if settings.private_key_file is not None:
        kwargs["private_key_file"] = str(settings.private_key_file)
        if settings.private_key_file_pwd is not None:
            kwargs["private_key_file_pwd"] = settings.private_key_file_pwd.get_secret_value()
    return {k: v for k, v in kwargs.items() if v is not None}


def connect(settings: SnowflakeSettings) -> Connection:
    """A connection for ``settings``, or StoreUnavailableError within the login timeout.

    Raises:
        ConfigError: the account, user or credentials are not set, or the login is refused.
        NotInstalledError: the ``snowflake`` extra is missing.
        StoreUnavailableError: the endpoint did not answer in time.
    """
    kwargs = connect_kwargs(settings)
    module = connector()
    try:
        connection: Connection = module.connect(**kwargs)
    except module.errors.OperationalError as exc:
        raise StoreUnavailableError(
            f"cannot reach {endpoint(settings)} within {settings.login_timeout_s}s "
            f"(ETL_SNOWFLAKE__LOGIN_TIMEOUT_S): {_first_line(exc)}"
        ) from exc
    except module.errors.Error as exc:  # e.g. wrong credentials, an unknown role
        raise ConfigError(f"{endpoint(settings)} refused the login: {_first_line(exc)}") from exc
    # Statements get the connector's own socket timeout back: Snowflake answers a long query
    # after up to 45 s with its progress, so a shorter read timeout would never see it end
    # (the connector has no public setter for it).
    connection._socket_timeout = None  # type: ignore[attr-defined]
    logger.info("connected to %s", endpoint(settings))
    return connection


@contextmanager
def connection_for(settings: SnowflakeSettings) -> Iterator[Connection]:
    """``connect`` for the ``with`` block; the connection is closed when it ends."""
    connection = connect(settings)
    try:
        yield connection
    finally:
        connection.close()


class Session:
    """Statements on one connection, with the connector's errors turned into typed ones."""

    def __init__(self, connection: Connection) -> None:
        self.connection = connection
        self.errors = connector().errors

    def execute(self, sql: str, params: Sequence[Any] | None = None) -> list[tuple[Any, ...]]:
        """Run ``sql``; its result rows (LoadError or StoreUnavailableError on failure)."""
        return self.query(sql, params)[1]

    def query(
        self,
        sql: str,
        params: Sequence[Any] | None = None,
        failure: Callable[[str], EtlError] | None = None,
    ) -> tuple[list[str], list[tuple[Any, ...]]]:
        """Run ``sql``; the result's column names (lower case) and rows.

        Args:
            sql: one statement.
            params: values for its ``%s`` placeholders.
            failure: builds the error from the server's message when it refuses the
                statement (default: LoadError).
        """
        logger.debug("snowflake: %s", sql)
        cursor = self.connection.cursor()
        try:
            cursor.execute(sql, params)
            names = [str(d[0]).lower() for d in cursor.description or ()]
            return names, cursor.fetchall()
        except self.errors.OperationalError as exc:
            raise StoreUnavailableError(f"Snowflake stopped answering: {_first_line(exc)}") from exc
        except self.errors.Error as exc:
            if failure is not None:
                raise failure(_message(exc)) from exc
            raise LoadError(f"Snowflake refused {_verb(sql)}: {_message(exc)}") from exc
        finally:
            cursor.close()

    @contextmanager
    def transaction(self) -> Iterator[None]:
        """One transaction for the block: committed at its end, rolled back on an error."""
        try:
            self.connection.autocommit(False)
            try:
                yield
                self.connection.commit()
            except BaseException:
                self._quietly(self.connection.rollback)  # a dropped session rolled back itself
                raise
            finally:
                self._quietly(lambda: self.connection.autocommit(True))
        except self.errors.Error as exc:
            raise LoadError(f"the Snowflake transaction did not commit: {_message(exc)}") from exc

    def _quietly(self, call: Callable[[], None]) -> None:
        try:
            call()
        except self.errors.Error as exc:
            logger.warning("Snowflake: %s", _first_line(exc))


def _message(exc: BaseException) -> str:
    return str(getattr(exc, "msg", None) or exc).strip()


def _first_line(exc: BaseException) -> str:
    return _message(exc).splitlines()[0] if _message(exc) else type(exc).__name__


def _verb(sql: str) -> str:
    return " ".join(sql.split()[:3])
