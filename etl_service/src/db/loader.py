"""Idempotent, atomic loads of canonical Arrow tables into SQLite or PostgreSQL.

Every table of a load goes through one transaction: rows are bulk-staged into a temporary
table (PostgreSQL: ``COPY``; SQLite: batched ``executemany``), then merged into the target
with one ``INSERT … SELECT … ON CONFLICT (key) DO UPDATE … WHERE … IS DISTINCT FROM …`` that
skips unchanged rows, so a rerun on the same inputs writes nothing. ``SYNC`` tables are
snapshots of the source, so keys missing from the new data are deleted in the same
transaction. A failure or a killed process leaves the previous committed state intact.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any, Protocol

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pacsv
import sqlalchemy as sa

from etl_service.errors import LoadError
from etl_service.src.db import fingerprints
from etl_service.src.db.engine import unreachable
from etl_service.src.models.schemas import (
    TABLES_BY_NAME,
    ColumnType,
    LoadMode,
    TableSpec,
    arrow_schema,
)

logger = logging.getLogger(__name__)

BATCH_ROWS = 50_000


@dataclass(frozen=True)
class TableLoad:
    """Counts for one table: rows offered, inserted or changed, and deleted."""

    offered: int
    upserted: int
    deleted: int


def _q(name: str) -> str:
    return f'"{name}"'


def _staging_name(spec: TableSpec) -> str:
    return f"stg_{spec.name}"


def merge_sql(spec: TableSpec, staging: str, update: bool = True) -> str:
    """Upsert from ``staging`` into the target, skipping rows that would not change."""
    cols = spec.column_names
    non_key = [c for c in cols if c not in spec.key]
    col_list = ", ".join(_q(c) for c in cols)
    key_list = ", ".join(_q(c) for c in spec.key)
    sql = (
        f"INSERT INTO {_q(spec.name)} ({col_list}) "
        f"SELECT {col_list} FROM {_q(staging)} WHERE true "
        f"ON CONFLICT ({key_list}) "
    )
    if not non_key or not update:
        return sql + "DO NOTHING"
    sets = ", ".join(f"{_q(c)} = excluded.{_q(c)}" for c in non_key)
    changed = " OR ".join(
        f"{_q(spec.name)}.{_q(c)} IS DISTINCT FROM excluded.{_q(c)}" for c in non_key
    )
    return sql + f"DO UPDATE SET {sets} WHERE {changed}"


def delete_missing_sql(spec: TableSpec, staging: str) -> str:
    """Delete the target rows whose key is not in ``staging``."""
    key = ", ".join(_q(c) for c in spec.key)
    return f"DELETE FROM {_q(spec.name)} WHERE ({key}) NOT IN (SELECT {key} FROM {_q(staging)})"


def merge_from_staging(
    conn: sa.Connection, spec: TableSpec, staging: str, mode: LoadMode, offered: int
) -> TableLoad:
    """Merge ``staging`` into the target of ``spec`` by ``mode`` inside the caller's transaction."""
    fingerprints.forget(conn, spec)  # this write does not maintain them
    merge = merge_sql(spec, staging, update=mode is not LoadMode.RECONCILE)
    upserted = conn.exec_driver_sql(merge).rowcount
    deleted = 0
    if mode in (LoadMode.SYNC, LoadMode.RECONCILE):
        deleted = conn.exec_driver_sql(delete_missing_sql(spec, staging)).rowcount
    logger.info(
        "%s: %d rows offered, %d inserted or changed, %d deleted",
        spec.name,
        offered,
        upserted,
        deleted,
    )
    return TableLoad(offered, upserted, deleted)


def _create_staging(conn: sa.Connection, spec: TableSpec) -> None:
    name = _staging_name(spec)
    conn.exec_driver_sql(f"DROP TABLE IF EXISTS {name}")
    if conn.dialect.name == "postgresql":
        conn.exec_driver_sql(
            f"CREATE TEMP TABLE {name} (LIKE {_q(spec.name)} INCLUDING DEFAULTS) ON COMMIT DROP"
        )
    else:
        conn.exec_driver_sql(f"CREATE TEMP TABLE {name} AS SELECT * FROM {_q(spec.name)} WHERE 0")


def _sqlite_value(value: Any, type_: ColumnType) -> Any:
    if value is None:
        return None
    if type_ is ColumnType.DATE and isinstance(value, date):
        return value.isoformat()
    if type_ is ColumnType.TIMESTAMP and isinstance(value, datetime):
        return value.isoformat(sep=" ")
    if type_ is ColumnType.BOOL:
        return int(value)
    return value


