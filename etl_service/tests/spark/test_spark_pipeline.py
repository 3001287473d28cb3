"""The Spark pipeline on the bundled snapshot: parity with the standard pipeline, PostgreSQL
through JDBC (idempotent, atomic), the lake, and clear errors with nothing loaded."""

from __future__ import annotations

import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
import sqlalchemy as sa
from pyspark.sql import SparkSession

from etl_service.cli import main
from etl_service.errors import EXIT_CODES, LoadError, StoreUnavailableError
from etl_service.pipelines.base_pipeline import RunReport
from etl_service.pipelines.compose import build_lake
from etl_service.pipelines.spark_pipeline import SparkETLPipeline
from etl_service.settings import Settings
from etl_service.src.db import migrate
from etl_service.src.db.engine import create_engine
from etl_service.src.db.lake import Lake
from etl_service.src.models.schemas import CURATED_TABLES, Zone
from etl_service.src.transforms.sql_runner import sort_by_key
from etl_service.tests.pipelines.conftest import snapshot_settings
from etl_service.tests.spark.conftest import (
    APPLE,
    Stages,
    assert_same_rows,
    assert_same_table,
    database,
    on_engine,
    only_apple,
    pipeline,
    staging_tables,
)
from etl_service.tests.support.env import cli_env
from etl_service.tests.support.services import PostgresServer, free_port
from etl_service.tests.support.tables import checksums, table_rows

pytestmark = pytest.mark.spark

FAIL_ON_PRICES_INSERT = """
CREATE FUNCTION refuse() RETURNS trigger LANGUAGE plpgsql AS
$$ BEGIN RAISE EXCEPTION 'injected failure in the merge'; END $$;
CREATE TRIGGER refuse BEFORE INSERT ON prices_pe FOR EACH ROW EXECUTE FUNCTION refuse();
"""


def test_both_engines_curate_identical_tables_row_for_row(
    standard_stages: Stages, spark_stages: Stages
) -> None:
    standard, on_spark = standard_stages.curated.tables, spark_stages.curated.tables
    for spec in CURATED_TABLES:
        assert_same_table(spec.name, standard[spec.name], on_spark[spec.name])
    assert {name: t.num_rows for name, t in on_spark.items()} == {
        "sub_industries": 127,
        "companies": 503,
        "index_changes": 353,
        "index_membership": 931,
        "quarterly_reports": 143,
        "split_events": 4,
        "prices_pe": 143,
        "sector_aggregates": 215,
        "former_members": 338,
    }
    for name, table in standard_stages.curated.processed.items():
        assert_same_table(name, table, spark_stages.curated.processed[name])


def test_both_engines_gate_and_quarantine_the_same_rows(
    standard_stages: Stages, spark_stages: Stages
) -> None:
    def outcome(stages: Stages) -> list[tuple[object, ...]]:
        return [(r.rule, r.table, r.severity, r.failed, r.checked) for r in stages.results]

    assert outcome(spark_stages) == outcome(standard_stages)
    # The P/E band no longer trips: Apple FY2009-2012 is on one share basis since the splits
    # are known. What is gated is the rejected source rows (13 prices, 1 report).
    assert not any(r.failed for r in spark_stages.results)

    def quarantined(stages: Stages) -> list[tuple[str, str, str]]:
        return sorted((r.table, r.record_key, r.reason) for r in stages.curated.rejected)

    assert quarantined(spark_stages) == quarantined(standard_stages)
    assert len(quarantined(spark_stages)) == 16


@dataclass
class Loaded:
    settings: Settings
    engine: sa.Engine
    lake: Lake
    report: RunReport


@pytest.fixture(scope="module")
def apple_only(
    spark: SparkSession, postgres: PostgresServer, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Loaded]:
    """A Spark run into PostgreSQL with Apple's filings only."""
    root = tmp_path_factory.mktemp("spark_pg")
    with database(postgres) as url:
        settings = snapshot_settings(root, database_url=url, sec={"bulk_path": only_apple(root)})
        engine = create_engine(url)
        migrate.upgrade(engine)
        with pipeline(settings, spark) as pipe:
            report = pipe.run()
        yield Loaded(settings, engine, build_lake(settings), report)
        engine.dispose()


