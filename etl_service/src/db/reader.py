"""Reading canonical tables back from the database as Arrow, all from one snapshot."""

from __future__ import annotations

from collections.abc import Sequence

import pyarrow as pa
import sqlalchemy as sa

from etl_service.src.db.loader import connect
from etl_service.src.db.tables import TABLES
from etl_service.src.models.schemas import TableSpec, arrow_schema

BATCH_ROWS = 50_000


def read_tables(engine: sa.Engine, specs: Sequence[TableSpec]) -> dict[str, pa.Table]:
    """Every row of each table in ``specs``, typed by its canonical schema.

    The tables are read in one transaction (REPEATABLE READ on PostgreSQL; SQLite's reads
    are snapshots), so a load committing meanwhile is seen in all of them or in none.

    Raises:
        StoreUnavailableError: the database cannot be reached.
    """
    conn = connect(engine)
    if engine.dialect.name == "postgresql":
        conn = conn.execution_options(isolation_level="REPEATABLE READ")
    with conn, conn.begin():
        return {spec.name: _read(conn, spec) for spec in specs}


def _read(conn: sa.Connection, spec: TableSpec) -> pa.Table:
    table, schema = TABLES[spec.name], arrow_schema(spec)
    query = sa.select(*(table.c[name] for name in spec.column_names))
    result = conn.execution_options(yield_per=BATCH_ROWS).execute(query)
    batches = [
        pa.RecordBatch.from_pylist([row._asdict() for row in part], schema=schema)
        for part in result.partitions()
    ]
    return pa.Table.from_batches(batches, schema=schema)
