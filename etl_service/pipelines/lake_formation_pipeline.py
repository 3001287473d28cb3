"""The Lake Formation pipeline: the Spark pipeline on an S3 lake in Glue, governed.

Run it with ``python -m etl_service.pipelines.lake_formation_pipeline`` (``--help`` lists
every option) or ``etl-service run --pipeline lake_formation``; build it in code with
``etl_service.pipelines.compose.build_pipeline(settings, pipeline="lake_formation")``.

The path: the sources land their raw payloads in the lake's S3 raw zone; the shared
transformations and quality gates run on Spark; the curated and processed tables are
committed as Iceberg tables in S3, registered in the Glue Data Catalog; right after that
commit the lake's Lake Formation governance (``etl_service.aws.lake_formation``) is applied,
or only checked (``--dry-run-governance``), so new tables carry their LF-tags at once; then
every other configured sink (``ETL_SINKS`` named before ``lake``, e.g. ``snowflake``)
commits, as in every run.
"""

from __future__ import annotations

import sys

from etl_service.errors import ConfigError
from etl_service.pipelines.curation_pipeline import CurationPipeline
from etl_service.settings import Settings

GOVERNANCE_SINK = "lake_formation"


class PySparkLakeFormationETL(CurationPipeline):
    """The main job on Spark, into an S3 lake in Glue governed by Lake Formation."""

    @classmethod
    def configure(cls, settings: Settings) -> Settings:
        """Spark, and the governance step committed right after the lake (unless skipped).

        Raises:
            ConfigError: the lake is not on S3, the catalog not Glue, or no lake sink.
        """
        if not settings.lake_uri.startswith("s3://") or settings.catalog.type != "glue":
            raise ConfigError(
                "the lake_formation pipeline needs an s3:// lake (ETL_LAKE_URI, "
                f"{settings.lake_uri}) in the Glue catalog (ETL_CATALOG__TYPE=glue, "
                f"{settings.catalog.type})"
            )
        sinks = [s for s in settings.sinks if s != GOVERNANCE_SINK]
        if "lake" not in sinks:
            raise ConfigError(
                f"the lake_formation pipeline needs the lake sink (ETL_SINKS={sinks})"
            )
        if settings.lake_formation.governance != "skip":
            sinks.insert(sinks.index("lake"), GOVERNANCE_SINK)  # commits right after the lake
        return settings.model_copy(update={"engine": "spark", "sinks": tuple(sinks)})


if __name__ == "__main__":
    from etl_service.cli.module_entry import module_main

    sys.exit(
        module_main(
            "spark",
            "python -m etl_service.pipelines.lake_formation_pipeline",
            pipeline="lake_formation",
        )
    )
