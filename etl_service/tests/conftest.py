"""Session fixtures: real local services, isolated settings, and CI's no-skip rule."""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa

from etl_service.settings import HttpSettings, Settings
from etl_service.tests.support import services

IN_CI = os.environ.get("CI", "").lower() == "true"


def require(condition: bool, reason: str) -> None:
    """Skip when a service or tool is missing, but fail under CI=true."""
    if condition:
        return
    if IN_CI:
        pytest.fail(f"required for CI but missing: {reason}")
    pytest.skip(reason)


@pytest.fixture(autouse=True)
def _isolated_environment(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """Keep the developer's own ETL_* variables and .env out of every test."""
    for key in list(os.environ):
        if key.startswith("ETL_"):
            monkeypatch.delenv(key)
    monkeypatch.chdir(tmp_path)


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    """Settings pointing every store into the test's temp dir."""
    return Settings(
        data_dir=tmp_path / "data",
        http=HttpSettings(backoff_base_s=0.01, backoff_max_s=0.05),
    )


@pytest.fixture(scope="session")
def postgres() -> Iterator[services.PostgresServer]:
    """A PostgreSQL 15 server for the whole session."""
    require(services.postgres_bin_dir() is not None, "PostgreSQL server binaries not installed")
    with services.postgres_server() as server:
        yield server


@contextmanager
def fresh_database(server: services.PostgresServer) -> Iterator[str]:
    """The URL of a fresh, empty database on ``server``, dropped after the block."""
    name = f"t_{uuid.uuid4().hex[:12]}"
    admin = sa.create_engine(server.url(), isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(sa.text(f'CREATE DATABASE "{name}"'))
    try:
        yield server.url(name)
    finally:
        with admin.connect() as conn:
            conn.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


@pytest.fixture
def postgres_url(postgres: services.PostgresServer) -> Iterator[str]:
    """A fresh, empty database on the session server, dropped afterwards."""
    with fresh_database(postgres) as url:
        yield url


@pytest.fixture(scope="session")
def moto() -> Iterator[services.MotoServer]:
    """A moto server (AWS endpoint) for the whole session."""
    try:
        import moto.server  # noqa: F401
    except ImportError:
        require(False, "moto[server] not installed")
    with services.moto_server() as server:
        yield server


@pytest.fixture(scope="session")
def fakesnow_conn_kwargs() -> Iterator[dict[str, Any]]:
    """A fakesnow server (Snowflake endpoint) for the whole session."""
    try:
        import fakesnow  # noqa: F401
    except ImportError:
        require(False, "fakesnow[server] not installed")
    with services.fakesnow_server() as kwargs:
        yield kwargs
