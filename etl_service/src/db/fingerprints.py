"""Sending only changed rows to PostgreSQL, using per-row fingerprints kept in the database.

For each row the loader computes a 64-bit hash of its key and of the whole row (DuckDB's
``hash``, fast over Arrow). The pairs of the rows last loaded are kept per table as one
Arrow blob in ``load_state``, written in the same transaction as the data. On the next load
the blob is read back and compared with the new pairs on the client; only the new or changed
rows are staged and merged, and the keys that disappeared are known without touching the
table. An empty target is loaded with one ``COPY`` straight into it.

The stored pairs are trusted only while ``load_state`` names the same hash function (the
DuckDB version) and nothing else wrote the table: every other merge path
(``merge_from_staging``, used by the full path and the Spark JDBC loader) forgets them, and
the next load compares everything once and stores them again.
"""

from __future__ import annotations

import duckdb
import pyarrow as pa
import sqlalchemy as sa

from etl_service.src.models.schemas import TableSpec

HASHER = f"duckdb-{duckdb.__version__}-hash"
PRINTS_SCHEMA = pa.schema([pa.field("key_hash", pa.int64()), pa.field("row_hash", pa.int64())])


def fingerprint(spec: TableSpec, table: pa.Table) -> pa.Table:
    """``key_hash`` and ``row_hash`` (signed 64-bit) per row, in the table's row order."""
    key = ", ".join(f'"{c}"' for c in spec.key)
    row = ", ".join(f'"{c}"' for c in spec.column_names)
    return _query(
        f"SELECT (hash({key}) >> 1)::BIGINT AS key_hash, "
        f"(hash({row}) >> 1)::BIGINT AS row_hash FROM t",
        t=table,
    )


def _query(sql: str, **tables: pa.Table) -> pa.Table:
    con = duckdb.connect()
    try:
        for name, table in tables.items():
            con.register(name, table)
        return con.sql(sql).to_arrow_table()
    finally:
        con.close()


def _encode(prints: pa.Table) -> bytes:
    sink = pa.BufferOutputStream()
    with pa.ipc.new_stream(sink, PRINTS_SCHEMA) as writer:
        writer.write_table(prints.select(PRINTS_SCHEMA.names).cast(PRINTS_SCHEMA))
    return bytes(sink.getvalue().to_pybytes())


def forget(conn: sa.Connection, spec: TableSpec) -> None:
    """Drop a table's fingerprints (after a write that did not maintain them)."""
    conn.execute(sa.text("DELETE FROM load_state WHERE table_name = :t"), {"t": spec.name})


def stored(conn: sa.Connection, spec: TableSpec) -> pa.Table | None:
    """The fingerprints of the rows last loaded, or None when they cannot be trusted."""
    row = conn.execute(
        sa.text("SELECT hasher, fingerprints FROM load_state WHERE table_name = :t"),
        {"t": spec.name},
    ).first()
    if row is None or row.hasher != HASHER:
        return None
    return pa.ipc.open_stream(pa.py_buffer(row.fingerprints)).read_all()


def remember(conn: sa.Connection, spec: TableSpec, prints: pa.Table) -> None:
    """Store ``prints`` as the table's fingerprints."""
    forget(conn, spec)
    conn.execute(
        sa.text("INSERT INTO load_state (table_name, hasher, fingerprints) VALUES (:t, :h, :f)"),
        {"t": spec.name, "h": HASHER, "f": _encode(prints)},
    )


def compare(old: pa.Table, new: pa.Table) -> tuple[pa.Table, pa.Table, int]:
    """Rows of ``new`` that are new or changed (as a mask), the merged prints, stale count.

    Returns:
        A boolean column marking the changed rows of ``new`` (in its order), the fingerprints
        after the load if missing keys are kept (old keys absent from ``new`` plus ``new``),
        and how many old keys are absent from ``new``.
    """
    positioned = new.append_column("pos", pa.array(range(new.num_rows), pa.int64()))
    changed = _query(
        "SELECT n.row_hash IS DISTINCT FROM o.row_hash AS changed "
        "FROM n LEFT JOIN o ON o.key_hash = n.key_hash ORDER BY n.pos",
        n=positioned,
        o=old,
    )
    kept_old = _query("SELECT * FROM o ANTI JOIN n ON o.key_hash = n.key_hash", n=new, o=old)
    merged = pa.concat_tables([kept_old.cast(PRINTS_SCHEMA), new.cast(PRINTS_SCHEMA)])
    return changed, merged, kept_old.num_rows
