"""The data lake sink: the processed and curated zones as Iceberg tables.

Stage writes each table's Parquet files into a new folder no snapshot references (curated
tables by the engine from its own frames: pyarrow on the standard engine, the executors on
Spark; the processed zone's Arrow tables from this process). Commit makes each table's
files its content in one Iceberg commit per table; a table whose content hash is the
current snapshot's gets no commit. See ``src.db.lake.tables`` for the commit protocol.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING, Any

from etl_service import faults
from etl_service.engines.base import Engine
from etl_service.sinks.base import RunOutputs
from etl_service.src.db.lake import Lake, StagedTable, staged_intent
from etl_service.src.models.schemas import CURATED_TABLES, PROCESSED_TABLES, TableSpec, Zone

if TYPE_CHECKING:
    from etl_service.sinks import SinkContext

logger = logging.getLogger(__name__)


class _StagedTables:
    def __init__(self, lake: Lake) -> None:
        self.lake = lake
        self.tables: list[StagedTable] = []

    def intents(self) -> list[dict[str, Any]]:
        return [staged_intent(t) for t in self.tables if t.changed]

    def commit(self) -> None:
        for index, table in enumerate(self.tables):
            if index:
                faults.reach("between-lake-tables")
            self.lake.commit(table)  # on failure the rest stay staged: see write_all

    def discard(self) -> None:
        for table in self.tables:
            self.lake.discard(table)


class LakeSink:
    """Writes the processed and curated zones of ``lake``."""

    name = "lake"

    def __init__(self, lake: Lake, engine: Engine, run_id: str = "") -> None:
        self.lake = lake
        self.engine = engine
        self.run_id = run_id

    @classmethod
    def from_context(cls, context: SinkContext) -> LakeSink:
        return cls(context.lake, context.engine, context.run_id)

    def describe(self) -> str:
        return f"{self.lake.uri} (Iceberg, namespace {self.lake.namespace})"

    def stage(self, outputs: RunOutputs) -> _StagedTables:
        staged = _StagedTables(self.lake)
        try:
            for spec in PROCESSED_TABLES:
                table = outputs.processed[spec.name]
                staged.tables.append(
                    self.lake.stage_arrow(Zone.PROCESSED, spec, table, self.run_id)
                )
            for spec in CURATED_TABLES:
                staged.tables.append(self._stage_frame(spec, outputs.curated[spec.name]))
                faults.reach("during-staging")
        except BaseException:
            staged.discard()
            raise
        return staged

    def _stage_frame(self, spec: TableSpec, frame: object) -> StagedTable:
        engine = self.engine

        def write(folder: str) -> None:
            engine.write_parquet(self.lake, frame, folder, spec.partition_by)

        return self.lake.stage(
            Zone.CURATED,
            spec,
            engine.content_hash(frame),
            engine.num_rows(frame),
            write,
            self.run_id,
        )
