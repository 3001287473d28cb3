"""``etl-service extract fsds``: output formats and failures, on the shared test session."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pyarrow.parquet as pq
import pytest
from click.testing import CliRunner, Result

import etl_service.cli.extract_fsds as extract_fsds
from etl_service.errors import InputError
from etl_service.settings import Settings
from etl_service.src.models.schemas import QUARTERLY_REPORTS, arrow_schema
from etl_service.tests.sec_fsds.conftest import QUARTER_2009Q3
from etl_service.tests.sec_fsds.quarters import write_quarter

pytestmark = [
    pytest.mark.spark,
    pytest.mark.filterwarnings("ignore:PySpark does not yet fully support pandas:FutureWarning"),
]


@pytest.fixture
def started(spark: Any, monkeypatch: pytest.MonkeyPatch) -> list[str | None]:
    """Lend the command the shared session (one per process) and record each start."""
    masters: list[str | None] = []

    @contextmanager
    def shared(_settings: object, master: str | None, _app: str) -> Iterator[Any]:
        masters.append(master)
        yield spark

    monkeypatch.setattr(extract_fsds, "spark_session", shared)
    return masters


def _run(settings: Settings, *args: str) -> Result:
    return CliRunner().invoke(extract_fsds.fsds, list(args), obj=settings)


def test_csv_to_stdout_and_parquet_to_a_file(
    settings: Settings, started: list[str | None], tmp_path: Path
) -> None:
    result = _run(settings, str(QUARTER_2009Q3), "--spark-mode", "local[2]")

    assert result.exit_code == 0, result.output
    lines = result.stdout.splitlines()
    assert lines[0].replace('"', "") == ",".join(QUARTERLY_REPORTS.column_names)
    assert len(lines) == 17
    apple = next(line for line in lines if ",2009-06-30," in line and '"0000320193"' in line)
    assert apple.startswith('"0000320193",2009,3,2009-04-01,2009-06-30,8337000000,1229000000,')
    assert started == ["local[2]"]
    out = tmp_path / "out" / "fsds.parquet"
    result = _run(settings, str(QUARTER_2009Q3), "--format", "parquet", "--out", str(out))
    assert result.exit_code == 0, result.output
    assert pq.read_table(out).schema == arrow_schema(QUARTERLY_REPORTS)
    assert pq.read_table(out).num_rows == 16


def test_missing_quarter_fails_before_spark_starts(
    settings: Settings, started: list[str | None], tmp_path: Path
) -> None:
    out = tmp_path / "fsds.json"

    result = _run(settings, str(tmp_path / "2009q3.zip"), "--format", "json", "--out", str(out))

    assert isinstance(result.exception, InputError)
    assert str(result.exception) == f"{tmp_path / '2009q3.zip'}: no such file or folder"
    assert started == []
    assert not out.exists()


def test_no_rows_writes_nothing(
    settings: Settings, started: list[str | None], tmp_path: Path
) -> None:
    adsh = "0000000003-09-000001"
    folder = write_quarter(
        tmp_path / "6k",
        [(adsh, "3", "FOREIGN CO", "6-K", "20090805", "1231", "2009", "Q2")],
        [(adsh, "Revenues", "us-gaap/2009", "", "20090630", "1", "USD", "7", "")],
    )
    out = tmp_path / "fsds.json"

    result = _run(settings, str(folder), "--format", "json", "--out", str(out))

    assert isinstance(result.exception, InputError)
    assert "nothing written" in str(result.exception)
    assert not out.exists()
    assert started == [None]
