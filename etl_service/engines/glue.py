"""The Glue engine: the Spark engine on a Glue context's session, typed the Glue way.

It runs the shared SQL exactly as the Spark engine does (it is one), on
``glueContext.spark_session``. What differs: the canonical types are applied through
DynamicFrames (``ApplyMapping`` and ``ResolveChoice``, from the ``TableSpec``), the data-quality
rules can run through Glue's ``EvaluateDataQuality`` (``pipelines.glue_pipeline``), and on
AWS Glue the cluster writes ``s3://`` lake files itself and brings its own PostgreSQL JDBC
driver. Off AWS the awsglue names come from ``aws.glue.local``.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

import sqlalchemy as sa

from etl_service.aws.glue.api import load
from etl_service.aws.glue.types import apply_mapping, resolve_choice
from etl_service.engines.spark import SparkEngine
from etl_service.engines.spark.lake_writer import write_parquet
from etl_service.settings import SparkSettings
from etl_service.src.db.lake import Lake
from etl_service.src.models.schemas import TableSpec

if TYPE_CHECKING:
    from pyspark.sql import DataFrame, SparkSession


class GlueEngine(SparkEngine):
    """The Spark engine on a GlueContext built over the given session."""

    name = "glue"

    def __init__(self, spark: SparkSession, settings: SparkSettings) -> None:
        super().__init__(spark, settings)
        self.glue_api = load()
        self.glue = self.glue_api.GlueContext(spark.sparkContext)

    def dynamic_frame(self, frame: DataFrame, name: str) -> Any:
        """``frame`` as a DynamicFrame of this engine's GlueContext."""
        return self.glue_api.DynamicFrame.fromDF(frame, self.glue, name)

    def typed(self, spec: TableSpec, frame: Any, context: str) -> Any:
        """A DynamicFrame in ``spec``'s columns and types: ``ApplyMapping``, then
        ``ResolveChoice`` for any column read with mixed types."""
        mapped = self.glue_api.ApplyMapping.apply(
            frame=frame, mappings=apply_mapping(spec), transformation_ctx=f"{context}_mapped"
        )
        return self.glue_api.ResolveChoice.apply(
            frame=mapped, specs=resolve_choice(spec), transformation_ctx=f"{context}_resolved"
        )

    def conform(self, spec: TableSpec, frame: DataFrame) -> DataFrame:
        typed = self.typed(spec, self.dynamic_frame(frame, spec.name), spec.name).toDF()
        return super().conform(spec, typed)

    def check(self, database: sa.Engine, lake: Lake) -> None:
        """On AWS Glue the PostgreSQL driver is bundled; elsewhere as the Spark engine."""
        if not self.glue_api.on_aws:
            super().check(database, lake)

    def write_parquet(
        self, lake: Lake, frame: DataFrame, folder: str, partition_by: Sequence[str]
    ) -> None:
        direct = self.glue_api.on_aws  # Glue's S3 connector writes s3:// itself
        write_parquet(lake, frame, folder, partition_by, self.num_rows(frame), direct)
