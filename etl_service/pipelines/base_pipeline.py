"""The abstract pipeline: extract, transform, validate, load, with a run context and report."""

from __future__ import annotations

import logging
import time
import uuid
from abc import ABC, abstractmethod
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Generic, TypeVar

import sqlalchemy as sa

from etl_service.errors import (
    DataQualityError,
    EtlError,
    StoreUnavailableError,
    TerminatedError,
)
from etl_service.settings import Settings
from etl_service.shutdown import sigterm_deferred
from etl_service.src.db import runs
from etl_service.src.models.quality import CheckResult, Severity

logger = logging.getLogger(__name__)

RawT = TypeVar("RawT")
CuratedT = TypeVar("CuratedT")


@dataclass
class RunContext:
    """What every run has: its settings, its id, and the database that records it."""

    settings: Settings
    engine: sa.Engine
    run_id: str = field(default_factory=lambda: uuid.uuid4().hex)


@dataclass
class RunReport:
    """The outcome of a run: status, rows per table, timings, data quality and warnings."""

    run_id: str
    engine: str
    source: str
    started_at: datetime
    status: str = "running"
    finished_at: datetime | None = None
    rows: dict[str, int] = field(default_factory=dict)
    timings_s: dict[str, float] = field(default_factory=dict)
    data_quality: list[CheckResult] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    """What the run skipped and why (e.g. unchanged companies of an incremental run)."""
    destinations: list[str] = field(default_factory=list)
    error: str | None = None

    @property
    def duration_s(self) -> float:
        end = self.finished_at or datetime.now(UTC)
        return (end - self.started_at).total_seconds()


class BasePipeline(ABC, Generic[RawT, CuratedT]):
    """Every pipeline implements the four stages; ``run`` times them and records the run.

    The run is inserted into ``pipeline_runs`` as ``running`` before any work and updated
    to ``succeeded`` or ``failed`` at the end, so a failed or killed run is always visible.
    """

    engine_name: str

    def __init__(self, context: RunContext) -> None:
        self.context = context
        self.report = RunReport(
            run_id=context.run_id,
            engine=self.engine_name,
            source=str(context.settings.source),
            started_at=datetime.now(UTC),
        )

    @abstractmethod
    def extract(self) -> RawT:
        """Read every source into memory (or engine-native frames).

        Returns:
            The raw inputs, in whatever shape ``transform`` takes.
        """

    @abstractmethod
    def transform(self, raw: RawT) -> CuratedT:
        """Build the curated tables from the raw inputs.

        Returns:
            The curated tables, keyed by canonical table name.
        """

    @abstractmethod
    def validate(self, curated: CuratedT) -> list[CheckResult]:
        """Run the data-quality rules.

        Returns:
            One result per rule and table; critical failures abort the load.
        """

    @abstractmethod
    def load(self, curated: CuratedT) -> dict[str, int]:
        """Write the curated tables to the stores atomically and idempotently.

        Returns:
            Rows written (inserted or updated) per table.
        """

    @contextmanager
    def _stage(self, name: str) -> Iterator[None]:
        start = time.perf_counter()
        logger.info("stage %s started", name)
        try:
            yield
        finally:
            self.report.timings_s[name] = round(time.perf_counter() - start, 3)
            logger.info("stage %s took %.2fs", name, self.report.timings_s[name])

    def run(self) -> RunReport:
        """Run all stages; raise the stage's error after recording the failure."""
        report, engine = self.report, self.context.engine
        try:
            # Inside the try: a SIGTERM held back until the row is written still records a failure.
            with sigterm_deferred():
                runs.record_start(
                    engine, report.run_id, report.started_at, report.engine, report.source
                )
            with self._stage("extract"):
                raw = self.extract()
            with self._stage("transform"):
                curated = self.transform(raw)
            with self._stage("validate"):
                report.data_quality = self.validate(curated)
            critical = [
                r for r in report.data_quality if not r.passed and r.severity is Severity.CRITICAL
            ]
            if critical:
                raise DataQualityError(_describe(critical))
            with self._stage("load"):
                report.rows = self.load(curated)
            report.status = "succeeded"
        except BaseException as exc:
            report.status = "failed"
            if isinstance(exc, TerminatedError):  # its text may be rewrapped by a codec
                report.error = "TerminatedError: terminated by SIGTERM"
            elif isinstance(exc, EtlError):
                report.error = str(exc)
            else:
                report.error = f"{type(exc).__name__}: {exc}"
            raise
        finally:
            with sigterm_deferred():
                report.finished_at = datetime.now(UTC)
                self._record_finish()
        return report

    def _record_finish(self) -> None:
        report = self.report
        try:
            runs.record_finish(
                self.context.engine,
                report.run_id,
                status=report.status,
                finished_at=report.finished_at,
                rows=report.rows,
                data_quality=[r.as_dict() for r in report.data_quality],
                warnings=report.warnings,
                error=report.error,
            )
        except sa.exc.SQLAlchemyError as exc:
            if report.status == "failed":
                # The run's own error explains more (often the same outage); the run stays
                # "running" in pipeline_runs and the next run marks it abandoned.
                logger.error("could not record the failure of run %s: %s", report.run_id, exc)
                return
            raise StoreUnavailableError(
                f"run {report.run_id} finished but could not be recorded: {exc}"
            ) from exc


def _describe(failures: list[CheckResult]) -> str:
    lines = ["critical data-quality rules failed; nothing was loaded:"]
    for r in failures:
        lines.append(f"  - {r.rule} on {r.table}: {r.failed} of {r.checked} rows")
        lines.extend(f"      e.g. {sample}" for sample in r.samples[:3])
    return "\n".join(lines)
