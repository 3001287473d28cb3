"""Writing lake tables' Parquet files from Spark DataFrames, and their content digest.

Spark writes the files of a table into the staged folder; the lake commits them to the
Iceberg table through pyiceberg (``Lake.commit``), as ``add_files`` does. No row reaches
the driver: the digest that decides whether a table changed is computed by the executors.
A partitioned table is written with a copy of each partition column as the Spark
partition, so every file holds one partition value and keeps the column itself.

A local lake is written in place. Without the Hadoop S3 connector (not bundled with
PySpark), an ``s3://`` lake is written to a local folder and uploaded from the driver, so
the executors and the driver must share that folder (local mode). On AWS Glue 5 the native
path is Iceberg's own Spark runtime: see the README's "On Spark".
"""

from __future__ import annotations

import hashlib
import math
import shutil
import tempfile
from collections.abc import Sequence
from typing import TYPE_CHECKING

from etl_service.engines.spark.session import describe, spark_failures
from etl_service.engines.spark.sql import spark_errors
from etl_service.errors import LoadError
from etl_service.src.db.lake import Lake

if TYPE_CHECKING:
    from pyspark.sql import DataFrame

ROWS_PER_FILE = 1_000_000
DIGEST_VERSION = "spark-xxhash64-murmur3-sum-v2"
PARTITION_COPY = "{}__partition"


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
    lake: Lake,
    frame: DataFrame,
    folder: str,
    partition_by: Sequence[str],
    rows: int,
    direct: bool = False,
) -> None:
    """Write ``frame`` (``rows`` rows) as Parquet files into the new folder URI ``folder``;
    ``direct``: the cluster writes any URI itself (AWS Glue and EMR write ``s3://``)."""
    files = max(1, math.ceil(rows / ROWS_PER_FILE))
    try:
        if direct or folder.startswith("file://"):
            _write(frame, folder, partition_by, files)  # Hadoop does not decode %-escapes
            return
        local = tempfile.mkdtemp(prefix="etl-spark-lake-")
        try:
            _write(frame, f"file://{local}/files", partition_by, files)
            lake.upload(f"{local}/files", folder)
        finally:
            shutil.rmtree(local, ignore_errors=True)
    except spark_failures() as exc:
        raise LoadError(f"Spark could not write {folder}: {describe(exc)}") from exc


def _write(frame: DataFrame, target: str, partition_by: Sequence[str], files: int) -> None:
    from pyspark.sql import functions as sf

    if partition_by:
        copies = [PARTITION_COPY.format(c) for c in partition_by]
        frame = frame.select(
            "*", *[sf.col(f"`{c}`").alias(k) for c, k in zip(partition_by, copies, strict=True)]
        )
        writer = frame.repartition(files, *copies).write.mode("errorifexists").partitionBy(*copies)
    else:
        writer = frame.coalesce(files).write.mode("errorifexists")
    writer.parquet(target)
