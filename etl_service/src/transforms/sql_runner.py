"""Load the shared SQL definitions and run them on DuckDB over Arrow tables.

Each ``sql/<name>.sql`` file is one transformation. It reads the input tables by name and
must stay in the SQL subset that both DuckDB and Spark SQL (3.5 and 4.x) accept; the Spark
engine runs the same text over temporary views.
"""

from __future__ import annotations

from functools import cache
from importlib import resources

import duckdb
import pyarrow as pa


@cache
def load_sql(name: str) -> str:
    """The text of the shared transformation ``name``."""
    return (resources.files("etl_service.src.transforms") / "sql" / f"{name}.sql").read_text()


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


class DuckDbEngine:
    """Runs SQL over Arrow tables registered by name, in one in-memory DuckDB."""

    name = "duckdb"

    def __init__(self) -> None:
        self._con = duckdb.connect()
        self._tables: dict[str, pa.Table] = {}

    def register(self, name: str, table: pa.Table) -> None:
        self._con.register(name, table)
        self._tables[name] = table  # DuckDB reads the Arrow table lazily: keep it alive

    def query(self, sql: str) -> pa.Table:
        return self._con.sql(sql).to_arrow_table()

    def materialize(self, transformation: str, as_name: str) -> None:
        """Run the shared transformation and register its result as ``as_name``."""
        self.register(as_name, self.query(load_sql(transformation)))

    def fetch(self, name: str) -> pa.Table:
        return self._tables[name]

    def close(self) -> None:
        self._con.close()
