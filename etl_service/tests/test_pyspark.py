"""PySpark building blocks: the session, Arrow conversions, the shared SQL on Spark, lake writes."""

from __future__ import annotations

import logging
import subprocess
import sys
import time
import uuid
from datetime import UTC, date, datetime
from pathlib import Path

import pyarrow as pa
import pytest
import sqlalchemy as sa
from pyspark.sql import SparkSession

from etl_service.aws.session import boto3_session, client
from etl_service.cli import main
from etl_service.engines.duckdb import DuckDbSession
from etl_service.engines.spark import SparkEngine
from etl_service.engines.spark.jdbc import jdbc_target
from etl_service.engines.spark.lake_reader import read_lake_table
from etl_service.engines.spark.session import (
    check_master,
    master_address,
    session_config,
    size_shuffle_partitions,
    spark_session,
)
from etl_service.engines.spark.sql import (
    SparkSqlSession,
    has_native_arrow,
    to_arrow,
    to_spark,
)
from etl_service.errors import EXIT_CODES, ConfigError, EngineError, LoadError, NotInstalledError
from etl_service.pipelines.compose import build_lake
from etl_service.settings import CatalogSettings, SparkSettings
from etl_service.src.db.lake import Lake, StagedTable, open_lake
from etl_service.src.models.schemas import Zone
from etl_service.tests.support.services import MotoServer, free_port
from etl_service.tests.support.spark import spark_fixture  # noqa: F401
from etl_service.tests.support.tables import REPORTS

pytestmark = pytest.mark.spark

ARROW_PATH = pytest.param(
    True,
    id="arrow-path",
    marks=pytest.mark.skipif(not has_native_arrow(), reason="PySpark 3.5 converts via pandas"),
)
# Spark 3.5's path goes through pandas; PySpark 4 warns that it does not fully support
# pandas 3, which is what this environment has (AWS Glue 5 has pandas 2).
PANDAS_PATH = pytest.param(
    False,
    id="pandas-path",
    marks=pytest.mark.filterwarnings("ignore:PySpark does not yet fully support pandas"),
)


def _every_type() -> pa.Table:
    schema = pa.schema(
        [
            pa.field("key", pa.string(), nullable=False),
            pa.field("text", pa.string()),
            pa.field("big", pa.int64()),
            pa.field("price", pa.float64()),
            pa.field("flag", pa.bool_()),
            pa.field("day", pa.date32()),
            pa.field("at", pa.timestamp("us", tz="UTC")),
        ]
    )
    rows = [
        ("a", 'ünïcode, "quoted"', 94_930_000_000, 153.57, True, date(2024, 9, 28), None),
        ("b", "", None, None, None, None, datetime(2024, 1, 2, 3, 4, 5, 6, tzinfo=UTC)),
        ("c", None, -(2**53) + 1, -0.1, False, date(1970, 1, 1), None),
    ]
    return pa.Table.from_pylist([dict(zip(schema.names, r, strict=True)) for r in rows], schema)


@pytest.mark.unit
def test_session_config_turns_on_aqe_arrow_and_loopback_and_off_the_ui(tmp_path: Path) -> None:
    jar = tmp_path / "postgresql.jar"
    jar.write_bytes(b"")
    config = session_config(SparkSettings(jdbc_jar=jar), "local[*]")
    assert config["spark.sql.adaptive.enabled"] == "true"
    assert config["spark.sql.execution.arrow.pyspark.enabled"] == "true"
    assert config["spark.ui.enabled"] == "false"
    assert config["spark.sql.shuffle.partitions"] == "8"
    assert config["spark.jars"] == str(jar)
    assert config["spark.driver.bindAddress"] == config["spark.driver.host"] == "127.0.0.1"
    remote = session_config(
        SparkSettings(jdbc_jar=tmp_path / "missing.jar", shuffle_partitions=64, ui_enabled=True),
        "spark://spark-master.example:7077",
    )
    assert remote["spark.sql.shuffle.partitions"] == "64"
    assert remote["spark.ui.enabled"] == "true"
    assert "spark.jars" not in remote
    assert "spark.driver.host" not in remote  # executors elsewhere must reach the driver


