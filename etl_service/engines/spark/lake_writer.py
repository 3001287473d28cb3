"""Writing lake versions from Spark DataFrames, and their content digest, on the executors.

Spark writes the Parquet files of a table (hive-partitioned like the Arrow writer) into the
new version folder; ``Lake.stage_written`` keeps it invisible until ``Lake.commit``. No row
reaches the driver: the digest that decides whether a table changed is computed by the
executors too. The executors write the folder themselves, so on a cluster of several
hosts the lake must be on storage they all share.
"""

from __future__ import annotations

import hashlib
import math
from collections.abc import Sequence
from typing import TYPE_CHECKING

import pyarrow.fs as pafs

from etl_service.engines.spark.session import describe, spark_failures
from etl_service.engines.spark.sql import spark_errors
from etl_service.errors import ConfigError, LoadError
from etl_service.src.db.lake import Lake

if TYPE_CHECKING:
    from pyspark.sql import DataFrame

ROWS_PER_FILE = 1_000_000
DIGEST_VERSION = "spark-xxhash64-murmur3-sum-v2"


def check_spark_writable(lake: Lake) -> None:
    """Fail before any work when Spark cannot write this lake (only local folders here)."""
    if not isinstance(lake.fs, pafs.LocalFileSystem):
        raise ConfigError(
            f"the Spark pipeline writes lakes on a local or shared folder, not {lake.uri}"
        )


def content_digest(frame: DataFrame) -> str:
    """An order-independent digest of ``frame``'s schema and rows, computed by the executors.

    Each row is hashed twice (xxhash64 and murmur3, independent functions); the digest holds
    the row count and both sums (exact, as decimals), so equal content gives an equal digest
    in any partitioning and order, and a changed row changes both sums.
    """
    from pyspark.sql import functions as sf

    columns = [sf.col(f"`{name}`") for name in frame.columns]
    # Spark's row hashes skip nulls, so (null, 1) and (1, null) would hash alike: a bitmap
    # of the nulls goes into each hash.
    nulls = sf.concat(*[c.isNull().cast("int").cast("string") for c in columns])
    columns.append(nulls)
    sums = frame.select(
        sf.xxhash64(*columns).cast("decimal(38,0)").alias("x"),
        sf.hash(*columns).cast("decimal(38,0)").alias("m"),
    ).agg(sf.count(sf.lit(1)).alias("n"), sf.sum("x").alias("x"), sf.sum("m").alias("m"))
    with spark_errors("the content digest"):
        row = sums.collect()[0]
    schema = hashlib.sha256(frame.schema.json().encode()).hexdigest()[:16]
    return f"{DIGEST_VERSION}:{schema}:{row['n']}:{row['x'] or 0}:{row['m'] or 0}"


def write_parquet(
    lake: Lake, frame: DataFrame, folder: str, partition_by: Sequence[str], rows: int
) -> None:
    """Write ``frame`` (``rows`` rows) as Parquet files into the new folder ``folder``."""
    check_spark_writable(lake)
    files = max(1, math.ceil(rows / ROWS_PER_FILE))
    try:
        if partition_by:
            frame = frame.repartition(files, *partition_by)
            writer = frame.write.mode("errorifexists").partitionBy(*partition_by)
        else:
            writer = frame.coalesce(files).write.mode("errorifexists")
        writer.parquet(f"file://{folder}")  # Hadoop does not decode %-escapes
    except spark_failures() as exc:
        raise LoadError(f"Spark could not write {folder} in {lake.uri}: {describe(exc)}") from exc