def _stage_sqlite(conn: sa.Connection, spec: TableSpec, table: pa.Table) -> None:
    placeholders = ", ".join("?" for _ in spec.columns)
    sql = f"INSERT INTO {_staging_name(spec)} VALUES ({placeholders})"
    types = [c.type for c in spec.columns]
    for batch in table.to_batches(BATCH_ROWS):
        columns = [batch.column(i).to_pylist() for i in range(batch.num_columns)]
        rows = [
            tuple(_sqlite_value(v, t) for v, t in zip(row, types, strict=True))
            for row in zip(*columns, strict=True)
        ]
        conn.exec_driver_sql(sql, rows)


def _csv_chunks(table: pa.Table) -> Iterator[bytes]:
    options = pacsv.WriteOptions(include_header=False, quoting_style="needed")
    for batch in table.to_batches(BATCH_ROWS):
        sink = pa.BufferOutputStream()
        pacsv.write_csv(batch, sink, options)
        yield sink.getvalue().to_pybytes()


def copy_postgres(conn: sa.Connection, table: str, columns: list[str], rows: pa.Table) -> None:
    """``COPY`` ``rows`` (Arrow, in ``columns`` order) into ``table`` as CSV chunks."""
    cursor: Any = conn.connection.dbapi_connection.cursor()  # type: ignore[union-attr]
    cols = ", ".join(_q(c) for c in columns)
    sql = f"COPY {table} ({cols}) FROM STDIN WITH (FORMAT csv)"
    with cursor, cursor.copy(sql) as copy:
        for chunk in _csv_chunks(rows.select(columns)):
            copy.write(chunk)


def _stage_postgres(conn: sa.Connection, spec: TableSpec, table: pa.Table) -> None:
    copy_postgres(conn, _staging_name(spec), spec.column_names, table)


def _load_full(conn: sa.Connection, spec: TableSpec, data: pa.Table, mode: LoadMode) -> TableLoad:
    _create_staging(conn, spec)
    stage = _stage_postgres if conn.dialect.name == "postgresql" else _stage_sqlite
    stage(conn, spec, data)
    result = merge_from_staging(conn, spec, _staging_name(spec), mode, data.num_rows)
    conn.exec_driver_sql(f"DROP TABLE IF EXISTS {_staging_name(spec)}")
    return result


def _load_postgres(
    conn: sa.Connection, spec: TableSpec, data: pa.Table, mode: LoadMode
) -> TableLoad:
    """COPY into an empty target, or send only the rows whose fingerprint changed."""
    if mode is LoadMode.RECONCILE:
        return _load_full(conn, spec, data, mode)
    prints = fingerprints.fingerprint(spec, data)
    if pc.count_distinct(prints["key_hash"]).as_py() != data.num_rows:  # a 64-bit collision
        return _load_full(conn, spec, data, mode)
    empty = not conn.exec_driver_sql(f"SELECT EXISTS (SELECT 1 FROM {_q(spec.name)})").scalar()
    if empty:
        copy_postgres(conn, _q(spec.name), spec.column_names, data)
        fingerprints.remember(conn, spec, prints)
        logger.info("%s: %d rows copied into the empty table", spec.name, data.num_rows)
        return TableLoad(data.num_rows, data.num_rows, 0)
    old = fingerprints.stored(conn, spec)
    if old is None:
        result = _load_full(conn, spec, data, mode)
        fingerprints.remember(conn, spec, prints)  # the target now holds at least these rows
        return result
    changed, merged, stale = fingerprints.compare(old, prints)
    subset = data.filter(changed.column("changed"))
    _create_staging(conn, spec)
    _stage_postgres(conn, spec, subset)
    upserted = conn.exec_driver_sql(merge_sql(spec, _staging_name(spec))).rowcount
    conn.exec_driver_sql(f"DROP TABLE IF EXISTS {_staging_name(spec)}")
    deleted = 0
    if mode is LoadMode.SYNC:
        merged = prints
        if stale:
            keys = f"keys_{spec.name}"
            key_cols = ", ".join(_q(k) for k in spec.key)
            conn.exec_driver_sql(
                f"CREATE TEMP TABLE {keys} ON COMMIT DROP AS "
                f"SELECT {key_cols} FROM {_q(spec.name)} WHERE false"
            )
            copy_postgres(conn, keys, list(spec.key), data)
            deleted = conn.exec_driver_sql(delete_missing_sql(spec, keys)).rowcount
    fingerprints.remember(conn, spec, merged)
    logger.info(
        "%s: %d rows offered, %d sent as changed, %d inserted or changed, %d deleted",
        spec.name,
        data.num_rows,
        subset.num_rows,
        upserted,
        deleted,
    )
    return TableLoad(data.num_rows, upserted, deleted)


