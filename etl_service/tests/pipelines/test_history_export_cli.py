"""``etl-service runs``, ``quarantine`` and ``export`` on the session's snapshot run, and its
JSON end-of-run summary."""

from __future__ import annotations

import csv
import json
import re
from pathlib import Path
from typing import Any

import pyarrow.parquet as pq
import pytest

from etl_service.cli import main
from etl_service.errors import EXIT_CODES
from etl_service.settings import Settings
from etl_service.src.db.engine import create_engine
from etl_service.src.db.queries import loaded_row_counts
from etl_service.src.models.schemas import CURATED_TABLES
from etl_service.tests.conftest import SnapshotRun

pytestmark = pytest.mark.unit


@pytest.fixture(autouse=True)
def _database(loaded: Settings, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ETL_DATABASE_URL", loaded.database_url_value)
    monkeypatch.setenv("ETL_LAKE_URI", loaded.lake_uri)


def _json(capsys: pytest.CaptureFixture[str], *args: str) -> list[dict[str, Any]]:
    assert main([*args, "--format", "json"]) == 0
    return [json.loads(line) for line in capsys.readouterr().out.splitlines()]


def test_the_run_summary_is_one_json_object(snapshot_run: SnapshotRun) -> None:
    summary = snapshot_run.summary
    assert (summary["status"], summary["source"], summary["engine"]) == (
        "succeeded",
        "snapshot",
        "standard",
    )
    assert summary["rows"]["companies"] == 503
    assert summary["rows"] == loaded_row_counts(
        create_engine(snapshot_run.settings.database_url_value), list(summary["rows"])
    )
    assert all(check["failed"] == 0 for check in summary["data_quality"])
    assert set(summary["timings_s"]) == {"extract", "transform", "validate", "load"}


def test_runs_shows_the_run_from_pipeline_runs(
    snapshot_run: SnapshotRun, capsys: pytest.CaptureFixture[str]
) -> None:
    runs = _json(capsys, "runs", "--last", "50")
    first = runs[-1]  # newest first; other tests may run again on the same database
    assert first["run_id"] == snapshot_run.summary["run_id"]
    assert (first["status"], first["source"], first["engine"]) == (
        "succeeded",
        "snapshot",
        "standard",
    )
    assert first["rows"] == snapshot_run.summary["rows"]
    assert first["warnings"] == snapshot_run.summary["warnings"]
    assert first["rules_passed"] == len(snapshot_run.summary["data_quality"])
    assert first["rules_failed"] == first["critical_failed"] == 0
    assert first["duration_s"] == pytest.approx(snapshot_run.summary["duration_s"], abs=0.2)
    assert len(_json(capsys, "runs", "--last", "1")) == 1
    assert main(["runs"]) == 0
    table = capsys.readouterr().out
    assert first["run_id"] in table
    assert "Rows per table" in table
    assert re.search(r"│ companies +│ .*\b503\b", table)


def test_quarantine_lists_rows_with_reasons(
    snapshot_run: SnapshotRun, capsys: pytest.CaptureFixture[str]
) -> None:
    rows = _json(capsys, "quarantine")
    assert len(rows) == snapshot_run.summary["rows"]["quarantine"]
    assert all(r["reason"] for r in rows)
    closes = _json(capsys, "quarantine", "--table", "daily_closes")
    assert closes
    assert {r["table_name"] for r in closes} == {"daily_closes"}
    assert any("not a US exchange" in r["reason"] for r in closes)
    run = snapshot_run.summary["run_id"]
    assert _json(capsys, "quarantine", "--run", run[:8]) == rows
    assert main(["quarantine", "--run", "no-such-run"]) == 0
    assert "no rows: Quarantine" in capsys.readouterr().err
    assert main(["quarantine", "--table", "daily_close"]) == EXIT_CODES["bad input"]
    assert "did you mean 'daily_closes'" in capsys.readouterr().err


@pytest.mark.parametrize("fmt", ["parquet", "csv"])
def test_export_writes_each_curated_table(
    loaded: Settings, tmp_path: Path, fmt: str, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["export", "--format", fmt, "--out", str(tmp_path / "out")]) == 0
    assert "Exported" in capsys.readouterr().out
    expected = loaded_row_counts(
        create_engine(loaded.database_url_value), [s.name for s in CURATED_TABLES]
    )
    for spec in CURATED_TABLES:
        path = tmp_path / "out" / f"{spec.name}.{fmt}"
        if fmt == "parquet":
            table = pq.read_table(path)
            assert table.column_names == spec.column_names
            rows = table.num_rows
        else:
            with path.open(newline="") as stream:
                reader = csv.DictReader(stream)
                assert reader.fieldnames == spec.column_names
                rows = sum(1 for _ in reader)
        assert rows == expected[spec.name], spec.name


def test_export_picks_tables_and_reads_the_lake(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    args = ["--log-format", "json", "export", "--format", "csv", "--out", str(tmp_path)]
    assert main([*args, "--tables", "companies,sub_industries", "--from", "lake"]) == 0
    summary = json.loads(capsys.readouterr().out)
    assert summary["source"] == "lake"
    assert summary["files"]["companies"] == {"file": str(tmp_path / "companies.csv"), "rows": 503}
    assert sorted(p.name for p in tmp_path.iterdir()) == ["companies.csv", "sub_industries.csv"]


def test_export_usage_errors_keep_snowflake_apart(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["export"]) == EXIT_CODES["configuration"]
    assert "give --format parquet|csv and --out DIR, or a command" in capsys.readouterr().err
    assert main(["export", "--format", "csv", "snowflake"]) == EXIT_CODES["configuration"]
    assert "go after `snowflake` or without it" in capsys.readouterr().err
    assert main(["export", "--format", "csv", "--out", ".", "--tables", "nope"]) == 2
    assert "unknown tables ['nope']" in capsys.readouterr().err
    assert main(["export", "snowflake", "--help"]) == 0
    assert "Stage, COPY and MERGE" in capsys.readouterr().out
