"""Loading canonical tables into PostgreSQL through Spark JDBC, merged like the Arrow loader.

Spark's executors write each table over JDBC into a regular staging table named after the
run (a temporary table belongs to one connection, and every executor task opens its own).
One transaction on the driver then runs the loader's own merge and delete statements from
those staging tables, so the targets change all at once or not at all; the staging tables
are dropped afterwards, on failure too; those of a killed run are dropped by the next load.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import sqlalchemy as sa

from etl_service.engines.spark.session import describe, is_connection_failure, spark_failures
from etl_service.errors import ConfigError, LoadError, StoreUnavailableError
from etl_service.src.db.loader import TableLoad, connect, merge_from_staging
from etl_service.src.models.schemas import TABLES_BY_NAME, LoadMode, TableSpec

if TYPE_CHECKING:
    from pyspark.sql import DataFrame

logger = logging.getLogger(__name__)

JDBC_BATCH_ROWS = 10_000
JDBC_CONNECT_TIMEOUT_S = 10


@dataclass(frozen=True)
class JdbcTarget:
    """A JDBC URL and its connection properties (the password is one of them: never log)."""

    url: str
    properties: dict[str, str] = field(repr=False)


def jdbc_target(url: sa.URL) -> JdbcTarget:
    """The PostgreSQL JDBC target of a SQLAlchemy URL (query parameters become properties)."""
    if url.get_backend_name() != "postgresql":
        raise ConfigError(f"Spark JDBC loads need PostgreSQL, not {url.get_backend_name()}")
    host = f"[{url.host}]" if url.host and ":" in url.host else url.host or "localhost"
    properties = {
        "driver": "org.postgresql.Driver",
        # Untyped string parameters let PostgreSQL cast text into json columns.
        "stringtype": "unspecified",
        "reWriteBatchedInserts": "true",
        "connectTimeout": str(JDBC_CONNECT_TIMEOUT_S),
    }
    properties.update({k: v for k, v in url.query.items() if isinstance(v, str)})
    if url.username:
        properties["user"] = url.username
    if url.password is not None:
        properties["password"] = str(url.password)
    return JdbcTarget(f"jdbc:postgresql://{host}:{url.port or 5432}/{url.database}", properties)


def _q(name: str) -> str:
    return f'"{name}"'


def staging_names(run_id: str, tables: Iterable[str]) -> dict[str, str]:
    """The run's staging table per target (PostgreSQL names stay under 63 characters)."""
    return {name: f"stg_{run_id[:12]}_{name}" for name in tables}


def _leftover_staging(conn: sa.Connection) -> list[str]:
    """Staging tables of runs that are over (a killed run cannot drop its own)."""
    runs = conn.execute(sa.text("SELECT run_id FROM pipeline_runs WHERE status <> 'running'"))
    over = {str(row[0])[:12] for row in runs}
    existing = conn.execute(
        sa.text("SELECT tablename FROM pg_tables WHERE schemaname = current_schema()")
    )
    staging = {name for run in over for name in staging_names(run, TABLES_BY_NAME).values()}
    return sorted(name for name in map(str, existing.scalars()) if name in staging)


def _drop_staging(engine: sa.Engine, staging: Iterable[str]) -> None:
    try:
        with engine.begin() as conn:
            for name in staging:
                conn.exec_driver_sql(f"DROP TABLE IF EXISTS {_q(name)}")
    except sa.exc.SQLAlchemyError as exc:
        logger.warning("could not drop the staging tables %s: %s", sorted(staging), exc)


def _write_jdbc(frame: DataFrame, target: JdbcTarget, staging: str) -> None:
    try:
        (
            frame.write.format("jdbc")
            .option("url", target.url)
            .option("dbtable", _q(staging))
            .option("batchsize", str(JDBC_BATCH_ROWS))
            .options(**target.properties)
            .mode("append")
            .save()
        )
    except spark_failures() as exc:
        error = StoreUnavailableError if is_connection_failure(exc) else LoadError
        raise error(
            f"Spark JDBC could not write {staging} to {target.url}, previous data kept: "
            f"{describe(exc)}"
        ) from exc


class JdbcWriter:
    """A ``TableWriter``: executors fill per-run staging tables, the driver merges them.

    ``prepare`` creates and fills the staging tables in transactions of their own (the
    executors' connections); ``merge`` runs the loader's merge from them inside the load's
    transaction; ``cleanup`` drops them, after commit or rollback alike.
    """

    def __init__(self, engine: sa.Engine, run_id: str) -> None:
        self.engine = engine
        self.target = jdbc_target(engine.url)
        self.run_id = run_id
        self.staging: dict[str, str] = {}
        self.rows: dict[str, int] = {}

    def prepare(self, frames: Mapping[str, Any]) -> None:
        self.staging = staging_names(self.run_id, frames)
        try:
            with connect(self.engine) as conn, conn.begin():
                for leftover in _leftover_staging(conn):
                    logger.warning("dropping %s, left by a run that did not finish", leftover)
                    conn.exec_driver_sql(f"DROP TABLE {_q(leftover)}")
                for name, stg in self.staging.items():
                    conn.exec_driver_sql(f"DROP TABLE IF EXISTS {_q(stg)}")
                    conn.exec_driver_sql(f"CREATE UNLOGGED TABLE {_q(stg)} (LIKE {_q(name)})")
        except sa.exc.DBAPIError as exc:
            raise LoadError(f"load failed, previous data kept: {exc.orig}") from exc
        for name, frame in frames.items():
            columns = TABLES_BY_NAME[name].column_names
            _write_jdbc(frame.select(*[f"`{c}`" for c in columns]), self.target, self.staging[name])

    def merge(self, conn: sa.Connection, spec: TableSpec, frame: Any, mode: LoadMode) -> TableLoad:
        staging = self.staging[spec.name]
        offered = int(conn.exec_driver_sql(f"SELECT COUNT(*) FROM {_q(staging)}").scalar_one())
        return merge_from_staging(conn, spec, staging, mode, offered)

    def cleanup(self) -> None:
        _drop_staging(self.engine, self.staging.values())
