"""The composition root: one function builds the pipeline; engines and sinks plug in by name."""

from __future__ import annotations

from pathlib import Path
from typing import ClassVar

import pyarrow as pa
import pytest

from etl_service.cli import main
from etl_service.pipelines import StandardETLPipeline, build_pipeline
from etl_service.pipelines.compose import build_lake
from etl_service.sinks import AVAILABLE_SINKS, RunOutputs, SinkContext
from etl_service.src.db import queries
from etl_service.src.db.engine import create_engine
from etl_service.src.models.schemas import CURATED_TABLES, PROCESSED_TABLES, Zone
from etl_service.tests.pipelines.conftest import run_cli, snapshot_settings

pytestmark = pytest.mark.unit


class _Committed:
    def __init__(self, sink: RecordingSink, outputs: RunOutputs) -> None:
        self.sink, self.outputs = sink, outputs

    def commit(self) -> None:
        RecordingSink.received.append(self.outputs)

    def discard(self) -> None:
        return None


class RecordingSink:
    """A sink added the way a new one is: this class plus one line in AVAILABLE_SINKS."""

    name = "recording"
    received: ClassVar[list[RunOutputs]] = []

    @classmethod
    def from_context(cls, context: SinkContext) -> RecordingSink:
        return cls()

    def describe(self) -> str:
        return "memory://recording"

    def stage(self, outputs: RunOutputs) -> _Committed:
        return _Committed(self, outputs)


@pytest.fixture
def recording_sink(monkeypatch: pytest.MonkeyPatch) -> list[RunOutputs]:
    monkeypatch.setitem(AVAILABLE_SINKS, "recording", f"{__name__}:RecordingSink")
    RecordingSink.received = []
    return RecordingSink.received


def test_a_registered_sink_receives_every_table_with_the_other_sinks(
    tmp_path: Path, recording_sink: list[RunOutputs]
) -> None:
    settings = snapshot_settings(tmp_path, sinks=("lake", "recording", "database"))
    with build_pipeline(settings) as pipeline:
        assert isinstance(pipeline, StandardETLPipeline)
        assert [s.name for s in pipeline.sinks] == ["lake", "recording", "database"]
        report = pipeline.run()
    [outputs] = recording_sink
    assert set(outputs.curated) == {spec.name for spec in CURATED_TABLES}
    assert set(outputs.processed) == {spec.name for spec in PROCESSED_TABLES}
    assert isinstance(outputs.curated["companies"], pa.Table)  # the standard engine's frame
    assert outputs.curated["companies"].num_rows == report.rows["companies"] == 503
    assert outputs.quarantine.num_rows == report.rows["quarantine"]
    assert report.destinations[1] == "memory://recording"


def test_a_lake_only_run_leaves_the_database_tables_empty(tmp_path: Path) -> None:
    settings = snapshot_settings(tmp_path, sinks=("lake",))
    with build_pipeline(settings) as pipeline:
        report = pipeline.run()
    assert report.status == "succeeded"
    engine = create_engine(settings.database_url_value)
    assert queries.sectors(engine) == []
    companies = build_lake(settings).read(Zone.CURATED, "companies")
    assert companies.num_rows == 503


def test_unknown_engine_and_sink_are_configuration_errors(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["run", "--engine", "flink"]) == 2
    settings = snapshot_settings(tmp_path, sinks=("lake", "tape"))
    assert run_cli(settings) == 2
    assert "unknown sink in ETL_SINKS 'tape': choose one of database, lake" in (
        capsys.readouterr().err
    )
