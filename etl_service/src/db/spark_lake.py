"""Writing lake versions with Spark, published by the same manifest commit as ``Lake``.

Spark writes the Parquet files of a table (hive-partitioned like the Arrow writer) into the
new version folder; ``Lake.stage_written`` keeps it invisible until ``Lake.commit``. The
version's content hash is the Arrow table's, so an unchanged table is not written again.
The executors write the folder themselves, so on a cluster of several hosts the lake must
be on storage they all share.
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING

import pyarrow as pa
import pyarrow.fs as pafs

from etl_service.errors import ConfigError, LoadError
from etl_service.src.adapters.spark_session import describe, spark_failures
from etl_service.src.db.lake import Lake, Staged, Zone, content_hash
from etl_service.src.transforms.spark_engine import to_spark

if TYPE_CHECKING:
    from pyspark.sql import SparkSession

ROWS_PER_FILE = 1_000_000


def check_spark_writable(lake: Lake) -> None:
    """Fail before any work when Spark cannot write this lake (only local folders here)."""
    if not isinstance(lake.fs, pafs.LocalFileSystem):
        raise ConfigError(
            f"the Spark pipeline writes lakes on a local or shared folder, not {lake.uri}"
        )


def stage_with_spark(
    lake: Lake,
    spark: SparkSession,
    zone: Zone,
    name: str,
    table: pa.Table,
    partition_by: list[str] | None = None,
    native_arrow: bool | None = None,
) -> Staged:
    """Stage ``table`` as a new lake version written by Spark (nothing if it is unchanged)."""
    check_spark_writable(lake)
    files = max(1, math.ceil(table.num_rows / ROWS_PER_FILE))

    def write(folder: str) -> None:
        frame = to_spark(spark, table, native_arrow)
        try:
            if partition_by:
                frame = frame.repartition(files, *partition_by)
                writer = frame.write.mode("errorifexists").partitionBy(*partition_by)
            else:
                writer = frame.coalesce(files).write.mode("errorifexists")
            writer.parquet(f"file://{folder}")  # Hadoop does not decode %-escapes
        except spark_failures() as exc:
            raise LoadError(
                f"Spark could not write {name} to the lake {lake.uri}: {describe(exc)}"
            ) from exc

    return lake.stage_written(zone, name, content_hash(table), table.num_rows, write, partition_by)
