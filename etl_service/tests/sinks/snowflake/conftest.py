"""Snowflake databases on the session's fakesnow server, and reading them back."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from typing import Any

import pytest

from etl_service.settings import SnowflakeSettings
from etl_service.sinks.snowflake.connection import Connection, connect
from etl_service.sinks.snowflake.schema import ident
from etl_service.src.models.schemas import TableSpec
from etl_service.tests.support import services


def fakesnow_settings(kwargs: dict[str, Any], database: str) -> SnowflakeSettings:
    """Settings for ``database`` on the fakesnow server of ``kwargs``."""
    return services.fakesnow_settings(
        kwargs,
        database,
        login_timeout_s=10,
        file_mb=0.08,  # two or three files for the larger tables, so COPY loads several
    )


def create_database(kwargs: dict[str, Any]) -> str:
    """A new, empty Snowflake database with its PUBLIC schema; its name."""
    name = f"T_{uuid.uuid4().hex[:10]}".upper()
    conn = connect(fakesnow_settings(kwargs, "ETL"))
    try:
        fetch(conn, f"CREATE DATABASE {name}")
        fetch(conn, f"CREATE SCHEMA IF NOT EXISTS {name}.PUBLIC")
    finally:
        conn.close()
    return name


@pytest.fixture
def snowflake_settings(fakesnow_conn_kwargs: dict[str, Any]) -> SnowflakeSettings:
    """Settings for a fresh Snowflake database of its own."""
    return fakesnow_settings(fakesnow_conn_kwargs, create_database(fakesnow_conn_kwargs))


@pytest.fixture
def snowflake_connection(snowflake_settings: SnowflakeSettings) -> Iterator[Connection]:
    """A connection to the test's own Snowflake database."""
    conn = connect(snowflake_settings)
    yield conn
    conn.close()


def qualified(settings: SnowflakeSettings, name: str) -> str:
    return f"{ident(settings.database)}.{ident(settings.schema_name)}.{ident(name)}"


def fetch(conn: Connection, sql: str) -> list[tuple[Any, ...]]:
    cursor = conn.cursor()
    try:
        cursor.execute(sql)
        return cursor.fetchall()
    finally:
        cursor.close()


def rows_by_key(spec: TableSpec, rows: list[tuple[Any, ...]]) -> list[tuple[Any, ...]]:
    """``rows`` (in the spec's column order) sorted by the natural key."""
    at = [spec.column_names.index(k) for k in spec.key]
    return sorted(rows, key=lambda row: tuple(row[i] for i in at))


def snowflake_rows(
    conn: Connection, settings: SnowflakeSettings, spec: TableSpec
) -> list[tuple[Any, ...]]:
    """Every row of ``spec``'s table in Snowflake, in its columns, sorted by its key."""
    columns = ", ".join(ident(c) for c in spec.column_names)
    return rows_by_key(spec, fetch(conn, f"SELECT {columns} FROM {qualified(settings, spec.name)}"))


def table_names(conn: Connection, settings: SnowflakeSettings) -> list[str]:
    """The tables of the settings' schema (staging tables included)."""
    rows = fetch(
        conn,
        f"SELECT TABLE_NAME FROM {ident(settings.database)}.INFORMATION_SCHEMA.TABLES "
        f"WHERE TABLE_SCHEMA = '{settings.schema_name.upper()}' ORDER BY TABLE_NAME",
    )
    return [r[0] for r in rows]
