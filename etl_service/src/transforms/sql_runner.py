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
    """``table`` in ascending order of ``keys``, exactly as a stable sort would give it.

    A sort holds its indices and a full sorted copy next to the input. The sources produce
    the large tables (the daily closes) ticker by ticker in date order, so a table in key
    order is returned as it is, and one whose runs of the first key are each in order is
    reassembled from zero-copy slices of those runs; only other tables are sorted.
    """
    if table.num_rows < 2:
        return table
    if any(table.column(k).null_count for k in keys):  # sort_by places the nulls
        return table.sort_by([(k, "ascending") for k in keys])
    if _all(_not_after(table, keys)):
        return table
    regrouped = _regrouped(table, keys)
    return table.sort_by([(k, "ascending") for k in keys]) if regrouped is None else regrouped


MIN_RUN_ROWS = 64
"""Runs shorter than this on average are sorted: slicing them would give many tiny chunks."""


def _regrouped(table: pa.Table, keys: Sequence[str]) -> pa.Table | None:
    """The runs of the first key put in its order, when each of its values is one run in
    order of the other keys; None otherwise."""
    first = table.column(keys[0])
    head, tail = _pairs(first)
    new_run = pc.not_equal(head, tail)
    starts = pa.concat_arrays(
        [pa.array([0], pa.uint64()), pc.add(pc.indices_nonzero(new_run), 1).cast(pa.uint64())]
    )
    if len(starts) * MIN_RUN_ROWS > table.num_rows:
        return None
    if len(keys) > 1 and not _all(pc.or_(new_run, _not_after(table, keys[1:]))):
        return None
    run_values = first.take(starts)
    if pc.count_distinct(run_values).as_py() != len(starts):  # a value in several runs
        return None
    bounds = [*starts.to_pylist(), table.num_rows]
    order = pc.sort_indices(run_values).to_pylist()
    return pa.concat_tables(table.slice(bounds[i], bounds[i + 1] - bounds[i]) for i in order)


def _pairs(column: pa.ChunkedArray) -> tuple[pa.ChunkedArray, pa.ChunkedArray]:
    """Each row's value and the next row's (zero-copy slices)."""
    return column.slice(0, len(column) - 1), column.slice(1)


def _not_after(table: pa.Table, keys: Sequence[str]) -> pa.ChunkedArray:
    """Per row but the last: whether it is <= the next row in ``keys``, lexicographically."""
    pairs = [_pairs(table.column(k)) for k in keys]
    before = pc.less(*pairs[0])  # some key so far puts the row before the next
    tied = pc.equal(*pairs[0])  # every key so far is equal
    for head, tail in pairs[1:]:
        before = pc.or_(before, pc.and_(tied, pc.less(head, tail)))
        tied = pc.and_(tied, pc.equal(head, tail))
    return pc.or_(before, tied)


def _all(flags: pa.ChunkedArray) -> bool:
    return bool(pc.all(flags).as_py())
