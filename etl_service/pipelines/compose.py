"""The composition root: one function builds a ready pipeline from ``Settings``.

Every entry point (the CLI, the ``python -m`` modules, the benchmarks, the tests and the
Glue job) calls ``build_pipeline``; nothing else chooses an engine or builds clients. It
may be handed what the caller already has: a SparkSession (or a Glue context's), a boto3
session, a SQLAlchemy engine, an HTTP client, or the sources themselves.
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Callable, Collection, Iterator
from contextlib import ExitStack, contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any

import httpx
import pyarrow as pa
import pyarrow.compute as pc
import sqlalchemy as sa

from etl_service import faults
from etl_service.engines import load_engine
from etl_service.errors import ConfigError, InputError
from etl_service.pipelines.base_pipeline import RunContext
from etl_service.pipelines.curation_pipeline import CurationPipeline
from etl_service.pipelines.lake_formation_pipeline import GOVERNANCE_SINK
from etl_service.pipelines.recovery import recover
from etl_service.plugins import resolve
from etl_service.settings import Settings
from etl_service.sinks import SinkContext, load_sink
from etl_service.sinks.snowflake.connection import Connection, connection_for
from etl_service.src.adapters.archive import RawArchive
from etl_service.src.adapters.files import set_input_limit
from etl_service.src.adapters.http import build_http_client
from etl_service.src.adapters.prices.base import CLOSES_SCHEMA
from etl_service.src.adapters.prices.incremental import StoredCloses
from etl_service.src.adapters.sec.incremental import FilingState
from etl_service.src.adapters.sources import Sources
from etl_service.src.db import migrate
from etl_service.src.db.engine import check_connection, create_engine
from etl_service.src.db.filing_cursors import DatabaseFilingState
from etl_service.src.db.run_lock import run_lock
from etl_service.src.models.schemas import DAILY_CLOSES, Zone

if TYPE_CHECKING:
    from pyspark.sql import SparkSession

    from etl_service.aws.lake_formation.setup import LakeFormationSetup
    from etl_service.src.db.lake import Lake

logger = logging.getLogger(__name__)

PIPELINES: dict[str, str] = {
    "standard": "etl_service.pipelines.standard_pipeline:StandardETLPipeline",
    "spark": "etl_service.pipelines.spark_pipeline:SparkETLPipeline",
    "lake_formation": "etl_service.pipelines.lake_formation_pipeline:PySparkLakeFormationETL",
    "glue": "etl_service.pipelines.glue_pipeline:GlueETLPipeline",
}
"""The named pipelines (``module:Class``, imported when used, like the engines and sinks);
by default a run is the one named as its engine, and any other engine runs a
``CurationPipeline``."""


def build_database(
    settings: Settings, *, create: bool = True, boto3_session: Any | None = None
) -> sa.Engine:
    """The engine of ``ETL_DATABASE_URL``, shown to reach its database; with
    ``ETL_DATABASE__IAM_AUTH`` each connection logs in to RDS with an IAM token.

    ``create`` as in ``create_engine``: false for commands that only read.
    """
    engine = create_engine(settings.database_url_value, create=create)
    if settings.database.iam_auth:
        from etl_service.aws.rds import use_iam_auth
        from etl_service.aws.session import boto3_session as new_session
        from etl_service.aws.session import client

        session = boto3_session or new_session(settings)
        rds = client(session, "rds", settings.aws_endpoint_url)
        use_iam_auth(engine, rds, settings.aws_region)
    check_connection(engine)
    return engine


def build_lake(settings: Settings, boto3_session: Any | None = None) -> Lake:
    """The lake of the settings: a local folder, or S3 through the configured endpoint, with
    its catalog (embedded SQL, or Glue through a client of ``boto3_session``)."""
    from etl_service.src.db.lake import open_lake  # pyiceberg: loaded by runs, not the CLI

    glue_client = None
    if settings.catalog.type == "glue":
        from etl_service.aws.session import boto3_session as new_session
        from etl_service.aws.session import client

        boto3_session = boto3_session or new_session(settings)
        glue_client = client(boto3_session, "glue", settings.aws_endpoint_url)
    if settings.lake_uri.startswith("s3://"):
        from etl_service.aws.s3.filesystem import iceberg_io_properties, s3_filesystem

        return open_lake(
            settings.lake_uri,
            settings.catalog,
            s3=s3_filesystem(settings, boto3_session),
            io_properties=iceberg_io_properties(settings, boto3_session),
            glue_client=glue_client,
        )
    return open_lake(settings.lake_uri, settings.catalog, glue_client=glue_client)


def build_governance(
    settings: Settings, lake: Lake, boto3_session: Any | None = None, config: Path | None = None
) -> LakeFormationSetup:
    """The Lake Formation setup of ``lake``, with clients of ``boto3_session``.

    Raises:
        ConfigError: the lake is not on S3 in the Glue catalog, or the config is invalid.
    """
    from etl_service.aws.lake_formation.setup import LakeFormationSetup

    return LakeFormationSetup.from_settings(settings, lake.namespaces(), boto3_session, config)


def build_sources(
    settings: Settings,
    lake: Lake,
    http_client: httpx.Client,
    progress: Callable[[str, int, int], None] | None = None,
    filing_state: FilingState | None = None,
) -> Sources:
    """The run's sources, archiving raw payloads in the lake's raw zone."""
    archive = RawArchive(lake.fs_path(Zone.RAW), lake.fs)
    return Sources(settings, http_client, archive, progress, filing_state, stored_closes(lake))


def stored_closes(lake: Lake) -> StoredCloses:
    """Reads the closes the lake's processed zone holds for some tickers (none before the
    first run), for the live prices source to append new days to."""

    def read(tickers: Collection[str]) -> pa.Table:
        try:
            table = lake.read(Zone.PROCESSED, DAILY_CLOSES.name)
        except InputError:  # no run has written the table yet
            return CLOSES_SCHEMA.empty_table()
        wanted = pa.array(sorted(tickers), pa.string())
        return table.filter(pc.is_in(table["ticker"], value_set=wanted)).cast(CLOSES_SCHEMA)

    return read


@contextmanager
def recovery_session(
    settings: Settings, boto3_session: Any | None = None
) -> Iterator[tuple[sa.Engine, Lake]]:
    """The database and the lake, migrated and under the run lock, for ``recover``."""
    database = build_database(settings, create=False, boto3_session=boto3_session)
    lake = build_lake(settings, boto3_session)
    with run_lock(
        database, settings.data_dir / "run.lock", uuid.uuid4().hex, settings.run_lock_timeout_s
    ):
        migrate.upgrade(database)
        yield database, lake


@contextmanager
def build_pipeline(
    settings: Settings,
    *,
    spark: SparkSession | None = None,
    boto3_session: Any | None = None,
    database: sa.Engine | None = None,
    http_client: httpx.Client | None = None,
    sources: Sources | None = None,
    progress: Callable[[str, int, int], None] | None = None,
    snowflake: Connection | None = None,
    pipeline: str | None = None,
) -> Iterator[CurationPipeline]:
    """A ready pipeline for the ``with`` block, holding the run lock, on ``settings.engine``.

    Before any work the database is reached and migrated, the lake is shown writable and
    its catalog reachable,
    the engine checks its own prerequisites and the run lock is taken (waiting up to
    ``ETL_RUN_LOCK_TIMEOUT_S`` for another run); a run whose process died is finished or
    cleaned up after (``recovery.recover``); Snowflake is connected when it is one of the
    sinks. What the function builds (a Spark session, the HTTP client, the Snowflake
    connection) is closed when the block ends; what it is handed stays open.

    Args:
        settings: the run's settings (``engine``, ``sinks``, stores, sources).
        spark: run on this SparkSession (or a Glue context's) instead of starting one.
        boto3_session: the AWS session for S3 and the AWS sinks.
        database: the SQLAlchemy engine of the database (default: ``ETL_DATABASE_URL``).
        http_client: the HTTP client of the live sources.
        sources: replaces the configured sources (benchmarks, tests).
        progress: called as ``progress(step, done, total)`` during long steps.
        snowflake: the Snowflake connection of the snowflake sink (default: one from
            ``ETL_SNOWFLAKE__*``, made only when ``ETL_SINKS`` names that sink).
        pipeline: a name in ``PIPELINES`` (default: the engine's); the pipeline may adjust
            the settings first (``lake_formation``: Spark, and the governance step).

    Raises:
        ConfigError, StoreUnavailableError, EngineError, NotInstalledError: before any
            work, when something the run needs is missing or unreachable.
    """
    if pipeline is not None and pipeline not in PIPELINES:
        raise ConfigError(f"unknown pipeline {pipeline!r}: choose one of {', '.join(PIPELINES)}")
    name = pipeline or settings.engine
    pipeline_class: type[CurationPipeline] = (
        resolve(PIPELINES, name, "pipeline") if name in PIPELINES else CurationPipeline
    )
    settings = pipeline_class.configure(settings)
    faults.arm(settings.fault_point)
    set_input_limit(settings.max_input_bytes)
    database = database or build_database(settings, boto3_session=boto3_session)
    lake = build_lake(settings, boto3_session)
    lake.check_writable()
    lake.ensure_namespaces()  # the catalog is configured and reachable
    governance = None
    if GOVERNANCE_SINK in settings.sinks:
        governance = build_governance(settings, lake, boto3_session)
    with ExitStack() as stack:
        engine = stack.enter_context(load_engine(settings.engine, settings, spark))
        engine.check(database, lake)
        run_id = uuid.uuid4().hex
        lock_file = settings.data_dir / "run.lock"
        stack.enter_context(run_lock(database, lock_file, run_id, settings.run_lock_timeout_s))
        migrate.upgrade(database)
        recover(database, lake)  # a run killed between the database and the lake
        if sources is None:
            client = http_client or stack.enter_context(build_http_client())
            state = DatabaseFilingState(database, run_id)
            sources = build_sources(settings, lake, client, progress, state)
        if snowflake is None and "snowflake" in settings.sinks:
            snowflake = stack.enter_context(connection_for(settings.snowflake))
        sink_context = SinkContext(
            settings, engine, database, lake, run_id, boto3_session, snowflake, governance
        )
        sinks = [load_sink(name, sink_context) for name in settings.sinks]
        context = RunContext(settings=settings, engine=database, run_id=run_id)
        yield pipeline_class(context, sources, engine, sinks)
