"""Reading back whole tables and checksumming them, for idempotency and parity tests."""

from __future__ import annotations

import hashlib
from typing import Any

import sqlalchemy as sa

from etl_service.src.db.tables import TABLES
from etl_service.src.models.schemas import CURATED_TABLES, TABLES_BY_NAME


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
