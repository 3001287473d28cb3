"""The run lock on every database, and which 'running' runs count as abandoned."""

from __future__ import annotations

import subprocess
import sys
import time
from datetime import UTC, datetime
from pathlib import Path

import pytest
import sqlalchemy as sa

from etl_service.errors import RunInProgressError
from etl_service.src.db import migrate, runs
from etl_service.src.db.engine import create_engine
from etl_service.src.db.run_lock import mark_abandoned, run_lock
from etl_service.tests.support.env import child_env
from etl_service.tests.support.tables import table_rows

HOLDER, WAITER = "a1" * 16, "b2" * 16
STARTED = datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC)

_HOLD = """
import sys, time
from pathlib import Path
from etl_service.src.db.engine import create_engine
from etl_service.src.db.run_lock import run_lock
with run_lock(create_engine(sys.argv[1]), Path(sys.argv[2]), sys.argv[3], 0):
    print("locked", flush=True)
    time.sleep(120)
"""


def _take(engine: sa.Engine, lock_file: Path, run_id: str, timeout_s: float) -> None:
    with run_lock(engine, lock_file, run_id, timeout_s):
        pass


def test_a_second_run_waits_the_timeout_then_is_told_which_run_holds_the_lock(
    engine: sa.Engine, tmp_path: Path
) -> None:
    lock_file = tmp_path / "run.lock"
    with run_lock(engine, lock_file, HOLDER, 0):
        unrecorded = f"^another run {HOLDER} is in progress since an unknown time$"
        with pytest.raises(RunInProgressError, match=unrecorded):
            _take(engine, lock_file, WAITER, 0)
        runs.record_start(engine, HOLDER, STARTED, "standard", "snapshot")
        start = time.monotonic()
        recorded = f"^another run {HOLDER} is in progress since 2026-01-02 03:04:05\\+00:00$"
        with pytest.raises(RunInProgressError, match=recorded):
            _take(engine, lock_file, WAITER, 0.6)
        assert time.monotonic() - start >= 0.6
    start = time.monotonic()
    _take(engine, lock_file, WAITER, 5)
    assert time.monotonic() - start < 0.5  # released with the block, so taken at once


@pytest.mark.unit
def test_mark_abandoned_on_sqlite_marks_every_running_run_under_the_file_lock(
    tmp_path: Path,
) -> None:
    engine = create_engine(f"sqlite:///{tmp_path / 'etl.db'}")
    migrate.upgrade(engine)
    runs.record_start(engine, HOLDER, STARTED, "standard", "snapshot")
    with run_lock(engine, tmp_path / "run.lock", WAITER, 0):
        assert mark_abandoned(engine) == {HOLDER: "abandoned"}
    [run] = table_rows(engine, "pipeline_runs")
    assert (run[0], run[3]) == (HOLDER, "abandoned")
    assert run[9] == "stopped before its database load committed; nothing of it is visible"


@pytest.mark.postgres
def test_mark_abandoned_leaves_runs_whose_process_lives_and_marks_those_whose_process_died(
    postgres_url: str, tmp_path: Path
) -> None:
    engine = create_engine(postgres_url)
    migrate.upgrade(engine)
    lock_file = tmp_path / "run.lock"
    holder = subprocess.Popen(
        [sys.executable, "-c", _HOLD, postgres_url, str(lock_file), HOLDER],
        env=child_env(),
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert holder.stdout is not None
        assert holder.stdout.readline() == "locked\n"
        runs.record_start(engine, HOLDER, STARTED, "standard", "snapshot")
        assert mark_abandoned(engine) == {}
    finally:
        holder.kill()
        holder.wait()
    # The server ends the dead process's session on its own, a moment after the kill.
    with run_lock(engine, lock_file, WAITER, 5):
        runs.record_start(engine, WAITER, STARTED, "standard", "snapshot")
        assert mark_abandoned(engine) == {HOLDER: "abandoned"}
        assert mark_abandoned(engine) == {}
    statuses = {r[0]: (r[3], r[9]) for r in table_rows(engine, "pipeline_runs")}
    assert statuses == {
        HOLDER: (
            "abandoned",
            "stopped before its database load committed; nothing of it is visible",
        ),
        WAITER: ("running", None),
    }
    engine.dispose()


def test_a_run_whose_load_committed_is_marked_committed_not_abandoned(tmp_path: Path) -> None:
    engine = create_engine(f"sqlite:///{tmp_path / 'etl.db'}")
    migrate.upgrade(engine)
    runs.record_start(engine, HOLDER, STARTED, "standard", "snapshot")
    with run_lock(engine, tmp_path / "run.lock", WAITER, 0):
        assert mark_abandoned(engine, lambda gone: set(gone)) == {HOLDER: "committed"}
    [run] = table_rows(engine, "pipeline_runs")
    assert (run[3], run[9]) == (
        "committed",
        "killed after its database load committed; recovery finished it",
    )
