"""Sinks and their registry: where a run's tables go, each written in two phases.

Adding a sink is one module with a class that has ``from_context`` plus one line in
``AVAILABLE_SINKS``; ``ETL_SINKS`` lists the sinks of a run in staging order (see
``base.write_all`` for the commit protocol).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import sqlalchemy as sa

from etl_service.engines.base import Engine
from etl_service.plugins import resolve
from etl_service.settings import Settings
from etl_service.sinks.base import RunOutputs, Sink, Staged, write_all

if TYPE_CHECKING:  # pyiceberg loads when a lake is opened, not with the CLI
    from etl_service.src.db.lake import Lake

__all__ = [
    "AVAILABLE_SINKS",
    "RunOutputs",
    "Sink",
    "SinkContext",
    "Staged",
    "load_sink",
    "write_all",
]


@dataclass(frozen=True)
class SinkContext:
    """What a sink is built with: the run's settings, engine, stores and clients."""

    settings: Settings
    engine: Engine
    database: sa.Engine
    lake: Lake
    run_id: str
    boto3_session: Any | None = None
    snowflake: Any | None = None
    """The Snowflake connection, built at the entry point when the snowflake sink is used."""
    governance: Any | None = None
    """The ``LakeFormationSetup`` of the lake, built when the lake_formation sink is used."""


AVAILABLE_SINKS: dict[str, str] = {
    "lake": "etl_service.sinks.lake:LakeSink",
    "database": "etl_service.sinks.database:DatabaseSink",
    "snowflake": "etl_service.sinks.snowflake:SnowflakeSink",
    "lake_formation": "etl_service.sinks.lake_formation:LakeFormationSink",
}
"""Every sink by name, as ``module:class``; the class builds itself ``from_context``."""


def load_sink(name: str, context: SinkContext) -> Sink:
    """Build the registered sink ``name`` (its module is imported only now)."""
    sink: Sink = resolve(AVAILABLE_SINKS, name, "sink in ETL_SINKS").from_context(context)
    return sink
