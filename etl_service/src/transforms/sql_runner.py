"""The shared SQL definitions, the session interface every engine implements, and DuckDB.

Each ``sql/<name>.sql`` file is one transformation. It reads the input tables by name and
must stay in the SQL subset that both DuckDB and Spark SQL (3.5 and 4.x) accept; each
engine's ``SqlSession`` runs the same text over its own registered tables.
"""

from __future__ import annotations

from collections.abc import Sequence
from functools import cache
from importlib import resources
from typing import Any, Protocol

import duckdb
import pyarrow as pa
import pyarrow.compute as pc

from etl_service.src.models.schemas import TableSpec, arrow_schema


@cache
def load_sql(name: str) -> str:
    """The text of the shared transformation ``name``."""
    return (resources.files("etl_service.src.transforms") / "sql" / f"{name}.sql").read_text()


class SqlSession(Protocol):
    """Named tables and the shared SQL on one engine; frames stay in the engine's own form.

    A frame is whatever the engine computes on: an Arrow table on DuckDB, a DataFrame on
    Spark. Only ``query`` brings rows to the caller, as Arrow, for small results.
    """

    def register(self, name: str, table: pa.Table | Any) -> None:
        """Make an Arrow table, or a frame of this engine, readable as ``name``."""

    def materialize(self, transformation: str, as_name: str) -> None:
        """Run the shared transformation and register its computed result as ``as_name``."""

    def frame(self, name: str) -> Any:
        """The frame registered or materialized as ``name``."""

    def select(self, sql: str) -> Any:
        """The result of ``sql`` as a computed frame of this engine."""

    def query(self, sql: str) -> pa.Table:
        """The result of ``sql``, collected as Arrow (for small results)."""

    def close(self) -> None:
        """Drop the session's names; frames already handed out stay usable."""


def run_duckdb(
    name: str, inputs: dict[str, pa.Table], con: duckdb.DuckDBPyConnection | None = None
) -> pa.Table:
    """Run transformation ``name`` on DuckDB with ``inputs`` registered as views."""
    own = con is None
    con = con or duckdb.connect()
    try:
        for view, table in inputs.items():
            con.register(view, table)
        result = con.sql(load_sql(name)).to_arrow_table()
        for view in inputs:
            con.unregister(view)
        return result
    finally:
        if own:
            con.close()


def sort_by_key(spec: TableSpec, table: pa.Table) -> pa.Table:
    """``table`` cast to the canonical schema of ``spec`` and sorted by its key."""
    return sorted_by(table.select(spec.column_names).cast(arrow_schema(spec)), spec.key)


def sorted_by(table: pa.Table, keys: Sequence[str]) -> pa.Table:
    """``table`` in ascending order of ``keys``; itself when it is in that order already.

    A sort holds its indices and a full sorted copy next to the input; the sources produce
    large tables (the daily closes) in key order, so checking first saves that copy.
    """
    if _in_order(table, keys):
        return table
    return table.sort_by([(k, "ascending") for k in keys])


def _in_order(table: pa.Table, keys: Sequence[str]) -> bool:
    """Whether every row is <= the next in ``keys`` (lexicographically, no nulls)."""
    if table.num_rows < 2:
        return True
    if any(table.column(k).null_count for k in keys):
        return False  # sort_by's null placement decides; leave it to the sort
    pairs = [(c.slice(0, len(c) - 1), c.slice(1)) for c in map(table.column, keys)]
    head, tail = pairs[0]
    before_later = pc.less(head, tail)  # some key so far puts the row before the next
    tied = pc.equal(head, tail)  # every key so far is equal
    for head, tail in pairs[1:]:
        before_later = pc.or_(before_later, pc.and_(tied, pc.less(head, tail)))
        tied = pc.and_(tied, pc.equal(head, tail))
    return bool(pc.all(pc.or_(before_later, tied)).as_py())
