"""One run at a time per database, and runs left 'running' by a process that is gone.

PostgreSQL may be shared by runs on several hosts, so the lock lives in the database: a
session-level advisory lock held on a dedicated connection for the whole run. The server
releases it when that session ends, so a killed process never leaves it behind. Each run
also holds an advisory lock keyed on its run id; a 'running' row whose lock is free has no
live process, which is what ``mark_abandoned`` tests. The connection is in autocommit, so
holding the lock keeps no transaction open.

SQLite is a local file, so an fcntl lock on ``data_dir/run.lock`` serialises its runs; the
file names the holder's run id for the message of a run that waits in vain.
"""

from __future__ import annotations

import fcntl
import hashlib
import logging
import os
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path

import sqlalchemy as sa

from etl_service.errors import RunInProgressError
from etl_service.src.db.tables import TABLES

logger = logging.getLogger(__name__)

_RUNS = TABLES["pipeline_runs"]
_POLL_S = 0.25
# Advisory locks are keyed by (class, object) int4 pairs per database; these classes are ours.
_ONE_RUN_CLASS = 0x45544C00
_RUN_ID_CLASS = 0x45544C01
_APP_PREFIX = "etl-service run "


@contextmanager
def run_lock(engine: sa.Engine, lock_file: Path, run_id: str, timeout_s: float) -> Iterator[None]:
    """Hold the one-run-at-a-time lock, and ``run_id``'s own lock, for the block.

    Args:
        engine: the database the run loads; PostgreSQL locks there, SQLite locks ``lock_file``.
        lock_file: the lock file for SQLite (``data_dir/run.lock``); unused on PostgreSQL.
        run_id: the id the run records in ``pipeline_runs``.
        timeout_s: how long to wait for another run to finish, polling; 0 tries once.

    Raises:
        RunInProgressError: another run still held the lock after ``timeout_s``.
    """
    if engine.dialect.name == "postgresql":
        with _advisory_lock(engine, run_id, timeout_s):
            yield
    else:
        with _file_lock(engine, lock_file, run_id, timeout_s):
            yield


def mark_abandoned(
    engine: sa.Engine, loaded: Callable[[Sequence[str]], set[str]] | None = None
) -> dict[str, str]:
    """Mark 'running' runs that no live process holds; call under ``run_lock``.

    A run whose database load had committed (``loaded`` says which, from the commit
    journal) becomes 'committed'; any other becomes 'abandoned', its load rolled back.

    Returns:
        The status each marked run got, by run id.
    """
    with engine.begin() as conn:
        query = sa.select(_RUNS.c.run_id).where(_RUNS.c.status == "running")
        running: list[str] = list(conn.execute(query).scalars())
        gone = [run_id for run_id in running if not _is_live(conn, run_id)]
    if not gone:
        return {}
    committed = loaded(gone) if loaded else set()
    with engine.begin() as conn:
        for run_id in gone:
            status, error = (
                ("committed", "killed after its database load committed; recovery finished it")
                if run_id in committed
                else (
                    "abandoned",
                    "stopped before its database load committed; nothing of it is visible",
                )
            )
            conn.execute(
                sa.update(_RUNS)
                .where(_RUNS.c.run_id == run_id, _RUNS.c.status == "running")
                .values(status=status, finished_at=datetime.now(UTC), error=error)
            )
    return {run_id: "committed" if run_id in committed else "abandoned" for run_id in gone}


def _wait_for(try_once: Callable[[], bool], timeout_s: float) -> bool:
    deadline = time.monotonic() + timeout_s
    if try_once():
        return True
    if timeout_s > 0:
        logger.info("another run holds the run lock; waiting up to %.1fs", timeout_s)
    while (remaining := deadline - time.monotonic()) > 0:
        time.sleep(min(_POLL_S, remaining))
        if try_once():
            return True
    return False


