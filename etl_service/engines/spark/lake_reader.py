"""Reading a lake table into Spark through the catalog, at any of its snapshots.

The catalog plans the snapshot's data files (pyiceberg) and Spark reads them as Parquet in
the table's schema, so no Iceberg runtime jar is needed; the lake writes no delete files,
so the snapshot's rows are exactly its files' rows. On AWS Glue 5, Iceberg's own Spark
runtime reads the same tables natively (see the README's "On Spark").
"""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING

from etl_service.engines.spark.sql import spark_errors, spark_schema_of
from etl_service.src.db.lake import Lake
from etl_service.src.models.schemas import Zone

if TYPE_CHECKING:
    from pyspark.sql import DataFrame, SparkSession


def read_lake_table(
    spark: SparkSession, lake: Lake, zone: Zone, name: str, when: datetime | None = None
) -> DataFrame:
    """The rows of a lake table as of ``when`` (now when None), as a DataFrame."""
    schema = spark_schema_of(lake.load(zone, name).schema().as_arrow())
    uris = lake.data_file_uris(zone, name, when)
    with spark_errors(f"reading {name} from the lake"):
        if not uris:
            return spark.createDataFrame([], schema)
        return spark.read.schema(schema).parquet(*uris)