@pytest.mark.unit
def test_master_urls_are_parsed_or_refused() -> None:
    assert master_address("local[*]") is None
    assert master_address("local[2]") is None
    assert master_address("spark://127.0.0.1:7077") == ("127.0.0.1", 7077)
    for bad in ("yarn", "spark://host", "local[2", "mesos://h:1"):
        with pytest.raises(ConfigError, match="unsupported Spark master"):
            master_address(bad)


@pytest.mark.unit
def test_an_unreachable_master_is_an_engine_error_within_seconds() -> None:
    master = f"spark://127.0.0.1:{free_port()}"
    start = time.monotonic()
    with (
        pytest.raises(EngineError, match=f"the Spark master {master} is unreachable"),
        spark_session(SparkSettings(), master),
    ):
        pytest.fail("no session may start")
    assert time.monotonic() - start < 5
    with pytest.raises(EngineError, match="unreachable"):
        check_master("spark://192.0.2.1:7077", timeout_s=0.5)  # TEST-NET-1: never routed


@pytest.mark.unit
def test_missing_pyspark_is_a_not_installed_error(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "pyspark.sql", None)
    with (
        pytest.raises(NotInstalledError, match=r"pip install 'etl-service\[spark\]'"),
        spark_session(SparkSettings(), "local[1]"),
    ):
        pytest.fail("no session may start")


@pytest.mark.unit
def test_run_without_pyspark_exits_with_the_missing_extra_code(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    root = logging.getLogger()  # the CLI installs its handler on the captured stderr
    monkeypatch.setattr(root, "handlers", list(root.handlers))
    monkeypatch.setattr(root, "level", root.level)
    monkeypatch.setitem(sys.modules, "pyspark.sql", None)
    assert main(["run", "--engine", "spark", "--source", "snapshot"]) == EXIT_CODES["missing extra"]
    assert "PySpark is not installed" in capsys.readouterr().err


@pytest.mark.unit
def test_the_pipelines_package_works_without_pyspark() -> None:
    code = (
        "import sys; sys.modules['pyspark'] = None\n"
        "import etl_service.pipelines as p\n"
        "from etl_service.engines import AVAILABLE_ENGINES\n"
        "print(p.SparkETLPipeline.__name__, ' '.join(sorted(AVAILABLE_ENGINES)))"
    )
    done = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=60, check=False
    )
    expected = (0, "SparkETLPipeline glue spark standard\n")
    assert (done.returncode, done.stdout) == expected, done.stderr


def test_a_second_session_is_refused_while_one_is_active(spark: SparkSession) -> None:
    with (
        pytest.raises(EngineError, match="already active"),
        spark_session(SparkSettings(), "local[1]"),
    ):
        pytest.fail("the active session must not be reused")
    assert SparkSession.getActiveSession() is spark


@pytest.mark.parametrize("native", [ARROW_PATH, PANDAS_PATH])
def test_arrow_round_trip_keeps_types_nulls_and_values(spark: SparkSession, native: bool) -> None:
    table = _every_type()
    back = to_arrow(to_spark(spark, table, native), native)
    assert back.schema == table.schema
    assert back.to_pylist() == table.to_pylist()
    empty = table.slice(0, 0)
    assert to_arrow(to_spark(spark, empty, native), native).equals(empty)


@pytest.mark.parametrize("native", [ARROW_PATH, PANDAS_PATH])
def test_shared_sql_gives_duckdbs_result_on_spark(spark: SparkSession, native: bool) -> None:
    closes = pa.table(
        {
            "ticker": ["AAPL", "AAPL", "AAPL", "MSFT"],
            "date": [date(2024, 6, 27), date(2024, 6, 28), date(2024, 9, 27), date(2024, 3, 1)],
            "close": [213.25, 210.62, 227.79, 415.5],
            "source": ["stooq"] * 4,
            "adjusted_as_of": pa.array([None] * 4, pa.date32()),
        }
    )
    periods = pa.table(
        {
            "ticker": ["AAPL", "AAPL", "AAPL", "MSFT", "NVDA"],
            "period_end": [
                date(2024, 6, 29),
                date(2024, 9, 28),
                date(2024, 12, 28),
                date(2024, 3, 31),
                date(2024, 3, 31),
            ],
        }
    )
    results = []
    for session in (DuckDbSession(), SparkSqlSession(spark, native)):
        session.register("closes", closes)
        session.register("periods", periods)
        session.materialize("quarter_end_close", "quarter_closes")
        results.append(session.query("SELECT * FROM quarter_closes ORDER BY ticker, period_end"))
        session.close()
    duck, on_spark = results
    assert on_spark.to_pylist() == duck.to_pylist()
    assert [r["closing_price"] for r in on_spark.to_pylist()] == [210.62, 227.79, None, None, None]


