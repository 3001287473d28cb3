"""Run state in the database: runs at once on one database, a run that waits, SIGTERM."""

from __future__ import annotations

import re
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest

from etl_service.errors import EXIT_CODES
from etl_service.src.db import migrate, runs
from etl_service.src.db.engine import create_engine
from etl_service.src.db.run_lock import run_lock
from etl_service.tests.conftest import fresh_database
from etl_service.tests.pipelines.conftest import run_cli, snapshot_settings
from etl_service.tests.support import services
from etl_service.tests.support.env import child_env
from etl_service.tests.support.tables import checksums, table_rows, wait_until_running

IN_PROGRESS = EXIT_CODES["another run in progress"]
TERMINATED = EXIT_CODES["terminated by SIGTERM"]
_RUN = [sys.executable, "-m", "etl_service", "run"]


@pytest.fixture(scope="module")
def single_run(
    postgres: services.PostgresServer, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[dict[str, tuple[int, str]]]:
    """Checksums of the data tables after one snapshot run on a fresh PostgreSQL database."""
    root = tmp_path_factory.mktemp("single_run")
    with fresh_database(postgres) as url:
        settings = snapshot_settings(root, database_url=url)
        env = child_env(settings)
        done = subprocess.run(_RUN, env=env, cwd=root, capture_output=True, text=True, timeout=120)
        assert done.returncode == 0, done.stderr[-3000:]
        engine = create_engine(url)
        yield checksums(engine)
        engine.dispose()


def _start(settings_root: Path, database_url: str | None, **extra: object) -> subprocess.Popen[str]:
    settings = snapshot_settings(settings_root, database_url=database_url, **extra)
    settings_root.mkdir(parents=True, exist_ok=True)
    return subprocess.Popen(
        _RUN,
        env=child_env(settings),
        cwd=settings_root,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )


@pytest.mark.postgres
@pytest.mark.parametrize("timeout_s", [0, 60])
def test_runs_started_at_once_on_one_database_leave_the_data_of_one_run(
    postgres_url: str,
    single_run: dict[str, tuple[int, str]],
    tmp_path: Path,
    timeout_s: float,
) -> None:
    # Two hosts: their own data folder and lake each, one database.
    procs = [
        _start(tmp_path / host, postgres_url, run_lock_timeout_s=timeout_s)
        for host in ("host1", "host2")
    ]
    errors = [p.communicate(timeout=120)[1] for p in procs]
    codes = [p.returncode for p in procs]
    assert sorted(codes) in ([0, 0], [0, IN_PROGRESS]), errors
    if timeout_s:
        assert codes == [0, 0], errors  # the second waited for the first, then changed nothing
    for code, err in zip(codes, errors, strict=True):
        if code == IN_PROGRESS:
            assert re.search(r"^error: another run \w{32} is in progress since ", err, re.M), err
    engine = create_engine(postgres_url)
    statuses = [r[3] for r in table_rows(engine, "pipeline_runs")]
    assert statuses == ["succeeded"] * codes.count(0)
    assert checksums(engine) == single_run
    engine.dispose()


def test_a_run_that_waits_past_the_timeout_exits_7_naming_the_run_in_progress(
    database_url: str | None, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    settings = snapshot_settings(tmp_path, database_url, run_lock_timeout_s=0.6)
    engine = create_engine(settings.database_url_value)
    migrate.upgrade(engine)
    holder, started = "c3" * 16, datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC)
    with run_lock(engine, settings.data_dir / "run.lock", holder, 0):
        runs.record_start(engine, holder, started, "standard", "snapshot")
        start = time.monotonic()
        assert run_cli(settings) == IN_PROGRESS
        waited = time.monotonic() - start
    assert waited >= 0.6
    assert capsys.readouterr().err.splitlines()[-1] == (
        f"error: another run {holder} is in progress since 2026-01-02 03:04:05+00:00"
    )
    assert [(r[0], r[3]) for r in table_rows(engine, "pipeline_runs")] == [(holder, "running")]
    assert {rows for rows, _ in checksums(engine).values()} == {0}
    engine.dispose()


def test_sigterm_records_the_run_as_failed_and_frees_the_lock(
    database_url: str | None, tmp_path: Path
) -> None:
    settings = snapshot_settings(tmp_path, database_url)
    proc = _start(tmp_path, database_url)
    engine = create_engine(settings.database_url_value)
    wait_until_running(engine, proc)
    proc.send_signal(signal.SIGTERM)
    _, err = proc.communicate(timeout=60)
    assert proc.returncode == TERMINATED, err
    assert "stopped: terminated by SIGTERM" in err.splitlines()
    [run] = table_rows(engine, "pipeline_runs")
    assert (run[3], run[9]) == ("failed", "TerminatedError: terminated by SIGTERM")
    assert run[2] is not None
    assert settings.run_lock_timeout_s == 0
    assert run_cli(settings) == 0  # no wait allowed: the lock was released
    assert sorted(r[3] for r in table_rows(engine, "pipeline_runs")) == ["failed", "succeeded"]
    engine.dispose()
