"""Spark JDBC loads into PostgreSQL: the loader's merge, idempotent, atomic, staging dropped."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import replace

import pyarrow as pa
import pytest
import sqlalchemy as sa
from pyspark.sql import SparkSession

from etl_service.engines.spark import SparkEngine
from etl_service.engines.spark import jdbc as spark_loader
from etl_service.errors import LoadError, StoreUnavailableError
from etl_service.settings import SparkSettings
from etl_service.src.db import migrate
from etl_service.src.db.engine import create_engine
from etl_service.src.db.loader import TableLoad, begin_load
from etl_service.src.models.schemas import QUARANTINE, LoadMode, arrow_schema
from etl_service.tests.spark.conftest import staging_tables
from etl_service.tests.support.builders import quarterly_reports
from etl_service.tests.support.services import free_port
from etl_service.tests.support.tables import checksums, table_rows

pytestmark = [pytest.mark.spark, pytest.mark.postgres]

FAIL_ON_QUARANTINE_INSERT = """
CREATE FUNCTION refuse() RETURNS trigger LANGUAGE plpgsql AS
$$ BEGIN RAISE EXCEPTION 'injected failure in the merge'; END $$;
CREATE TRIGGER refuse BEFORE INSERT ON quarantine FOR EACH ROW EXECUTE FUNCTION refuse();
"""


@pytest.fixture
def engine(postgres_url: str) -> Iterator[sa.Engine]:
    engine = create_engine(postgres_url)
    migrate.upgrade(engine)
    yield engine
    engine.dispose()


def _quarantine(keys: list[str]) -> pa.Table:
    record = '{"revenue": -1, "note": "ünïcode"}'
    columns = {
        "table_name": ["t"] * len(keys),
        "record_key": keys,
        "reason": ["bad"] * len(keys),
        "first_run_id": ["run1"] * len(keys),
        "source": [None] * len(keys),
        "record": [record] * len(keys),
    }
    return pa.Table.from_pydict(columns, schema=arrow_schema(QUARANTINE))


MODES = {"quarantine": LoadMode.RECONCILE}


def load_tables_jdbc(
    spark: SparkSession,
    engine: sa.Engine,
    tables: dict[str, pa.Table],
    modes: dict[str, LoadMode],
    run_id: str,
) -> dict[str, TableLoad]:
    """Load ``tables`` as Spark frames through the Spark engine's JDBC writer, committed."""
    spark_engine = SparkEngine(spark, SparkSettings())
    frames = {name: spark_engine.from_arrow(table) for name, table in tables.items()}
    opened = begin_load(engine, frames, spark_engine.database_writer(engine, run_id), modes)
    opened.commit()
    return opened.results


def test_jdbc_load_then_identical_rerun_writes_nothing(
    spark: SparkSession, engine: sa.Engine
) -> None:
    reports = quarterly_reports([100, 200, 300, None])
    tables = {"quarterly_reports": reports, "quarantine": _quarantine(["a"])}
    first = load_tables_jdbc(spark, engine, tables, MODES, "run1")
    assert first == {"quarterly_reports": TableLoad(4, 4, 0), "quarantine": TableLoad(1, 1, 0)}
    before = checksums(engine, ["quarterly_reports", "quarantine"])
    rows = table_rows(engine, "quarterly_reports")
    assert [r[5] for r in rows] == [100, 200, 300, None]
    assert (rows[0][11], rows[0][13], rows[0][14]) == (
        'Revenues, with ünïcode and "quotes", commas',
        "",
        None,
    )
    assert table_rows(engine, "quarantine")[0][5] == {"revenue": -1, "note": "ünïcode"}
    again = load_tables_jdbc(spark, engine, tables, MODES, "run2")
    assert again == {"quarterly_reports": TableLoad(4, 0, 0), "quarantine": TableLoad(1, 0, 0)}
    assert checksums(engine, ["quarterly_reports", "quarantine"]) == before
    assert staging_tables(engine) == []


def test_sync_deletes_missing_keys_through_jdbc(spark: SparkSession, engine: sa.Engine) -> None:
    load_tables_jdbc(spark, engine, {"quarterly_reports": quarterly_reports([1, 2, 3])}, {}, "run1")
    synced = load_tables_jdbc(
        spark,
        engine,
        {"quarterly_reports": quarterly_reports([1, 5])},
        {"quarterly_reports": LoadMode.SYNC},
        "run2",
    )
    assert synced["quarterly_reports"] == TableLoad(2, 1, 1)
    assert [r[5] for r in table_rows(engine, "quarterly_reports")] == [1, 5]


def test_a_merge_failing_midway_keeps_every_table_and_drops_staging(
    spark: SparkSession, engine: sa.Engine
) -> None:
    load_tables_jdbc(spark, engine, {"quarterly_reports": quarterly_reports([1, 2])}, {}, "run1")
    before = checksums(engine)
    with engine.begin() as conn:
        conn.exec_driver_sql(FAIL_ON_QUARANTINE_INSERT)
    tables = {"quarterly_reports": quarterly_reports([7, 8, 9]), "quarantine": _quarantine(["a"])}
    with pytest.raises(LoadError, match="previous data kept: injected failure in the merge"):
        load_tables_jdbc(spark, engine, tables, MODES, "run2")
    assert checksums(engine) == before
    assert staging_tables(engine) == []


def test_executors_that_cannot_reach_postgres_change_nothing(
    spark: SparkSession, engine: sa.Engine, monkeypatch: pytest.MonkeyPatch
) -> None:
    load_tables_jdbc(spark, engine, {"quarterly_reports": quarterly_reports([1, 2])}, {}, "run1")
    before = checksums(engine)
    dead = f"jdbc:postgresql://127.0.0.1:{free_port()}/etl"
    reachable_target = spark_loader.jdbc_target
    monkeypatch.setattr(
        spark_loader, "jdbc_target", lambda url: replace(reachable_target(url), url=dead)
    )
    refused = r"Spark JDBC could not write .* previous data kept: PSQLException: Connection"
    with pytest.raises(StoreUnavailableError, match=refused):
        load_tables_jdbc(
            spark, engine, {"quarterly_reports": quarterly_reports([7, 8, 9])}, {}, "run2"
        )
    assert checksums(engine) == before
    assert staging_tables(engine) == []


def test_staging_tables_left_by_a_killed_run_are_dropped_by_the_next_load(
    spark: SparkSession, engine: sa.Engine
) -> None:
    killed, running = "a1b2c3d4e5f6a7b8", "f0f0f0f0f0f0f0f0"
    with engine.begin() as conn:
        for run_id, status in ((killed, "abandoned"), (running, "running")):
            conn.execute(
                sa.text(
                    "INSERT INTO pipeline_runs (run_id, started_at, status, engine, source) "
                    "VALUES (:run_id, now(), :status, 'spark', 'snapshot')"
                ),
                {"run_id": run_id, "status": status},
            )
            conn.exec_driver_sql(f"CREATE TABLE stg_{run_id[:12]}_companies (x int)")
        conn.exec_driver_sql("CREATE TABLE stg_notes (x int)")
    load_tables_jdbc(spark, engine, {"quarterly_reports": quarterly_reports([1])}, {}, "run1")
    assert staging_tables(engine) == [f"stg_{running[:12]}_companies", "stg_notes"]
