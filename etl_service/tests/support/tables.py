"""Reading back whole tables and checksumming them, for idempotency and parity tests; waiting
for a run in another process to be recorded."""

from __future__ import annotations

import hashlib
import subprocess
import time
from typing import Any

import sqlalchemy as sa

from etl_service.src.db.tables import TABLES
from etl_service.src.models.schemas import (
    CURATED_TABLES,
    TABLES_BY_NAME,
    Column,
    ColumnType,
    TableSpec,
)

REPORTS = TableSpec(
    "reports",
    (
        Column("cik", ColumnType.STRING, False),
        Column("fiscal_year", ColumnType.INT64, False),
        Column("revenue", ColumnType.INT64),
    ),
    key=("cik", "fiscal_year"),
    doc="A tiny partitioned table, for lake tests.",
    partition_by=("fiscal_year",),
)
"""A small table partitioned by ``fiscal_year``, for the lake's own tests."""


def table_rows(engine: sa.Engine, name: str) -> list[tuple[Any, ...]]:
    """Every row of a canonical table, ordered by its key, as plain tuples."""
    table = TABLES[name]
    spec_key = TABLES_BY_NAME[name].key
    with engine.connect() as conn:
        rows = conn.execute(sa.select(table).order_by(*[table.c[k] for k in spec_key]))
        return [tuple(r) for r in rows]


def checksums(engine: sa.Engine, names: list[str] | None = None) -> dict[str, tuple[int, str]]:
    """(row count, sha256 of the rows) per table."""
    out = {}
    for name in names or [s.name for s in CURATED_TABLES]:
        rows = table_rows(engine, name)
        out[name] = (len(rows), hashlib.sha256(repr(rows).encode()).hexdigest())
    return out


def wait_until_running(engine: sa.Engine, proc: subprocess.Popen[str]) -> None:
    """Block until ``proc``'s run is recorded as running in ``engine``'s database."""
    deadline = time.monotonic() + 60
    while True:
        assert proc.poll() is None, "the run ended before it was recorded as running"
        assert time.monotonic() < deadline, "the run was never recorded as running"
        try:
            if [r[3] for r in table_rows(engine, "pipeline_runs")] == ["running"]:
                return
        except sa.exc.SQLAlchemyError:
            pass  # the run has not created its tables yet
        time.sleep(0.05)
