"""The Spark engine: the shared SQL on Spark SQL, DataFrames all the way to the stores.

Everything Spark-specific lives in this package: the session (``session``), Arrow↔Spark
conversion and the SQL session (``sql``), the lake writer (``lake_writer``), the JDBC load
(``jdbc``) and bulk SEC Financial Statement Data Sets (``fsds``). PySpark is imported only
when an engine is built.
"""

from __future__ import annotations

import weakref
from collections.abc import Sequence
from typing import TYPE_CHECKING

import pyarrow as pa
import sqlalchemy as sa

from etl_service.engines.spark.lake_writer import content_digest
from etl_service.engines.spark.lake_writer import write_parquet as spark_write_parquet
from etl_service.engines.spark.session import size_shuffle_partitions
from etl_service.engines.spark.sql import (
    SparkSqlSession,
    has_native_arrow,
    spark_errors,
    spark_schema_of,
    to_arrow,
    to_spark,
)
from etl_service.errors import ConfigError
from etl_service.settings import SparkSettings
from etl_service.src.db.lake import Lake
from etl_service.src.db.loader import ArrowWriter, TableWriter
from etl_service.src.models.schemas import TableSpec, arrow_schema

if TYPE_CHECKING:
    from pyspark.sql import DataFrame, SparkSession


class SparkEngine:
    """DataFrames on a given SparkSession; the session's lifetime is the caller's."""

    name = "spark"

    def __init__(
        self, spark: SparkSession, settings: SparkSettings, native_arrow: bool | None = None
    ) -> None:
        self.spark = spark
        self.settings = settings
        self.native = has_native_arrow() if native_arrow is None else native_arrow
        # A count is a Spark job; the sinks and the report ask for the same frames' counts.
        self._counts: weakref.WeakKeyDictionary[DataFrame, int] = weakref.WeakKeyDictionary()

    def session(self) -> SparkSqlSession:
        return SparkSqlSession(self.spark, self.native)

    def size_for(self, rows: int) -> None:
        size_shuffle_partitions(self.spark, rows, self.settings.shuffle_partitions)

    def from_arrow(self, table: pa.Table) -> DataFrame:
        return to_spark(self.spark, table, self.native)

    def to_arrow(self, frame: DataFrame) -> pa.Table:
        return to_arrow(frame, self.native)

    def conform(self, spec: TableSpec, frame: DataFrame) -> DataFrame:
        """The canonical columns, cast to their Spark types, computed once (no sort: the
        digest and the stores do not depend on row order)."""
        fields = spark_schema_of(arrow_schema(spec)).fields
        columns = [frame[f"`{f.name}`"].cast(f.dataType).alias(f.name) for f in fields]
        with spark_errors(f"conforming {spec.name}"):
            return frame.select(*columns).localCheckpoint()

    def num_rows(self, frame: DataFrame) -> int:
        if frame not in self._counts:
            with spark_errors("counting rows"):
                self._counts[frame] = int(frame.count())
        return self._counts[frame]

    def content_hash(self, frame: DataFrame) -> str:
        return content_digest(frame)

    def check(self, database: sa.Engine, lake: Lake) -> None:
        """Fail before any work when the JDBC driver jar is missing."""
        if database.dialect.name == "postgresql" and not self.settings.jdbc_jar.is_file():
            raise ConfigError(
                f"the PostgreSQL JDBC driver {self.settings.jdbc_jar} does not exist: install "
                "libpostgresql-jdbc-java or set ETL_SPARK__JDBC_JAR"
            )

    def write_parquet(
        self, lake: Lake, frame: DataFrame, folder: str, partition_by: Sequence[str]
    ) -> None:
        spark_write_parquet(lake, frame, folder, partition_by, self.num_rows(frame))

    def database_writer(self, database: sa.Engine, run_id: str) -> TableWriter:
        """PostgreSQL through Spark JDBC; SQLite (no JDBC driver here) from the driver."""
        if database.dialect.name != "postgresql":
            return ArrowWriter(to_arrow=self.to_arrow)
        from etl_service.engines.spark.jdbc import JdbcWriter

        return JdbcWriter(database, run_id)

    def close(self) -> None:
        return None
