"""The run record: a run's own error is never masked by a failure to record it."""

from __future__ import annotations

import os
import signal
from typing import Any

import pytest
import sqlalchemy as sa

from etl_service.errors import LoadError, StoreUnavailableError, TerminatedError
from etl_service.pipelines.base_pipeline import BasePipeline, RunContext
from etl_service.settings import Settings
from etl_service.shutdown import raise_on_sigterm
from etl_service.src.db import migrate, runs
from etl_service.src.db.engine import create_engine
from etl_service.src.models.quality import CheckResult
from etl_service.tests.support.tables import table_rows

pytestmark = pytest.mark.unit


class _Pipeline(BasePipeline[int, int]):
    engine_name = "test"

    def __init__(self, context: RunContext, fail_load: bool) -> None:
        super().__init__(context)
        self.fail_load = fail_load

    def extract(self) -> int:
        return 1

    def transform(self, raw: int) -> int:
        return raw

    def validate(self, curated: int) -> list[CheckResult]:
        return []

    def load(self, curated: int) -> dict[str, int]:
        if self.fail_load:
            raise LoadError("the load failed")
        return {"t": curated}


def _context(settings: Settings) -> RunContext:
    engine = create_engine(settings.database_url_value)
    migrate.upgrade(engine)
    return RunContext(settings=settings, engine=engine)


def _database_gone(*_args: object, **_kwargs: object) -> None:
    raise sa.exc.OperationalError("UPDATE pipeline_runs", {}, Exception("server closed"))


def test_a_failed_run_raises_its_own_error_when_the_database_is_gone_too(
    settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    context = _context(settings)
    monkeypatch.setattr(runs, "record_finish", _database_gone)
    with pytest.raises(LoadError, match="the load failed"):
        _Pipeline(context, fail_load=True).run()
    assert [r[3] for r in table_rows(context.engine, "pipeline_runs")] == ["running"]


def test_a_run_that_cannot_be_recorded_is_an_error(
    settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    context = _context(settings)
    monkeypatch.setattr(runs, "record_finish", _database_gone)
    with pytest.raises(StoreUnavailableError, match="finished but could not be recorded"):
        _Pipeline(context, fail_load=False).run()


def test_a_recorded_run_keeps_its_outcome(settings: Settings) -> None:
    context = _context(settings)
    with pytest.raises(LoadError):
        _Pipeline(context, fail_load=True).run()
    report = _Pipeline(RunContext(settings=settings, engine=context.engine), False).run()
    rows = table_rows(context.engine, "pipeline_runs")
    assert sorted((r[3], r[9]) for r in rows) == [
        ("failed", "the load failed"),
        ("succeeded", None),
    ]
    assert report.rows == {"t": 1}


@pytest.mark.parametrize(
    ("recording", "outcome"),
    [
        ("record_start", ("failed", "TerminatedError: terminated by SIGTERM")),
        ("record_finish", ("succeeded", None)),
    ],
)
def test_a_sigterm_while_a_run_is_recorded_is_raised_once_the_record_is_written(
    settings: Settings,
    monkeypatch: pytest.MonkeyPatch,
    recording: str,
    outcome: tuple[str, str | None],
) -> None:
    context = _context(settings)
    record = getattr(runs, recording)

    def sigterm_then_record(*args: Any, **kwargs: Any) -> None:
        os.kill(os.getpid(), signal.SIGTERM)
        record(*args, **kwargs)

    monkeypatch.setattr(runs, recording, sigterm_then_record)
    with raise_on_sigterm(), pytest.raises(TerminatedError):
        _Pipeline(context, fail_load=False).run()
    assert [(r[3], r[9]) for r in table_rows(context.engine, "pipeline_runs")] == [outcome]
