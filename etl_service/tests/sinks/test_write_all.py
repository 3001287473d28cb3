"""The sink protocol: stage in order, commit in reverse, all or nothing until a commit."""

from __future__ import annotations

from dataclasses import dataclass, field

import pyarrow as pa
import pytest

from etl_service.errors import ConfigError, LoadError
from etl_service.sinks import AVAILABLE_SINKS, RunOutputs, SinkContext, load_sink, write_all

pytestmark = pytest.mark.unit


@dataclass
class Journal:
    """Every call the fake sinks receive, in order."""

    calls: list[str] = field(default_factory=list)


@dataclass
class FakeStaged:
    name: str
    journal: Journal
    fail_commit: bool = False

    def commit(self) -> None:
        self.journal.calls.append(f"commit {self.name}")
        if self.fail_commit:
            raise LoadError(f"{self.name} refused the commit")

    def discard(self) -> None:
        self.journal.calls.append(f"discard {self.name}")


@dataclass
class FakeSink:
    name: str
    journal: Journal
    fail_stage: bool = False
    fail_commit: bool = False

    def describe(self) -> str:
        return f"fake://{self.name}"

    def stage(self, outputs: RunOutputs) -> FakeStaged:
        self.journal.calls.append(f"stage {self.name}")
        if self.fail_stage:
            raise LoadError(f"{self.name} could not stage")
        return FakeStaged(self.name, self.journal, self.fail_commit)


OUTPUTS = RunOutputs({}, {}, pa.table({"x": [1]}))


def test_stages_in_order_and_commits_in_reverse() -> None:
    journal = Journal()
    write_all([FakeSink("lake", journal), FakeSink("database", journal)], OUTPUTS)
    assert journal.calls == ["stage lake", "stage database", "commit database", "commit lake"]


def test_a_failed_stage_discards_what_was_staged_and_commits_nothing() -> None:
    journal = Journal()
    sinks = [FakeSink("lake", journal), FakeSink("database", journal, fail_stage=True)]
    with pytest.raises(LoadError, match="database could not stage"):
        write_all(sinks, OUTPUTS)
    assert journal.calls == ["stage lake", "stage database", "discard lake"]


def test_a_failed_first_commit_discards_the_rest_and_raises_its_own_error() -> None:
    journal = Journal()
    sinks = [FakeSink("lake", journal), FakeSink("database", journal, fail_commit=True)]
    with pytest.raises(LoadError, match=r"^database refused the commit$"):
        write_all(sinks, OUTPUTS)
    assert journal.calls == ["stage lake", "stage database", "commit database", "discard lake"]


def test_a_commit_failing_after_another_committed_says_which_did() -> None:
    journal = Journal()
    sinks = [
        FakeSink("warehouse", journal),
        FakeSink("lake", journal, fail_commit=True),
        FakeSink("database", journal),
    ]
    with pytest.raises(LoadError, match="lake could not commit after database did") as err:
        write_all(sinks, OUTPUTS)
    assert "finishes it from the journal" in str(err.value)
    assert journal.calls[-3:] == ["commit database", "commit lake", "discard warehouse"]


def test_an_unknown_sink_is_a_configuration_error_naming_the_known_ones() -> None:
    context = SinkContext(None, None, None, None, "run")  # type: ignore[arg-type]
    with pytest.raises(ConfigError, match="unknown sink in ETL_SINKS 'nope': choose one of "):
        load_sink("nope", context)
    assert set(AVAILABLE_SINKS) == {"lake", "database", "snowflake", "lake_formation"}