def _in_progress(engine: sa.Engine, run_id: str | None) -> RunInProgressError:
    """The error naming the run that holds the lock, with its start from ``pipeline_runs``."""
    started: datetime | None = None
    if run_id is not None:
        try:
            with engine.connect() as conn:
                started = conn.execute(
                    sa.select(_RUNS.c.started_at).where(_RUNS.c.run_id == run_id)
                ).scalar()
        except sa.exc.SQLAlchemyError:
            pass  # no pipeline_runs table yet: the holder is the first run and migrating
    who = run_id or "(id unknown)"
    since = "an unknown time"
    if started is not None:
        # Runs record UTC; SQLite hands it back without its zone.
        since = (
            started.replace(tzinfo=started.tzinfo or UTC).astimezone(UTC).isoformat(" ", "seconds")
        )
    return RunInProgressError(f"another run {who} is in progress since {since}")


# PostgreSQL


def _run_key(run_id: str) -> int:
    return int.from_bytes(hashlib.sha256(run_id.encode()).digest()[:4]) & 0x7FFFFFFF


def _try_advisory_lock(conn: sa.Connection, cls: int, key: int) -> bool:
    query = sa.text("SELECT pg_try_advisory_lock(CAST(:c AS integer), CAST(:k AS integer))")
    return bool(conn.execute(query, {"c": cls, "k": key}).scalar())


def _is_live(conn: sa.Connection, run_id: str) -> bool:
    """Whether a process holds ``run_id``'s lock; on SQLite the caller's file lock says no."""
    if conn.dialect.name != "postgresql":
        return False
    key = _run_key(run_id)
    if not _try_advisory_lock(conn, _RUN_ID_CLASS, key):
        return True
    conn.execute(
        sa.text("SELECT pg_advisory_unlock(CAST(:c AS integer), CAST(:k AS integer))"),
        {"c": _RUN_ID_CLASS, "k": key},
    )
    return False


def _lock_holder(engine: sa.Engine) -> str | None:
    """The run id of the session holding the one-run lock, from its application_name."""
    query = sa.text(
        "SELECT a.application_name FROM pg_locks l JOIN pg_stat_activity a ON a.pid = l.pid"
        " WHERE l.locktype = 'advisory' AND l.granted AND l.objsubid = 2"
        " AND l.classid = CAST(:c AS oid) AND l.objid = 0"
        " AND l.database = (SELECT oid FROM pg_database WHERE datname = current_database())"
    )
    try:
        with engine.connect() as conn:
            name = conn.execute(query, {"c": _ONE_RUN_CLASS}).scalar()
    except sa.exc.SQLAlchemyError:
        return None
    return name.removeprefix(_APP_PREFIX) if name and name.startswith(_APP_PREFIX) else None


@contextmanager
def _advisory_lock(engine: sa.Engine, run_id: str, timeout_s: float) -> Iterator[None]:
    conn = engine.connect().execution_options(isolation_level="AUTOCOMMIT")
    try:
        # Set before locking, so a waiting run can always name the holder (as can a DBA).
        conn.execute(
            sa.text("SELECT set_config('application_name', :name, false)"),
            {"name": _APP_PREFIX + run_id},
        )
        if not _wait_for(lambda: _try_advisory_lock(conn, _ONE_RUN_CLASS, 0), timeout_s):
            raise _in_progress(engine, _lock_holder(engine))
        # Blocks at most while a mark_abandoned probes this key, which it holds for a moment.
        conn.execute(
            sa.text("SELECT pg_advisory_lock(CAST(:c AS integer), CAST(:k AS integer))"),
            {"c": _RUN_ID_CLASS, "k": _run_key(run_id)},
        )
        yield
    finally:
        # Ending the session releases its locks; the connection must not go back to the pool.
        conn.invalidate()
        conn.close()


# SQLite


def _try_flock(fd: int) -> bool:
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        return False
    return True


@contextmanager
def _file_lock(engine: sa.Engine, lock_file: Path, run_id: str, timeout_s: float) -> Iterator[None]:
    lock_file.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(lock_file, os.O_RDWR | os.O_CREAT, 0o644)
    try:
        if not _wait_for(lambda: _try_flock(fd), timeout_s):
            holder = lock_file.read_text().split()
            raise _in_progress(engine, holder[0] if holder else None)
        os.ftruncate(fd, 0)
        os.write(fd, f"{run_id} {os.getpid()}\n".encode())
        yield
    finally:
        os.close(fd)  # closing the descriptor releases the lock
