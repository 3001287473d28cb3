"""Time travel: the analytical queries on the lake's past, by snapshot id or by time."""

from __future__ import annotations

import json
from dataclasses import replace
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pyarrow as pa
import pytest

from etl_service.cli import main
from etl_service.src.db.lake import open_lake
from etl_service.src.models.schemas import COMPANIES, SECTOR_AGGREGATES, Zone, arrow_schema

pytestmark = pytest.mark.unit


def _companies(*sectors: str) -> pa.Table:
    rows = [
        {"ticker": f"T{i}", "name": f"Co {i}", "sector": sector, "sub_industry": f"{sector} sub"}
        for i, sector in enumerate(sectors)
    ]
    return pa.Table.from_pylist(rows, schema=arrow_schema(COMPANIES))


def _sectors(capsys: pytest.CaptureFixture[str], *args: str) -> dict[str, int]:
    capsys.readouterr()
    assert main(["query", "sectors", "--format", "json", *args]) == 0
    rows = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    return {r["sector"]: r["companies"] for r in rows}


def test_queries_read_the_lake_as_of_a_snapshot_or_a_time(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    lake = open_lake(str(tmp_path / "lake"))
    first = lake.publish(Zone.CURATED, COMPANIES, _companies("Energy", "Energy"), "run-1")
    lake.publish(Zone.CURATED, COMPANIES, _companies("Energy", "Utilities", "Utilities"), "run-2")
    monkeypatch.setenv("ETL_LAKE_URI", str(tmp_path / "lake"))
    monkeypatch.setenv("ETL_DATA_DIR", str(tmp_path / "data"))

    assert _sectors(capsys, "--as-of-snapshot", str(first.snapshot_id)) == {"Energy": 2}
    now = (datetime.now(UTC) + timedelta(minutes=1)).strftime("%Y-%m-%dT%H:%M:%S")
    assert _sectors(capsys, "--as-of", now) == {"Energy": 1, "Utilities": 2}
    assert _sectors(capsys, "--as-of", "2000-01-01") == {}

    assert main(["query", "sectors", "--as-of-snapshot", "7"]) == 4
    assert "no table of the lake" in capsys.readouterr().err
    both = ["query", "sectors", "--as-of-snapshot", "7", "--as-of", "2000-01-01"]
    assert main(both) == 4


def test_a_snapshot_from_before_a_column_was_added_reads_it_as_null(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    lake = open_lake(str(tmp_path / "lake"))
    lake.publish(Zone.CURATED, COMPANIES, _companies("Energy"), "run-1")
    before = replace(
        SECTOR_AGGREGATES,
        columns=tuple(c for c in SECTOR_AGGREGATES.columns if not c.name.startswith("median_")),
    )
    row: dict[str, object] = {c.name: 0 for c in before.columns if c.name.startswith("n_")}
    row |= {"level": "sector", "name": "Energy", "quarter_end": date(2024, 12, 31), "avg_pe": 9.0}
    old = lake.publish(
        Zone.CURATED, before, pa.Table.from_pylist([row], schema=arrow_schema(before)), "run-1"
    )
    new = pa.Table.from_pylist([row | {"median_pe": 8.0}], schema=arrow_schema(SECTOR_AGGREGATES))
    lake.publish(Zone.CURATED, SECTOR_AGGREGATES, new, "run-2")
    monkeypatch.setenv("ETL_LAKE_URI", str(tmp_path / "lake"))
    monkeypatch.setenv("ETL_DATA_DIR", str(tmp_path / "data"))

    args = ["query", "sector", "Energy", "--metric", "median_pe", "--format", "json"]
    assert main([*args, "--as-of-snapshot", str(old.snapshot_id)]) == 0
    assert json.loads(capsys.readouterr().out) == {"quarter_end": "2024-12-31", "median_pe": None}
    now = (datetime.now(UTC) + timedelta(minutes=1)).strftime("%Y-%m-%dT%H:%M:%S")
    assert main([*args, "--as-of", now]) == 0
    assert json.loads(capsys.readouterr().out)["median_pe"] == 8.0


def test_lake_commands_set_up_list_and_show_history(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("ETL_LAKE_URI", str(tmp_path / "lake"))
    assert main(["lake", "setup"]) == 0
    assert capsys.readouterr().out.splitlines() == [
        "changed: created namespace sp500",
        "changed: created namespace sp500_processed",
    ]
    assert main(["lake", "setup"]) == 0
    assert "nothing to change" in capsys.readouterr().out
    lake = open_lake(str(tmp_path / "lake"))
    lake.publish(Zone.CURATED, COMPANIES, _companies("Energy"), "run-1")
    second = lake.publish(Zone.CURATED, COMPANIES, _companies("Energy", "Energy"), "run-2")
    assert main(["lake", "history", "companies", "--format", "json"]) == 0
    history = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert [(h["run_id"], h["rows"], h["current"]) for h in history] == [
        ("run-1", 1, False),
        ("run-2", 2, True),
    ]
    assert history[1]["snapshot_id"] == second.snapshot_id
    assert main(["lake", "tables", "--format", "csv"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines[0].startswith("table,snapshot_id,committed_at,rows,files,snapshots,location")
    assert lines[1].startswith(f"sp500.companies,{second.snapshot_id},")
    assert main(["lake", "history", "nope"]) == 4
    assert "has no curated table nope" in capsys.readouterr().err
