"""The SQL database sink (SQLite or PostgreSQL): every loaded table in one transaction.

``stage`` writes the curated tables and the quarantine through the engine's writer (Arrow
from this process, or Spark JDBC staging tables) and leaves the transaction open; commit
and discard end it. Load modes come from each table's ``TableSpec``.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

import sqlalchemy as sa

from etl_service.engines.base import Engine
from etl_service.sinks.base import RunOutputs
from etl_service.src.db import commit_journal
from etl_service.src.db.engine import describe
from etl_service.src.db.loader import OpenLoad, begin_load
from etl_service.src.models.schemas import CURATED_TABLES, QUARANTINE

if TYPE_CHECKING:
    from etl_service.sinks import SinkContext

logger = logging.getLogger(__name__)


class _OpenTransaction:
    def __init__(self, load: OpenLoad, database: sa.Engine, run_id: str) -> None:
        self.load = load
        self.database = database
        self.run_id = run_id

    def record(self, intents: Sequence[dict[str, Any]]) -> None:
        commit_journal.record(self.load.conn, self.run_id, intents)

    def commit(self) -> None:
        self.load.commit()

    def settle(self) -> None:
        commit_journal.settle(self.database, self.run_id)

    def discard(self) -> None:
        self.load.rollback()


class DatabaseSink:
    """Loads the curated tables and the quarantine into ``database``."""

    name = "database"

    def __init__(self, database: sa.Engine, engine: Engine, run_id: str) -> None:
        self.database = database
        self.engine = engine
        self.run_id = run_id

    @classmethod
    def from_context(cls, context: SinkContext) -> DatabaseSink:
        return cls(context.database, context.engine, context.run_id)

    def describe(self) -> str:
        return describe(self.database)

    def stage(self, outputs: RunOutputs) -> _OpenTransaction:
        frames = {spec.name: outputs.curated[spec.name] for spec in CURATED_TABLES}
        frames[QUARANTINE.name] = outputs.quarantine
        writer = self.engine.database_writer(self.database, self.run_id)
        return _OpenTransaction(
            begin_load(self.database, frames, writer), self.database, self.run_id
        )