def test_sql_constructs_the_shared_files_use_agree_on_both_engines(spark: SparkSession) -> None:
    sql = (
        "SELECT 7 / 2 AS ratio, CONCAT_WS('; ', 'a', NULL, 'b') AS joined, "
        "NULLIF(CONCAT_WS('; ', NULL), '') AS nothing, "
        "CONCAT('FY', CAST(2024 AS STRING)) AS fy, "
        "CAST(DATE '2024-03-01' - INTERVAL 1 DAY AS DATE) AS day_before, "
        "CAST(DATE '2024-03-01' AS STRING) AS day_text, "
        "LAST_DAY(MAKE_DATE(2024, QUARTER(DATE '2024-05-15') * 3, 1)) AS quarter_end, "
        "ROUND(0.1 + 0.2, 4) AS rounded, GREATEST(1.0, NULL, 3.0) AS greatest, "
        "(SELECT MIN(DATE '2024-03-01' - d.days_back) FROM (VALUES (0), (1)) AS d(days_back))"
        " AS minus_days"
    )
    engine = SparkSqlSession(spark)
    on_spark = engine.query(sql).to_pylist()
    engine.close()
    duck = DuckDbSession()
    on_duckdb = duck.query(sql).to_pylist()
    duck.close()
    expected = {
        "ratio": 3.5,
        "joined": "a; b",
        "nothing": None,
        "fy": "FY2024",
        "day_before": date(2024, 2, 29),
        "day_text": "2024-03-01",
        "quarter_end": date(2024, 6, 30),
        "minus_days": date(2024, 2, 29),
    }
    for row in (on_spark[0], on_duckdb[0]):
        assert {k: row[k] for k in expected} == expected
        assert float(row["rounded"]) == pytest.approx(0.3)
        assert float(row["greatest"]) == 3.0  # GREATEST skips nulls on both


def test_shuffle_partitions_follow_the_data(spark: SparkSession) -> None:
    assert size_shuffle_partitions(spark, 10_000) == 1
    assert spark.conf.get("spark.sql.shuffle.partitions") == "1"
    assert size_shuffle_partitions(spark, 5_500_000) == 6
    assert size_shuffle_partitions(spark, 10**12) == 2_000
    assert size_shuffle_partitions(spark, 10, pinned=3) == 3
    size_shuffle_partitions(spark, 10_000)


ROWS = pa.table({"cik": ["1", "1", "2"], "fiscal_year": [2023, 2024, 2024], "revenue": [1, 2, 3]})


def stage_with_spark(
    lake: Lake, spark: SparkSession, table: pa.Table, partition_by: tuple[str, ...] | None = None
) -> StagedTable:
    """Stage ``table`` in the curated zone as the Spark engine's lake sink does."""
    spec = REPORTS
    engine = SparkEngine(spark, SparkSettings())
    frame = engine.from_arrow(table)
    return lake.stage(
        Zone.CURATED,
        spec,
        engine.content_hash(frame),
        engine.num_rows(frame),
        lambda folder: engine.write_parquet(lake, frame, folder, partition_by or spec.partition_by),
        "spark-run",
    )


