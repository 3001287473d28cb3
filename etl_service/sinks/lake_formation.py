"""The lake's Lake Formation governance as a step of the run, after the lake commits.

Not a destination of data: staging plans the governance (so a config the lake cannot
take, or AWS refusing the reads, fails the run before anything commits), and committing,
right after the lake (name it just before ``lake`` in ``ETL_SINKS``, as the
lake_formation pipeline does), plans again, now that the run's new tables exist, and
applies the plan: ``check`` mode only reports it.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

from etl_service.aws.lake_formation.setup import LakeFormationSetup
from etl_service.errors import ConfigError
from etl_service.sinks.base import RunOutputs

if TYPE_CHECKING:
    from etl_service.sinks import SinkContext

logger = logging.getLogger(__name__)


class _Governance:
    def __init__(self, sink: LakeFormationSink) -> None:
        self.sink = sink

    def commit(self) -> None:
        sink = self.sink
        changes = sink.setup.plan()
        if sink.mode == "apply":
            for change in changes:
                logger.info("lake formation: %s", change)
            sink.setup.apply(changes)
            sink.outcome = f"{len(changes)} changes"
            return
        for change in changes:
            logger.warning("lake formation differs from its config: would %s", change)
        sink.outcome = f"{len(changes)} changes needed (checked only)"

    def discard(self) -> None:
        """Nothing was changed while staging."""


class LakeFormationSink:
    """Applies (or checks) the lake's Lake Formation governance when the run commits."""

    name = "lake_formation"

    def __init__(self, setup: LakeFormationSetup, mode: str = "apply") -> None:
        self.setup = setup
        self.mode = mode
        self.outcome = "not run"

    @classmethod
    def from_context(cls, context: SinkContext) -> LakeFormationSink:
        if context.governance is None:
            raise ConfigError("the lake_formation sink needs an s3:// lake in the Glue catalog")
        return cls(context.governance, context.settings.lake_formation.governance)

    def describe(self) -> str:
        databases = ", ".join(sorted(self.setup.lake.databases.values()))
        return f"Lake Formation governance of {databases}: {self.outcome}"

    def stage(self, outputs: RunOutputs) -> _Governance:
        self.setup.plan()
        return _Governance(self)
