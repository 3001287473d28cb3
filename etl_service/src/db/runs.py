"""Recording pipeline runs in ``pipeline_runs``, in their own short transactions."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import sqlalchemy as sa

from etl_service.src.db.tables import TABLES

_RUNS = TABLES["pipeline_runs"]


def record_start(
    engine: sa.Engine, run_id: str, started_at: datetime, engine_name: str, source: str
) -> None:
    """Insert the run as ``running`` (committed at once, so a killed run stays visible)."""
    with engine.begin() as conn:
        conn.execute(
            sa.insert(_RUNS).values(
                run_id=run_id,
                started_at=started_at,
                status="running",
                engine=engine_name,
                source=source,
            )
        )


def record_finish(engine: sa.Engine, run_id: str, **values: Any) -> None:
    """Update the run with its outcome (status, finished_at, rows, quality, warnings, error)."""
    with engine.begin() as conn:
        conn.execute(sa.update(_RUNS).where(_RUNS.c.run_id == run_id).values(**values))


def latest_runs(engine: sa.Engine, limit: int = 10) -> list[dict[str, Any]]:
    """The newest runs first."""
    with engine.connect() as conn:
        rows = conn.execute(sa.select(_RUNS).order_by(_RUNS.c.started_at.desc()).limit(limit))
        return [dict(r._mapping) for r in rows]
