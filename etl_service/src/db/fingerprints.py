"""Sending only changed rows to PostgreSQL, using per-row fingerprints kept in the database.

For each row the loader computes a 64-bit hash of its key and of the whole row (DuckDB's
``hash``, fast over Arrow) and keeps them in ``load_fingerprints``, in the same transaction
as the data. On the next load only the fingerprints are copied (16 bytes a row) and joined
with the stored ones; the rows whose hash changed or is new are then staged and merged as
usual, and nothing else is sent. An empty target is loaded with one ``COPY`` straight into
it. The stored hashes are trusted only while ``load_state`` names the same hash function
(the DuckDB version) and no other writer touched the table: every other merge path
(``merge_from_staging``, used by the full path and the Spark JDBC loader) drops the table's
fingerprints, and the next load rebuilds them.
"""

from __future__ import annotations

import logging
from collections.abc import Callable

import duckdb
import pyarrow as pa
import pyarrow.compute as pc
import sqlalchemy as sa

from etl_service.src.models.schemas import TableSpec

logger = logging.getLogger(__name__)

HASHER = f"duckdb-{duckdb.__version__}-hash"

Copy = Callable[[sa.Connection, str, list[str], pa.Table], None]
"""Bulk-copies an Arrow table into a named table's columns."""


def fingerprint(spec: TableSpec, table: pa.Table) -> pa.Table:
    """``key_hash`` and ``row_hash`` (signed 64-bit) per row, in the table's row order."""
    key = ", ".join(f'"{c}"' for c in spec.key)
    row = ", ".join(f'"{c}"' for c in spec.column_names)
    con = duckdb.connect()
    try:
        con.register("t", table)
        return con.sql(
            f"SELECT (hash({key}) >> 1)::BIGINT AS key_hash, "
            f"(hash({row}) >> 1)::BIGINT AS row_hash FROM t"
        ).to_arrow_table()
    finally:
        con.close()


def _temp_names(spec: TableSpec) -> tuple[str, str]:
    return f"fp_new_{spec.name}", f"fp_changed_{spec.name}"


def forget(conn: sa.Connection, spec: TableSpec) -> None:
    """Drop a table's fingerprints (after a write that did not maintain them)."""
    params = {"t": spec.name}
    conn.execute(sa.text("DELETE FROM load_fingerprints WHERE table_name = :t"), params)
    conn.execute(sa.text("DELETE FROM load_state WHERE table_name = :t"), params)


def trusted(conn: sa.Connection, spec: TableSpec) -> bool:
    """Whether the stored fingerprints of ``spec`` were made by this hash function."""
    hasher = conn.execute(
        sa.text("SELECT hasher FROM load_state WHERE table_name = :t"), {"t": spec.name}
    ).scalar()
    return bool(hasher == HASHER)


def is_empty(conn: sa.Connection, spec: TableSpec) -> bool:
    return not conn.exec_driver_sql(f'SELECT EXISTS (SELECT 1 FROM "{spec.name}")').scalar()


def remember(conn: sa.Connection, spec: TableSpec, prints: pa.Table, copy: Copy) -> None:
    """Replace the table's fingerprints with ``prints``."""
    forget(conn, spec)
    rows = prints.append_column(
        "table_name", pa.array([spec.name] * prints.num_rows, pa.string())
    ).select(["table_name", "key_hash", "row_hash"])
    copy(conn, "load_fingerprints", rows.column_names, rows)
    conn.execute(
        sa.text("INSERT INTO load_state (table_name, hasher) VALUES (:t, :h)"),
        {"t": spec.name, "h": HASHER},
    )


def changed_rows(
    conn: sa.Connection, spec: TableSpec, data: pa.Table, prints: pa.Table, copy: Copy
) -> tuple[pa.Table, int]:
    """The rows of ``data`` whose fingerprint is new or different, and the stale key count.

    Leaves the temporary tables of the new and the changed fingerprints for ``update``.
    """
    new, changed_table = _temp_names(spec)
    conn.exec_driver_sql(
        f"CREATE TEMP TABLE {new} (key_hash BIGINT PRIMARY KEY, row_hash BIGINT) ON COMMIT DROP"
    )
    copy(conn, new, ["key_hash", "row_hash"], prints)
    params = {"t": spec.name}
    conn.execute(
        sa.text(
            f"CREATE TEMP TABLE {changed_table} ON COMMIT DROP AS "
            f"SELECT n.key_hash, n.row_hash FROM {new} AS n LEFT JOIN load_fingerprints AS f "
            "ON f.table_name = :t AND f.key_hash = n.key_hash "
            "WHERE f.row_hash IS DISTINCT FROM n.row_hash"
        ),
        params,
    )
    changed = [r[0] for r in conn.exec_driver_sql(f"SELECT key_hash FROM {changed_table}")]
    stale: int = conn.execute(
        sa.text(
            "SELECT COUNT(*) FROM load_fingerprints AS f WHERE f.table_name = :t "
            f"AND NOT EXISTS (SELECT 1 FROM {new} AS n WHERE n.key_hash = f.key_hash)"
        ),
        params,
    ).scalar_one()
    mask = pc.is_in(prints["key_hash"], value_set=pa.array(changed, pa.int64()))
    return data.filter(mask), int(stale)


def update(conn: sa.Connection, spec: TableSpec, drop_stale: bool) -> None:
    """Store the changed fingerprints (and drop those of deleted keys)."""
    new, changed_table = _temp_names(spec)
    params = {"t": spec.name}
    conn.execute(
        sa.text(
            "INSERT INTO load_fingerprints (table_name, key_hash, row_hash) "
            f"SELECT :t, key_hash, row_hash FROM {changed_table} "
            "ON CONFLICT (table_name, key_hash) DO UPDATE SET row_hash = excluded.row_hash"
        ),
        params,
    )
    if drop_stale:
        conn.execute(
            sa.text(
                "DELETE FROM load_fingerprints AS f WHERE f.table_name = :t "
                f"AND NOT EXISTS (SELECT 1 FROM {new} AS n WHERE n.key_hash = f.key_hash)"
            ),
            params,
        )
