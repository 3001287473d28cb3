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
from typing import TYPE_CHECKING

import pyarrow as pa
import sqlalchemy as sa

from etl_service.errors import ConfigError, LoadError, StoreUnavailableError
from etl_service.src.adapters.spark_session import describe, is_connection_failure, spark_failures
from etl_service.src.db.loader import LoadMode, TableLoad, conform, connect, merge_from_staging
from etl_service.src.models.schemas import TABLES_BY_NAME
from etl_service.src.transforms.spark_engine import to_spark

if TYPE_CHECKING:
    from pyspark.sql import SparkSession

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


def _write_jdbc(
    spark: SparkSession, table: pa.Table, target: JdbcTarget, staging: str, native: bool | None
) -> None:
    frame = to_spark(spark, table, native)
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


def load_tables_jdbc(
    spark: SparkSession,
    engine: sa.Engine,
    tables: Mapping[str, pa.Table],
    modes: Mapping[str, LoadMode],
    run_id: str,
    native_arrow: bool | None = None,
) -> dict[str, TableLoad]:
    """Load ``tables`` into PostgreSQL through Spark JDBC and one merge transaction.

    Args:
        spark: the session whose executors write the staging tables.
        engine: the PostgreSQL engine (schema migrated to head) that runs the merge.
        tables: Arrow tables conforming to the canonical schemas, keyed by table name.
        modes: the load mode of each table (default MERGE).
        run_id: names the staging tables of this run.
        native_arrow: force or refuse Spark 4's Arrow conversion (default: detect).

    Returns:
        Per table, rows offered, upserted (inserted or changed) and deleted.
    """
    target = jdbc_target(engine.url)
    data = {name: conform(TABLES_BY_NAME[name], table) for name, table in tables.items()}
    staging = staging_names(run_id, data)
    try:
        with connect(engine) as conn, conn.begin():
            for leftover in _leftover_staging(conn):
                logger.warning("dropping %s, left by a run that did not finish", leftover)
                conn.exec_driver_sql(f"DROP TABLE {_q(leftover)}")
            for name, stg in staging.items():
                conn.exec_driver_sql(f"DROP TABLE IF EXISTS {_q(stg)}")
                conn.exec_driver_sql(f"CREATE UNLOGGED TABLE {_q(stg)} (LIKE {_q(name)})")
        for name, table in data.items():
            _write_jdbc(spark, table, target, staging[name], native_arrow)
        results: dict[str, TableLoad] = {}
        with connect(engine) as conn, conn.begin():
            for name, table in data.items():
                mode = modes.get(name, LoadMode.MERGE)
                results[name] = merge_from_staging(
                    conn, TABLES_BY_NAME[name], staging[name], mode, table.num_rows
                )
        return results
    except sa.exc.DBAPIError as exc:
        raise LoadError(f"load failed, previous data kept: {exc.orig}") from exc
    finally:
        _drop_staging(engine, staging.values())
