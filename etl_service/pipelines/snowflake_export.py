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
from typing import Any

import sqlalchemy as sa

from etl_service.pipelines.curated_tables import ExportSource, choose_tables, read_curated
from etl_service.settings import Settings
from etl_service.shutdown import sigterm_deferred
from etl_service.sinks.snowflake import SnowflakeSink
from etl_service.sinks.snowflake.connection import Connection, connection_for, endpoint
from etl_service.src.db.lake import Lake

__all__ = ["ExportReport", "ExportSource", "choose_tables", "export_to_snowflake"]

logger = logging.getLogger(__name__)


@dataclass
class ExportReport:
    """What an export did: rows read per table, and rows inserted, updated, deleted."""

    destination: str
    source: ExportSource
    rows: dict[str, int]
    merged: dict[str, dict[str, int]] = field(default_factory=dict)
    duration_s: float = 0.0


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
        frames = read_curated(settings, specs, source, database, lake, boto3_session)
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
