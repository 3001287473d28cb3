"""Exporting curated tables to Snowflake on their own, from the database or the lake.

The same sink a run uses (``sinks/snowflake``), fed from a store instead of a run: the
connection is made first (an unreachable endpoint fails before anything is read), the
tables are read, staged and merged in one transaction.
"""

from __future__ import annotations

import logging
import time
import uuid
from collections.abc import Sequence
from contextlib import ExitStack
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

import pyarrow as pa
import sqlalchemy as sa

from etl_service.errors import ConfigError
from etl_service.pipelines.compose import build_database, build_lake
from etl_service.settings import Settings
from etl_service.shutdown import sigterm_deferred
from etl_service.sinks.snowflake import SnowflakeSink
from etl_service.sinks.snowflake.connection import Connection, connection_for, endpoint
from etl_service.src.db import migrate
from etl_service.src.db.lake import Lake
from etl_service.src.db.reader import read_tables
from etl_service.src.models.schemas import CURATED_TABLES, TableSpec, Zone

logger = logging.getLogger(__name__)


class ExportSource(StrEnum):
    """Where an export reads the curated tables."""

    DATABASE = "database"
    LAKE = "lake"


@dataclass
class ExportReport:
    """What an export did: rows read per table, and rows inserted, updated, deleted."""

    destination: str
    source: ExportSource
    rows: dict[str, int]
    merged: dict[str, dict[str, int]] = field(default_factory=dict)
    duration_s: float = 0.0


def read_lake_tables(lake: Lake, specs: Sequence[TableSpec]) -> dict[str, pa.Table]:
    """The curated tables as the lake publishes them: the export's one read of the lake."""
    return {spec.name: lake.read(Zone.CURATED, spec.name) for spec in specs}


def choose_tables(names: Sequence[str]) -> list[TableSpec]:
    """The curated tables named (all when none is); ConfigError lists the known names."""
    known = {spec.name: spec for spec in CURATED_TABLES}
    unknown = sorted(set(names) - set(known))
    if unknown:
        raise ConfigError(f"unknown tables {unknown}: choose from {', '.join(known)}")
    return [spec for spec in CURATED_TABLES if not names or spec.name in names]


def export_to_snowflake(
    settings: Settings,
    tables: Sequence[str] = (),
    source: ExportSource = ExportSource.DATABASE,
    *,
    connection: Connection | None = None,
    database: sa.Engine | None = None,
    lake: Lake | None = None,
    boto3_session: Any | None = None,
) -> ExportReport:
    """Export the curated ``tables`` (default: all) from ``source`` to Snowflake.

    Args:
        settings: ``ETL_SNOWFLAKE__*`` and the stores to read.
        tables: names of curated tables; none exports them all.
        source: the database (default) or the lake's curated zone.
        connection: the Snowflake connection (default: one from the settings, closed after).
        database: the SQLAlchemy engine to read (default: ``ETL_DATABASE_URL``).
        lake: the lake to read (default: ``ETL_LAKE_URI``).
        boto3_session: the AWS session of an S3 lake.

    Raises:
        ConfigError: an unknown table, Snowflake not configured, or nothing loaded yet.
        StoreUnavailableError: Snowflake or the store did not answer; nothing changed.
        SchemaError, CopyError, LoadError: the export failed; nothing of it is kept.
    """
    started = time.monotonic()
    specs = choose_tables(tables)
    with ExitStack() as stack:
        if connection is None:
            connection = stack.enter_context(connection_for(settings.snowflake))
        frames = _read(settings, specs, source, database, lake, boto3_session)
        sink = SnowflakeSink(connection, settings.snowflake, uuid.uuid4().hex, tables=specs)
        staged = sink.stage_tables(frames)
        with sigterm_deferred():
            staged.commit()
    return ExportReport(
        endpoint(settings.snowflake),
        source,
        {name: frame.num_rows for name, frame in frames.items()},
        staged.merged,
        time.monotonic() - started,
    )


def _read(
    settings: Settings,
    specs: Sequence[TableSpec],
    source: ExportSource,
    database: sa.Engine | None,
    lake: Lake | None,
    boto3_session: Any | None,
) -> dict[str, pa.Table]:
    if source is ExportSource.LAKE:
        return read_lake_tables(lake or build_lake(settings, boto3_session), specs)
    database = database or build_database(settings, boto3_session=boto3_session)
    if migrate.current(database) is None:
        where = database.url.render_as_string(hide_password=True)
        raise ConfigError(f"{where} holds no tables yet: run `etl-service run` first")
    return read_tables(database, specs)
