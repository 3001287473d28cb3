"""A run killed (SIGKILL) at each named fault point leaves the database and the lake
consistent once the next run or ``etl-service recover`` has looked: rolled forward when the
database load had committed, staged files discarded when it had not."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import sqlalchemy as sa

from etl_service.cli import main
from etl_service.faults import POINTS
from etl_service.pipelines.compose import build_lake
from etl_service.settings import Settings
from etl_service.snapshot import SEC_COMPANYFACTS
from etl_service.src.db.engine import create_engine
from etl_service.src.models.schemas import Zone
from etl_service.tests.pipelines.conftest import snapshot_settings
from etl_service.tests.support.env import child_env

APPLE = "0000320193"
_RUN = [sys.executable, "-m", "etl_service", "run"]


def _run(settings: Settings, fault: str | None = None) -> subprocess.CompletedProcess[str]:
    env = child_env(settings) | {"ETL_ALLOW_SHRINK": "true"}
    if fault:
        env["ETL_FAULT_POINT"] = fault
    return subprocess.run(_RUN, env=env, capture_output=True, text=True, timeout=180)


def _recover(settings: Settings, capsys: pytest.CaptureFixture[str]) -> str:
    with pytest.MonkeyPatch.context() as patch:
        for key, value in child_env(settings).items():
            if key.startswith("ETL_"):
                patch.setenv(key, value)
        capsys.readouterr()
        assert main(["recover"]) == 0
    return capsys.readouterr().out.strip()


def _state(settings: Settings) -> dict[str, int]:
    """Rows of the tables a run replaces, in the database and in the lake, and the
    lake's quarterly reports (the database merges those, the lake has the run's)."""
    engine = create_engine(settings.database_url_value)
    lake = build_lake(settings)
    with engine.connect() as conn:
        db_rows: int = conn.execute(sa.text("SELECT count(*) FROM sector_aggregates")).scalar_one()
    engine.dispose()
    assert lake.unreferenced_folders() == []
    return {
        "db sector_aggregates": int(db_rows),
        "lake sector_aggregates": lake.read(Zone.CURATED, "sector_aggregates").num_rows,
        "lake quarterly_reports": lake.read(Zone.CURATED, "quarterly_reports").num_rows,
    }


def test_a_run_killed_at_any_fault_point_is_recovered_consistently(
    database_url: str | None, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    only_apple = tmp_path / "only_apple"
    only_apple.mkdir()
    shutil.copy(SEC_COMPANYFACTS / f"CIK{APPLE}.json.gz", only_apple)
    full = snapshot_settings(tmp_path, database_url)
    apple = snapshot_settings(tmp_path, database_url, sec={"bulk_path": only_apple})

    assert _run(full).returncode == 0
    full_state = _state(full)
    assert full_state["db sector_aggregates"] == full_state["lake sector_aggregates"] == 215

    # Killed before the database commits: the previous run's state, staged files removed.
    for point in ("during-staging", "before-db-commit"):
        killed = _run(apple, point)
        assert killed.returncode == -9, killed.stderr[-2000:]
        said = _recover(full, capsys)
        assert "killed before their database load committed" in said
        assert "discarded" in said
        assert _state(full) == full_state

    # Killed after it: the lake is rolled forward to what the database committed.
    killed = _run(apple, "after-db-commit")
    assert killed.returncode == -9, killed.stderr[-2000:]
    said = _recover(full, capsys)
    assert "killed after their database load committed" in said
    assert "rolled the lake forward to the database" in said
    apple_state = _state(full)
    assert apple_state["db sector_aggregates"] == apple_state["lake sector_aggregates"] < 215
    assert apple_state["lake quarterly_reports"] < full_state["lake quarterly_reports"]

    # Between two lake tables: the next run itself finishes the killed one first.
    killed = _run(full, "between-lake-tables")
    assert killed.returncode == -9, killed.stderr[-2000:]
    assert _run(full).returncode == 0
    assert _state(full) == full_state
    assert _recover(full, capsys) == "nothing to recover: the database and the lake agree"
    engine = create_engine(full.database_url_value)
    with engine.connect() as conn:
        statuses: dict[str, int] = dict(
            conn.execute(
                sa.text("SELECT status, count(*) FROM pipeline_runs GROUP BY status")
            ).all()
        )
    engine.dispose()
    assert statuses == {"abandoned": 2, "committed": 2, "succeeded": 2}
    assert set(POINTS) == {
        "during-staging",
        "before-db-commit",
        "after-db-commit",
        "between-lake-tables",
    }


@pytest.mark.unit
def test_a_journaled_commit_whose_files_are_gone_is_reported_not_retried_forever(
    tmp_path: Path,
) -> None:
    from etl_service.pipelines.compose import recovery_session
    from etl_service.pipelines.recovery import recover
    from etl_service.src.db import commit_journal

    settings = snapshot_settings(tmp_path)
    assert _run(settings).returncode == 0
    engine = create_engine(settings.database_url_value)
    with engine.begin() as conn:
        commit_journal.record(
            conn,
            "killedrun",
            [
                {
                    "zone": "curated",
                    "table_name": "companies",
                    "digest": "x" * 16,
                    "rows": 1,
                    "folder": "file:///nonexistent/data/20260101T000000-0123456789ab",
                    "files": ["file:///nonexistent/data/20260101T000000-0123456789ab/a.parquet"],
                }
            ],
        )
    with recovery_session(settings) as (database, lake):
        first = recover(database, lake)
        second = recover(database, lake)
    assert first.lost == ["killedrun: sp500.companies"]
    assert "could not roll forward killedrun: sp500.companies" in first.describe()
    assert second.describe() == "nothing to recover: the database and the lake agree"
    engine.dispose()
