"""Session fixtures: real local services, isolated settings, and CI's no-skip rule."""

from __future__ import annotations

import contextlib
import io
import json
import os
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa

from etl_service.settings import HttpSettings, Settings
from etl_service.tests.support import services
from etl_service.tests.support.snapshot_run import run_cli, snapshot_settings

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


@dataclass(frozen=True)
class SnapshotRun:
    """The session's offline snapshot run: its settings and its JSON end-of-run summary."""

    settings: Settings
    summary: dict[str, Any]


@pytest.fixture(scope="session")
def snapshot_run(tmp_path_factory: pytest.TempPathFactory) -> SnapshotRun:
    """One ``etl-service --log-format json run`` on the snapshot (SQLite), shared read-only."""
    settings = snapshot_settings(tmp_path_factory.mktemp("pipeline"))
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        assert run_cli(settings, options=["--log-format", "json"]) == 0
    return SnapshotRun(settings, json.loads(out.getvalue()))


@pytest.fixture(scope="session")
def loaded(snapshot_run: SnapshotRun) -> Settings:
    """The settings of the session's snapshot run, for the tests that query what it loaded."""
    return snapshot_run.settings


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
