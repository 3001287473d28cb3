"""One run at a time per data folder, and runs left 'running' by a killed process."""

from __future__ import annotations

import fcntl
import os
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path

import sqlalchemy as sa

from etl_service.errors import LoadError
from etl_service.src.db.tables import TABLES


@contextmanager
def exclusive_run(lock_file: Path) -> Iterator[None]:
    """Hold an exclusive lock on ``lock_file`` for the block; fail fast if another run has it."""
    lock_file.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(lock_file, os.O_RDWR | os.O_CREAT, 0o644)
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError as exc:
            raise LoadError(f"another run holds {lock_file}; wait for it to finish") from exc
        os.ftruncate(fd, 0)
        os.write(fd, str(os.getpid()).encode())
        yield
    finally:
        os.close(fd)  # closing the descriptor releases the lock


def mark_abandoned(engine: sa.Engine) -> int:
    """Mark runs still 'running' as 'abandoned'; call only while holding the run lock."""
    runs = TABLES["pipeline_runs"]
    with engine.begin() as conn:
        result = conn.execute(
            sa.update(runs)
            .where(runs.c.status == "running")
            .values(
                status="abandoned",
                finished_at=datetime.now(UTC),
                error="stopped without finishing (process killed?); its load was rolled back",
            )
        )
        return result.rowcount