def test_spark_written_files_become_an_iceberg_snapshot_on_commit(
    spark: SparkSession, tmp_path: Path
) -> None:
    lake = open_lake(str(tmp_path / "lake"))
    staged = stage_with_spark(lake, spark, ROWS)
    assert lake.load(Zone.CURATED, "reports").current_snapshot() is None
    assert staged.folder is not None
    folder = Path(staged.folder.removeprefix("file://"))
    assert sorted(p.name for p in folder.iterdir()) == [
        "fiscal_year__partition=2023",
        "fiscal_year__partition=2024",
    ]
    assert all(p.suffix == ".parquet" for p in folder.rglob("*") if p.is_file())  # no .crc
    lake.commit(staged)
    back = lake.read(Zone.CURATED, "reports").sort_by("revenue")
    assert back.to_pylist() == ROWS.to_pylist()
    table = lake.load(Zone.CURATED, "reports")
    assert sorted(t.file.partition[0] for t in table.scan().plan_files()) == [2023, 2024]
    again = stage_with_spark(lake, spark, ROWS)
    assert not again.changed
    read = read_lake_table(spark, lake, Zone.CURATED, "reports")
    assert read.columns == ["cik", "fiscal_year", "revenue"]
    assert sorted(tuple(r) for r in read.collect()) == [
        ("1", 2023, 1),
        ("1", 2024, 2),
        ("2", 2024, 3),
    ]


def test_a_failed_spark_lake_write_leaves_no_files(spark: SparkSession, tmp_path: Path) -> None:
    lake = open_lake(str(tmp_path / "lake"))
    with pytest.raises(LoadError, match=r"Spark could not write .*reports"):
        stage_with_spark(lake, spark, ROWS, ("no_such_column",))
    assert list((tmp_path / "lake").glob("curated/reports/data/*")) == []


@pytest.mark.aws
def test_the_spark_engine_writes_an_s3_lake(
    spark: SparkSession, moto: MotoServer, tmp_path: Path
) -> None:
    settings = moto.settings(
        lake_uri=f"s3://spark-{uuid.uuid4().hex[:8]}/sp500",
        catalog=CatalogSettings(type="glue", namespace=f"spark_{uuid.uuid4().hex[:6]}"),
    )
    bucket = settings.lake_uri.removeprefix("s3://").split("/")[0]
    client(boto3_session(settings), "s3", moto.endpoint_url).create_bucket(Bucket=bucket)
    lake = build_lake(settings)
    lake.commit(stage_with_spark(lake, spark, ROWS))
    back = lake.read(Zone.CURATED, "reports").sort_by("revenue")
    assert back.to_pylist() == ROWS.to_pylist()
    files = lake.data_file_uris(Zone.CURATED, "reports")
    assert len(files) == 2
    assert all(f.startswith(f"{settings.lake_uri}/curated/reports/data/") for f in files)


@pytest.mark.unit
def test_jdbc_target_maps_the_database_url_and_hides_the_password() -> None:
    url = sa.make_url("postgresql+psycopg://etl:s3cret@db.internal:6543/prod?sslmode=require")
    target = jdbc_target(url)
    assert target.url == "jdbc:postgresql://db.internal:6543/prod"
    assert target.properties["user"] == "etl"
    assert target.properties["password"] == "s3cret"
    assert target.properties["sslmode"] == "require"
    assert target.properties["stringtype"] == "unspecified"
    assert "s3cret" not in repr(target)
    with pytest.raises(ConfigError, match="need PostgreSQL"):
        jdbc_target(sa.make_url("sqlite:///etl.db"))


def test_spark_content_digest_ignores_order_and_partitioning_but_not_content(
    spark: SparkSession,
) -> None:
    engine = SparkEngine(spark, SparkSettings())
    table = _every_type()
    digest = engine.content_hash(engine.from_arrow(table))
    shuffled = engine.from_arrow(table.take(list(reversed(range(table.num_rows)))))
    assert engine.content_hash(shuffled.repartition(3)) == digest
    changed = table.set_column(0, table.field(0), pa.array(["changed"] * table.num_rows))
    assert engine.content_hash(engine.from_arrow(changed)) != digest
    renamed = table.rename_columns(["renamed", *table.column_names[1:]])
    assert engine.content_hash(engine.from_arrow(renamed)) != digest
    assert engine.content_hash(engine.from_arrow(table.slice(0, 1))) != digest
    moved = pa.table({"a": [None, "x"], "b": ["x", None]})
    swapped = pa.table({"a": ["x", None], "b": [None, "x"]})
    assert engine.content_hash(engine.from_arrow(moved.slice(0, 1))) != engine.content_hash(
        engine.from_arrow(swapped.slice(0, 1))
    )