@pytest.mark.postgres
def test_spark_run_loads_postgres_through_jdbc_and_the_lake(
    apple_only: Loaded, standard_stages: Stages
) -> None:
    engine, standard = apple_only.engine, standard_stages.curated.tables
    assert apple_only.report.status == "succeeded"
    assert apple_only.report.rows["companies"] == 503
    for name in ("sub_industries", "companies", "index_changes", "index_membership"):
        assert_same_rows(name, standard[name].to_pylist(), _rows(engine, name))
    apple_reports = [r for r in standard["quarterly_reports"].to_pylist() if r["cik"] == APPLE]
    assert_same_rows("quarterly_reports", apple_reports, _rows(engine, "quarterly_reports"))
    run = next(r for r in table_rows(engine, "pipeline_runs") if r[0] == apple_only.report.run_id)
    assert (run[3], run[4]) == ("succeeded", "spark")
    reports = apple_only.lake.read(Zone.CURATED, "quarterly_reports")
    table = apple_only.lake.load(Zone.CURATED, "quarterly_reports")
    assert [f.name for f in table.spec().fields] == ["fiscal_year"]
    assert reports.num_rows == len(apple_reports) == table.scan().count()
    assert apple_only.lake.read(Zone.PROCESSED, "daily_closes").num_rows > 5000
    assert staging_tables(engine) == []


@pytest.mark.postgres
def test_rerun_changes_nothing_in_postgres_or_the_lake(
    apple_only: Loaded, spark: SparkSession
) -> None:
    engine, lake = apple_only.engine, apple_only.lake
    names = [spec.name for spec in CURATED_TABLES] + ["quarantine"]
    before = checksums(engine, names)
    versions = _versions(lake)
    with pipeline(apple_only.settings, spark) as pipe:
        assert pipe.run().status == "succeeded"
    assert checksums(engine, names) == before
    assert _versions(lake) == versions
    assert staging_tables(engine) == []


@pytest.mark.postgres
def test_a_merge_failing_midway_keeps_postgres_and_the_lake_as_they_were(
    apple_only: Loaded, spark: SparkSession, spark_stages: Stages
) -> None:
    engine, lake = apple_only.engine, apple_only.lake
    before, versions = checksums(engine), _versions(lake)
    files = _files(lake)
    with engine.begin() as conn:
        conn.exec_driver_sql(FAIL_ON_PRICES_INSERT)
    try:
        # NVIDIA's reports merge first, then its P/E rows hit the trigger
        with (
            pipeline(apple_only.settings, spark) as pipe,
            pytest.raises(LoadError, match="previous data kept: injected failure"),
        ):
            pipe.load(on_engine(pipe, spark_stages.curated))
    finally:
        with engine.begin() as conn:
            conn.exec_driver_sql("DROP TRIGGER refuse ON prices_pe; DROP FUNCTION refuse()")
    assert checksums(engine) == before
    assert {r[0] for r in table_rows(engine, "quarterly_reports")} == {APPLE}
    assert staging_tables(engine) == []
    assert _versions(lake) == versions
    assert _files(lake) == files  # the discarded stage left nothing


def test_sqlite_is_loaded_from_the_driver_and_the_lake_written_by_spark(
    spark: SparkSession, spark_stages: Stages, standard_stages: Stages, tmp_path: Path
) -> None:
    settings = snapshot_settings(tmp_path)
    engine = create_engine(settings.database_url_value)
    migrate.upgrade(engine)
    with pipeline(settings, spark) as pipe:
        assert isinstance(pipe, SparkETLPipeline)
        rows = pipe.load(on_engine(pipe, spark_stages.curated))
    assert rows["companies"] == 503
    assert rows["quarantine"] == 16
    lake, standard = build_lake(settings), standard_stages.curated.tables
    for spec in CURATED_TABLES:
        assert_same_rows(spec.name, standard[spec.name].to_pylist(), _rows(engine, spec.name))
        published = sort_by_key(spec, lake.read(Zone.CURATED, spec.name))
        assert_same_table(spec.name, standard[spec.name], published)
    reports = lake.load(Zone.CURATED, "quarterly_reports").scan().plan_files()
    years = set(standard["quarterly_reports"].column("fiscal_year").to_pylist())
    assert {task.file.partition[0] for task in reports} == years


