"""The lake commits a run will make, written inside its database transaction.

A run commits the database first and the lake after it, one Iceberg commit per table. If the
process dies in between, the database has the run and the lake does not; the journal is what
lets the next run (or ``etl-service recover``) tell that apart from a run whose database load
never committed, and finish the lake's part: the rows are visible exactly when the load is.
A row with zone and table ``*`` says the run's database load committed, whether or not any
lake table changed.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import sqlalchemy as sa

from etl_service.src.db.tables import TABLES

_JOURNAL = TABLES["lake_commits"]
RUN_ROW = "*"
PENDING, COMMITTED = "pending", "committed"


def record(conn: sa.Connection, run_id: str, intents: Sequence[Mapping[str, Any]]) -> None:
    """Write the run's row and one pending row per lake commit, in ``conn``'s transaction."""
    rows = [{"zone": RUN_ROW, "table_name": RUN_ROW}, *intents]
    conn.execute(
        sa.insert(_JOURNAL),
        [
            {
                "run_id": run_id,
                "digest": None,
                "rows": None,
                "folder": None,
                "files": None,
                **row,
                "status": PENDING,
            }
            for row in rows
        ],
    )


def settle(engine: sa.Engine, run_id: str) -> None:
    """Every lake commit of the run is done: drop its table rows, mark its run row."""
    with engine.begin() as conn:
        run = _JOURNAL.c.run_id == run_id
        conn.execute(sa.delete(_JOURNAL).where(run, _JOURNAL.c.table_name != RUN_ROW))
        conn.execute(sa.update(_JOURNAL).where(run).values(status=COMMITTED))


def pending(engine: sa.Engine) -> list[dict[str, Any]]:
    """The lake commits of committed database loads that the lake may not have yet."""
    with engine.connect() as conn:
        query = (
            sa.select(_JOURNAL)
            .where(_JOURNAL.c.status == PENDING, _JOURNAL.c.table_name != RUN_ROW)
            .order_by(_JOURNAL.c.run_id, _JOURNAL.c.zone, _JOURNAL.c.table_name)
        )
        return [dict(r._mapping) for r in conn.execute(query)]


def loaded_runs(engine: sa.Engine, run_ids: Sequence[str]) -> set[str]:
    """Which of ``run_ids`` committed their database load."""
    if not run_ids:
        return set()
    with engine.connect() as conn:
        query = sa.select(_JOURNAL.c.run_id).where(
            _JOURNAL.c.run_id.in_(run_ids), _JOURNAL.c.table_name == RUN_ROW
        )
        return set(conn.execute(query).scalars())
