"""``etl-service glue run-local``: the Glue job script on local Spark, with awsglue's local
stand-in, the lake as its catalog and the configured database as its Glue connection."""

from __future__ import annotations

from contextlib import ExitStack
from typing import TYPE_CHECKING

from etl_service.aws.glue.api import load
from etl_service.aws.glue.glue_job import CONNECTION_OPTION, GlueS3ETLPipeline
from etl_service.engines.spark.lake_reader import read_lake_table
from etl_service.engines.spark.session import spark_session
from etl_service.errors import ConfigError
from etl_service.pipelines.compose import build_lake
from etl_service.settings import Settings
from etl_service.src.db.lake.tables import LAKE_ZONES

if TYPE_CHECKING:
    from pyspark.sql import SparkSession


def job_arguments(settings: Settings) -> list[str]:
    """The arguments Glue would pass the deployed job, for these settings."""
    argv = [
        "glue_job.py",
        "--JOB_NAME",
        settings.glue.job_name,
        "--lake_uri",
        settings.lake_uri,
        "--catalog_namespace",
        settings.catalog.namespace,
        "--source_mode",
        str(settings.source),
        "--job-bookmark-option",
        "job-bookmark-enable",
        "--TempDir",
        str((settings.data_dir / "glue-temp").resolve()),
    ]
    if settings.glue.connection_name:
        argv += [f"--{CONNECTION_OPTION}", settings.glue.connection_name]
    return argv


def run_local(settings: Settings, spark: SparkSession | None = None) -> GlueS3ETLPipeline:
    """Run the job once on ``spark`` or a new local Spark session (``ETL_SPARK__*``).

    Returns:
        The job after its run (``report``, ``new_raw_payloads``).

    Raises:
        ConfigError: AWS Glue's own awsglue is installed here (run the job in Glue).
    """
    glue = load()
    if glue.on_aws:
        raise ConfigError("awsglue is installed: this is AWS Glue, run the job there")
    lake = build_lake(settings)
    zones = {lake.namespace_of(zone): zone for zone in LAKE_ZONES}
    connections = {}
    if settings.glue.connection_name:
        url = settings.database_url_value.replace("postgresql+psycopg://", "postgresql://")
        connections[settings.glue.connection_name] = jdbc_conf(url)
    with ExitStack() as stack:
        if spark is None:
            app = f"{settings.glue.job_name} (local)"
            spark = stack.enter_context(spark_session(settings.spark, app_name=app))
        session = spark
        context = glue.GlueContext(
            session,
            catalog=lambda database, table: read_lake_table(session, lake, zones[database], table),
            connections=connections,
        )
        job = GlueS3ETLPipeline.from_arguments(job_arguments(settings), settings, context)
        job.run()
        return job


def jdbc_conf(url: str) -> dict[str, str]:
    """A Glue JDBC connection's configuration for a PostgreSQL SQLAlchemy URL."""
    import sqlalchemy as sa

    parsed = sa.make_url(url)
    if parsed.get_backend_name() != "postgresql":
        raise ConfigError("a Glue connection (ETL_GLUE__CONNECTION_NAME) needs PostgreSQL")
    port = parsed.port or 5432
    return {
        "url": f"jdbc:postgresql://{parsed.host}:{port}/{parsed.database}",
        "user": parsed.username or "",
        "password": str(parsed.password or ""),
        "vendor": "postgresql",
    }