def conform(spec: TableSpec, table: pa.Table) -> pa.Table:
    """Select and cast ``table`` to the canonical schema of ``spec`` (fails on missing columns)."""
    missing = [c for c in spec.column_names if c not in table.column_names]
    if missing:
        raise LoadError(f"{spec.name}: missing columns {missing}")
    try:
        data = table.select(spec.column_names).cast(arrow_schema(spec))
    except (ValueError, pa.ArrowInvalid) as exc:
        raise LoadError(f"{spec.name}: rows do not fit the canonical schema: {exc}") from exc
    counts = data.group_by(list(spec.key)).aggregate([([], "count_all")])
    dupes = counts.filter(pc.greater(counts["count_all"], 1))
    if dupes.num_rows:
        sample = dupes.slice(0, 3).drop_columns(["count_all"]).to_pylist()
        raise LoadError(f"{spec.name}: {dupes.num_rows} duplicate keys {spec.key}, e.g. {sample}")
    return data


def connect(engine: sa.Engine) -> sa.Connection:
    """A connection to ``engine``; StoreUnavailableError names the target when it is down."""
    try:
        return engine.connect()
    except sa.exc.OperationalError as exc:
        raise unreachable(engine, exc) from exc


class TableWriter(Protocol):
    """How one engine's frames reach the database inside a load's transaction."""

    def prepare(self, frames: Mapping[str, Any]) -> None:
        """Work done before the transaction opens (e.g. executors filling staging tables)."""

    def merge(self, conn: sa.Connection, spec: TableSpec, frame: Any, mode: LoadMode) -> TableLoad:
        """Merge ``frame`` into the target of ``spec`` by ``mode``, in ``conn``'s transaction.

        Returns:
            Rows offered, upserted (inserted or changed) and deleted.
        """

    def cleanup(self) -> None:
        """Remove what ``prepare`` left behind; called after commit or rollback."""


@dataclass
class ArrowWriter:
    """Stages Arrow tables from this process (COPY or batched inserts) and merges them."""

    to_arrow: Callable[[Any], pa.Table] = field(default=lambda frame: frame)

    def prepare(self, frames: Mapping[str, Any]) -> None:
        return None

    def merge(self, conn: sa.Connection, spec: TableSpec, frame: Any, mode: LoadMode) -> TableLoad:
        data = conform(spec, self.to_arrow(frame))
        load = _load_postgres if conn.dialect.name == "postgresql" else _load_full
        return load(conn, spec, data, mode)

    def cleanup(self) -> None:
        return None


@dataclass
class OpenLoad:
    """A database load whose rows are written and whose transaction is still open.

    ``commit`` makes every table's change visible at once; ``rollback`` leaves the previous
    state. Either closes the connection and cleans up after the writer.
    """

    conn: sa.Connection
    transaction: sa.RootTransaction
    writer: TableWriter
    results: dict[str, TableLoad]

    def commit(self) -> None:
        try:
            self.transaction.commit()
        except sa.exc.DBAPIError as exc:
            raise LoadError(f"load failed, previous data kept: {exc.orig}") from exc
        finally:
            self._close()

    def rollback(self) -> None:
        try:
            self.transaction.rollback()
        except sa.exc.DBAPIError as exc:  # the server is gone: it rolled back by itself
            logger.warning("rollback failed (the database dropped the transaction): %s", exc)
        finally:
            self._close()

    def _close(self) -> None:
        self.conn.close()
        self.writer.cleanup()


def begin_load(
    engine: sa.Engine,
    frames: Mapping[str, Any],
    writer: TableWriter | None = None,
    modes: Mapping[str, LoadMode] | None = None,
) -> OpenLoad:
    """Write ``frames`` (keyed by canonical table name) in one open transaction.

    Args:
        engine: a SQLite or PostgreSQL engine whose schema is migrated to head.
        frames: the tables, as frames ``writer`` can write (Arrow for the default writer).
        writer: the engine's way to the database (default: Arrow from this process).
        modes: overrides of the tables' own ``TableSpec.load_mode``.

    Returns:
        The open load, to ``commit`` or ``rollback``; on failure nothing is kept.
    """
    writer = writer or ArrowWriter()
    overrides = modes or {}
    try:
        writer.prepare(frames)
        conn = connect(engine)
    except BaseException:
        writer.cleanup()
        raise
    transaction = conn.begin()
    opened = OpenLoad(conn, transaction, writer, {})
    try:
        for name, frame in frames.items():
            spec = TABLES_BY_NAME[name]
            mode = overrides.get(name, spec.load_mode or LoadMode.MERGE)
            opened.results[name] = writer.merge(conn, spec, frame, mode)
    except BaseException as exc:
        opened.rollback()
        if isinstance(exc, sa.exc.DBAPIError):
            raise LoadError(f"load failed, previous data kept: {exc.orig}") from exc
        raise
    return opened


def load_tables(
    engine: sa.Engine,
    tables: Mapping[str, pa.Table],
    modes: Mapping[str, LoadMode] | None = None,
) -> dict[str, TableLoad]:
    """Load Arrow ``tables`` (keyed by canonical name) in one transaction; all or nothing.

    Returns:
        Per table, rows offered, upserted (inserted or changed) and deleted.
    """
    opened = begin_load(engine, tables, modes=modes)
    opened.commit()
    return opened.results
