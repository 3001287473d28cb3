"""What the runs did: their history from ``pipeline_runs`` and the rows they quarantined."""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa

from etl_service.src.db.runs import latest_runs
from etl_service.src.db.suggest import unknown_name
from etl_service.src.db.tables import TABLES

_QUARANTINE = TABLES["quarantine"]


def run_history(engine: sa.Engine, last: int = 10) -> list[dict[str, Any]]:
    """The ``last`` runs, newest first: status, source, engine, duration, rows per table,
    data-quality rules passed and failed (critical ones apart), warnings and error."""
    history = []
    for run in latest_runs(engine, last):
        checks = run["data_quality"] or []
        failed = [c for c in checks if c["failed"]]
        finished = run["finished_at"]
        history.append(
            {
                "run_id": run["run_id"],
                "started_at": run["started_at"].replace(microsecond=0),
                "status": run["status"],
                "source": run["source"],
                "engine": run["engine"],
                "duration_s": None
                if finished is None
                else round((finished - run["started_at"]).total_seconds(), 1),
                "rows": run["rows"] or {},
                "rules_passed": len(checks) - len(failed),
                "rules_failed": len(failed),
                "critical_failed": sum(c["severity"] == "critical" for c in failed),
                "warnings": run["warnings"] or [],
                "error": run["error"],
            }
        )
    return history


def quarantined(
    engine: sa.Engine, table: str | None = None, run: str | None = None
) -> list[dict[str, Any]]:
    """The quarantined rows with their reasons, of one table and of the runs whose id starts
    with ``run`` when given; an unknown table exits 4 with the closest names."""
    query = sa.select(_QUARANTINE).order_by(
        _QUARANTINE.c.table_name, _QUARANTINE.c.record_key, _QUARANTINE.c.reason
    )
    with engine.connect() as conn:
        if table is not None:
            seen: list[str] = list(
                conn.execute(sa.select(_QUARANTINE.c.table_name).distinct()).scalars()
            )
            known = set(TABLES) | set(seen)
            if table not in known:
                raise unknown_name("table", table, known)
            query = query.where(_QUARANTINE.c.table_name == table)
        if run is not None:
            query = query.where(_QUARANTINE.c.first_run_id.startswith(run, autoescape=True))
        return [dict(r._mapping) for r in conn.execute(query)]