def test_unreachable_database_fails_before_any_work_and_publishes_nothing(
    spark: SparkSession, tmp_path: Path
) -> None:
    settings = snapshot_settings(
        tmp_path, database_url=f"postgresql://etl@127.0.0.1:{free_port()}/e"
    )
    with (
        pytest.raises(StoreUnavailableError, match="cannot reach the database"),
        pipeline(settings, spark),
    ):
        pytest.fail("no pipeline without its database")
    assert not (settings.data_dir / "lake").exists()


def test_run_with_the_database_down_is_a_clear_error_with_no_writes(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    settings = snapshot_settings(
        tmp_path, database_url=f"postgresql://etl@127.0.0.1:{free_port()}/e"
    )
    _cli_environment(monkeypatch, settings)
    assert main(["run", "--engine", "spark"]) == EXIT_CODES["store unavailable or load failed"]
    assert "cannot reach the database" in capsys.readouterr().err
    assert not (settings.data_dir / "lake").exists()


def test_run_with_the_master_unreachable_fails_in_seconds_with_no_writes(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    settings = snapshot_settings(tmp_path)
    _cli_environment(monkeypatch, settings)
    master = f"spark://127.0.0.1:{free_port()}"
    start = time.monotonic()
    assert main(["run", "--engine", "spark", "--spark-mode", master]) == EXIT_CODES["engine"]
    assert time.monotonic() - start < 10
    assert f"the Spark master {master} is unreachable" in capsys.readouterr().err
    engine = create_engine(settings.database_url_value)
    assert sa.inspect(engine).get_table_names() == []
    assert not (settings.data_dir / "lake" / "curated").exists()


def test_spark_mode_without_the_spark_engine_is_refused(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    _keep_logging(monkeypatch)
    assert main(["run", "--spark-mode", "local[2]"]) == EXIT_CODES["configuration"]
    assert "--spark-mode needs --engine spark" in capsys.readouterr().err


@pytest.mark.unit
def test_module_help_documents_every_option() -> None:
    done = subprocess.run(
        [sys.executable, "-m", "etl_service.pipelines.spark_pipeline", "--help"],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    for option in ("--spark-mode", "spark://HOST:PORT", "local[*]", "--source", "--log-format"):
        assert option in done.stdout
    assert "--engine" not in done.stdout  # the module is the Spark engine


def _rows(engine: sa.Engine, name: str) -> list[dict[str, object]]:
    spec = next(s for s in CURATED_TABLES if s.name == name)
    return [dict(zip(spec.column_names, row, strict=True)) for row in table_rows(engine, name)]


def _versions(lake: Lake) -> dict[str, tuple[int | None, int]]:
    """Each lake table's current snapshot and number of snapshots."""
    return {t["table"]: (t["snapshot_id"], t["snapshots"]) for t in lake.tables()}


def _files(lake: Lake) -> list[str]:
    return sorted(str(p) for p in Path(lake.root.removeprefix("file://")).rglob("*.parquet"))


def _keep_logging(monkeypatch: pytest.MonkeyPatch) -> None:
    import logging

    root = logging.getLogger()  # the CLI installs its handler on the captured stderr
    monkeypatch.setattr(root, "handlers", list(root.handlers))
    monkeypatch.setattr(root, "level", root.level)


def _cli_environment(monkeypatch: pytest.MonkeyPatch, settings: Settings) -> None:
    _keep_logging(monkeypatch)
    for key, value in cli_env(settings).items():
        monkeypatch.setenv(key, value)
