"""The standard engine: Arrow tables in this process, the shared SQL on an in-memory DuckDB."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import duckdb
import pyarrow as pa
import sqlalchemy as sa

from etl_service.src.db.lake import Lake, content_hash
from etl_service.src.db.loader import ArrowWriter, TableWriter
from etl_service.src.models.schemas import TableSpec
from etl_service.src.transforms.sql_runner import load_sql, sort_by_key


class DuckDbSession:
    """Runs SQL over Arrow tables registered by name, in one in-memory DuckDB."""

    name = "duckdb"

    def __init__(self) -> None:
        self._con = duckdb.connect()
        self._tables: dict[str, pa.Table] = {}

    def register(self, name: str, table: pa.Table | Any) -> None:
        self._con.register(name, table)
        self._tables[name] = table  # DuckDB reads the Arrow table lazily: keep it alive

    def materialize(self, transformation: str, as_name: str) -> None:
        self.register(as_name, self.query(load_sql(transformation)))

    def frame(self, name: str) -> pa.Table:
        return self._tables[name]

    def select(self, sql: str) -> pa.Table:
        return self.query(sql)

    def query(self, sql: str) -> pa.Table:
        return self._con.sql(sql).to_arrow_table()

    def close(self) -> None:
        self._con.close()


class DuckDbEngine:
    """Arrow frames, DuckDB for the SQL, pyarrow for the lake, the Arrow loader for the DB."""

    name = "standard"

    def session(self) -> DuckDbSession:
        return DuckDbSession()

    def size_for(self, rows: int) -> None:
        return None

    def from_arrow(self, table: pa.Table) -> pa.Table:
        return table

    def to_arrow(self, frame: pa.Table) -> pa.Table:
        return frame

    def conform(self, spec: TableSpec, frame: pa.Table) -> pa.Table:
        return sort_by_key(spec, frame)  # key order makes the content hash stable

    def num_rows(self, frame: pa.Table) -> int:
        return int(frame.num_rows)

    def content_hash(self, frame: pa.Table) -> str:
        return content_hash(frame)

    def check(self, database: sa.Engine, lake: Lake) -> None:
        return None

    def write_parquet(
        self, lake: Lake, frame: pa.Table, folder: str, partition_by: Sequence[str]
    ) -> None:
        lake.write_arrow(frame, folder, partition_by)

    def database_writer(self, database: sa.Engine, run_id: str) -> TableWriter:
        return ArrowWriter()

    def close(self) -> None:
        return None
