"""The data lake sink: processed and curated zones as new versions, published on commit.

Curated tables are written by the engine from its own frames (pyarrow on the standard
engine, the executors on Spark); the processed zone's source tables are Arrow and are
written from this process. A table whose content digest equals the published one is not
written again.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

from etl_service.engines.base import Engine
from etl_service.sinks.base import RunOutputs
from etl_service.src.db.lake import Lake, Staged
from etl_service.src.models.schemas import CURATED_TABLES, PROCESSED_TABLES, TableSpec, Zone

if TYPE_CHECKING:
    from etl_service.sinks import SinkContext

logger = logging.getLogger(__name__)


class _StagedVersions:
    def __init__(self, lake: Lake, versions: list[Staged]) -> None:
        self.lake = lake
        self.versions = versions

    def commit(self) -> None:
        for version in self.versions:
            self.lake.commit(version)

    def discard(self) -> None:
        for version in self.versions:
            self.lake.discard(version)


class LakeSink:
    """Writes the processed and curated zones of ``lake``."""

    name = "lake"

    def __init__(self, lake: Lake, engine: Engine) -> None:
        self.lake = lake
        self.engine = engine

    @classmethod
    def from_context(cls, context: SinkContext) -> LakeSink:
        return cls(context.lake, context.engine)

    def describe(self) -> str:
        return f"{self.lake.uri}/{Zone.CURATED}"

    def stage(self, outputs: RunOutputs) -> _StagedVersions:
        staged = _StagedVersions(self.lake, [])
        try:
            for spec in PROCESSED_TABLES:
                table = outputs.processed[spec.name]
                staged.versions.append(
                    self.lake.stage(Zone.PROCESSED, spec.name, table, spec.partition_by)
                )
            for spec in CURATED_TABLES:
                staged.versions.append(self._stage_frame(spec, outputs.curated[spec.name]))
        except BaseException:
            staged.discard()
            raise
        return staged

    def _stage_frame(self, spec: TableSpec, frame: object) -> Staged:
        engine = self.engine

        def write(folder: str) -> None:
            engine.write_parquet(self.lake, frame, folder, spec.partition_by)

        return self.lake.stage_written(
            Zone.CURATED,
            spec.name,
            engine.content_hash(frame),
            engine.num_rows(frame),
            write,
            spec.partition_by,
        )
