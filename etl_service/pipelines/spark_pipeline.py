"""The Spark pipeline: the standard pipeline's sources, SQL and gates, run on Spark.

Run it with ``etl-service run --engine spark [--spark-mode MASTER]`` or
``python -m etl_service.pipelines.spark_pipeline --spark-mode local[*]|spark://HOST:PORT``
(``--help`` lists every option).

Curation and the quality rules run the shared SQL on Spark SQL; the lake versions are
written by Spark; PostgreSQL is loaded through Spark JDBC into per-run staging tables and
merged in one transaction by the loader's statements. A SQLite database has no JDBC driver
here, so it is loaded from the driver by the Arrow loader, in one transaction as well.
"""

from __future__ import annotations

import sys
from typing import TYPE_CHECKING

import pyarrow as pa
import sqlalchemy as sa

from etl_service.errors import ConfigError
from etl_service.pipelines.base_pipeline import RunContext
from etl_service.pipelines.curation_pipeline import LOAD_MODES, CurationPipeline
from etl_service.settings import SparkSettings
from etl_service.src.adapters.sources import Sources
from etl_service.src.adapters.spark_session import size_shuffle_partitions
from etl_service.src.db.lake import Lake, Staged, Zone
from etl_service.src.db.loader import TableLoad, load_tables
from etl_service.src.db.spark_lake import check_spark_writable, stage_with_spark
from etl_service.src.db.spark_loader import load_tables_jdbc
from etl_service.src.transforms.curate import Curated, SourceTables
from etl_service.src.transforms.spark_engine import SparkSqlEngine

if TYPE_CHECKING:
    from pyspark.sql import SparkSession


def check_prerequisites(settings: SparkSettings, engine: sa.Engine, lake: Lake) -> None:
    """Fail before any work when the JDBC driver jar is missing or Spark cannot write the lake."""
    if engine.dialect.name == "postgresql" and not settings.jdbc_jar.is_file():
        raise ConfigError(
            f"the PostgreSQL JDBC driver {settings.jdbc_jar} does not exist: install "
            "libpostgresql-jdbc-java or set ETL_SPARK__JDBC_JAR"
        )
    check_spark_writable(lake)


class SparkETLPipeline(CurationPipeline):
    """Extract from the sources, curate and gate on Spark SQL, load DB and lake with Spark."""

    engine_name = "spark"

    def __init__(
        self,
        context: RunContext,
        sources: Sources,
        lake: Lake,
        spark: SparkSession,
        native_arrow: bool | None = None,
    ) -> None:
        super().__init__(context, sources, lake)
        self.spark = spark
        self.native_arrow = native_arrow

    def transform(self, raw: SourceTables) -> Curated:
        inputs = (raw.companies, raw.changes, raw.financials)
        rows = sum(e.table.num_rows for e in (*inputs, raw.closes))
        size_shuffle_partitions(self.spark, rows, self.context.settings.spark.shuffle_partitions)
        return super().transform(raw)

    def sql_engine(self) -> SparkSqlEngine:
        return SparkSqlEngine(self.spark, self.native_arrow)

    def stage_table(
        self, zone: Zone, name: str, table: pa.Table, partition_by: list[str] | None
    ) -> Staged:
        return stage_with_spark(
            self.lake, self.spark, zone, name, table, partition_by, self.native_arrow
        )

    def load_database(self, tables: dict[str, pa.Table]) -> dict[str, TableLoad]:
        """PostgreSQL through Spark JDBC; SQLite (no JDBC driver here) by the Arrow loader."""
        engine = self.context.engine
        if engine.dialect.name != "postgresql":
            return load_tables(engine, tables, LOAD_MODES)
        return load_tables_jdbc(
            self.spark, engine, tables, LOAD_MODES, self.context.run_id, self.native_arrow
        )


if __name__ == "__main__":
    from etl_service.cli.module_entry import module_main

    sys.exit(module_main("spark", "python -m etl_service.pipelines.spark_pipeline"))
