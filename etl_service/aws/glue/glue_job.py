"""The AWS Glue job script (Glue 5.0: Spark 3.5, Python 3.11): the main job in AWS Glue.

``etl-service glue deploy`` uploads this file as the script of ``sp500-etl-job``, with the
project wheel in ``--additional-python-modules``; ``etl-service glue run-local`` runs the
same code on local Spark through ``aws.glue.local``. Its parameters (``getResolvedOptions``):

- ``--JOB_NAME`` (set by Glue), ``--lake_uri``, ``--catalog_namespace``, ``--source_mode``
  (``auto``, ``live`` or ``snapshot``);
- optionally ``--connection_name``: the Glue connection (JDBC) of the RDS/PostgreSQL
  database, whose URL and credentials become the run's database; without it, the run
  uses ``ETL_DATABASE_URL``;
- Glue's own: ``--job-bookmark-option`` and ``--TempDir``.

The run is the main job on the Glue engine (``pipelines.glue_pipeline``) built by the
composition root on the Glue context's SparkSession: bookmarked raw-zone reads, the shared
SQL, Glue Data Quality, then the lake (Iceberg tables in the Glue Data Catalog, committed
once the database has committed) and the database (JDBC staging and the loader's merge).
``Job.commit`` runs only after a successful run, so a failed run's payloads are read again.
Afterwards each curated table is read back from the catalog and its rows counted.
"""

from __future__ import annotations

import logging
import sys
import tempfile
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import sqlalchemy as sa
from pydantic import SecretStr

from etl_service.aws.glue.api import GlueApi, load
from etl_service.errors import ConfigError, LoadError
from etl_service.pipelines.base_pipeline import RunReport
from etl_service.pipelines.compose import build_pipeline
from etl_service.settings import Settings, SourceMode
from etl_service.src.models.schemas import CURATED_TABLES

logger = logging.getLogger(__name__)

JOB_OPTIONS = ("JOB_NAME", "lake_uri", "catalog_namespace", "source_mode")
"""The parameters every run has (the deployed job's default arguments)."""
CONNECTION_OPTION = "connection_name"


def resolve_arguments(glue: GlueApi, argv: Sequence[str]) -> dict[str, Any]:
    """The job's parameters; ``--connection_name`` only when it is given."""
    args = glue.getResolvedOptions(list(argv), list(JOB_OPTIONS))
    if f"--{CONNECTION_OPTION}" in argv:
        args |= glue.getResolvedOptions(list(argv), [CONNECTION_OPTION])
    return dict(args)


def database_url(jdbc: Mapping[str, str]) -> SecretStr:
    """The SQLAlchemy URL of a Glue JDBC connection's configuration (PostgreSQL only)."""
    raw = jdbc.get("fullUrl") or jdbc.get("url") or ""
    parts = urlsplit(raw.removeprefix("jdbc:"))
    if parts.scheme != "postgresql" or not parts.hostname:
        raise ConfigError(f"the Glue connection's JDBC URL {raw!r} is not a PostgreSQL URL")
    url = sa.URL.create(
        "postgresql",
        username=jdbc.get("user"),
        password=jdbc.get("password"),
        host=parts.hostname,
        port=parts.port,
        database=parts.path.strip("/") or None,
    )
    return SecretStr(url.render_as_string(hide_password=False))


def job_settings(
    base: Settings, args: Mapping[str, Any], glue_context: Any, on_aws: bool
) -> Settings:
    """``base`` with what the job's parameters (and its Glue connection) say."""
    lake_uri = str(args["lake_uri"])
    catalog = base.catalog.model_copy(
        update={
            "namespace": str(args["catalog_namespace"]),
            "type": "glue" if lake_uri.startswith("s3://") else base.catalog.type,
        }
    )
    try:
        source = SourceMode(str(args["source_mode"]))
    except ValueError:
        raise ConfigError(
            f"--source_mode {args['source_mode']!r}: use auto, live or snapshot"
        ) from None
    updates: dict[str, Any] = {
        "lake_uri": lake_uri,
        "catalog": catalog,
        "source": source,
        "engine": "glue",
    }
    if on_aws:  # the driver's local disk: HTTP cache and run files
        data_dir = Path(tempfile.gettempdir()) / "etl-service"
        updates["data_dir"] = data_dir
        updates["http"] = base.http.model_copy(update={"cache_dir": data_dir / "cache" / "http"})
    connection = args.get(CONNECTION_OPTION)
    if connection:
        updates["database_url"] = database_url(glue_context.extract_jdbc_conf(connection))
    return base.model_copy(update=updates)


class GlueS3ETLPipeline:
    """The Glue job: the main job on a Glue context, from S3 to the catalog and RDS."""

    def __init__(
        self, settings: Settings, glue_context: Any, args: Mapping[str, Any], glue: GlueApi
    ) -> None:
        self.settings = settings
        self.glue_context = glue_context
        self.args = dict(args)
        self.glue = glue
        self.report: RunReport | None = None
        self.new_raw_payloads: dict[str, int] = {}
        """Payloads the run's bookmarked raw-zone read found new, per source."""

    @classmethod
    def from_arguments(
        cls,
        argv: Sequence[str],
        base: Settings | None = None,
        glue_context: Any | None = None,
    ) -> GlueS3ETLPipeline:
        """The job of ``argv`` (``sys.argv`` in Glue) on ``glue_context`` (a new one by
        default), over ``base`` settings (the environment's by default).

        Raises:
            ConfigError: a parameter is missing or invalid.
        """
        glue = load()
        try:
            args = resolve_arguments(glue, argv)
        except Exception as exc:  # awsglue raises its own GlueArgumentError
            if type(exc).__name__ != "GlueArgumentError":
                raise
            raise ConfigError(f"Glue job parameters: {exc}") from exc
        if glue_context is None:
            from pyspark import SparkContext

            glue_context = glue.GlueContext(SparkContext.getOrCreate())
        settings = job_settings(base or Settings(), args, glue_context, glue.on_aws)
        return cls(settings, glue_context, args, glue)

    def run(self) -> RunReport:
        """One job run: ``Job.init``, the pipeline, the read-back, ``Job.commit``."""
        job = self.glue.Job(self.glue_context)
        job.init(self.args["JOB_NAME"], self.args)
        with build_pipeline(self.settings, spark=self.glue_context.spark_session) as pipeline:
            self.report = pipeline.run()
            self.new_raw_payloads = getattr(pipeline, "new_raw_payloads", {})
        self.read_back(self.report)
        job.commit()
        return self.report

    def read_back(self, report: RunReport) -> None:
        """Each curated table as the catalog serves it holds the rows the run loaded.

        Raises:
            LoadError: a table's row count differs.
        """
        namespace = self.settings.catalog.namespace
        for spec in CURATED_TABLES:
            frame = self.glue_context.create_dynamic_frame.from_catalog(
                database=namespace, table_name=spec.name
            )
            rows = frame.count()
            if rows != report.rows.get(spec.name):
                raise LoadError(
                    f"{namespace}.{spec.name} in the catalog has {rows} rows, "
                    f"the run loaded {report.rows.get(spec.name)}"
                )
        logger.info("read back %d curated tables from the catalog", len(CURATED_TABLES))


def main(argv: Sequence[str] | None = None) -> RunReport:
    """The script's entry point in AWS Glue (an error fails the job run)."""
    from etl_service.cli._logging import configure_logging

    configure_logging("json", logging.INFO)
    return GlueS3ETLPipeline.from_arguments(list(argv if argv is not None else sys.argv)).run()


if __name__ == "__main__":
    main()
