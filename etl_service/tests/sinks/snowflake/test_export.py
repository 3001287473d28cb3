"""The Snowflake export against the fakesnow server: idempotent, evolving, failing cleanly.

Where fakesnow differs from Snowflake the test says so; the README lists every gap. Not
exercised here for that reason: transient tables (ordinary ones there), the MERGEs of all
tables committing together (fakesnow commits before each MERGE), grants.
"""

from __future__ import annotations

import logging
import socket
import sqlite3
import time
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path
from typing import Any

import pyarrow as pa
import pytest
from pydantic import SecretStr

from etl_service.cli import main
from etl_service.errors import CopyError, SchemaError
from etl_service.pipelines import build_pipeline
from etl_service.pipelines.snowflake_export import export_to_snowflake
from etl_service.settings import Settings, SnowflakeSettings
from etl_service.sinks.snowflake import SnowflakeSink
from etl_service.sinks.snowflake.connection import Connection, Session, connect
from etl_service.sinks.snowflake.sink import StagedExport, StagedTable, load_staging
from etl_service.src.db.engine import create_engine
from etl_service.src.db.reader import read_tables
from etl_service.src.models.schemas import (
    COMPANIES,
    CURATED_TABLES,
    Column,
    ColumnType,
    TableSpec,
)
from etl_service.tests.pipelines.conftest import snapshot_settings
from etl_service.tests.sinks.snowflake.conftest import (
    create_database,
    fakesnow_settings,
    fetch,
    qualified,
    rows_by_key,
    snowflake_rows,
    table_names,
)
from etl_service.tests.support.env import cli_env
from etl_service.tests.support.tables import checksums, table_rows

pytestmark = pytest.mark.snowflake

TARGETS = sorted(spec.name.upper() for spec in CURATED_TABLES)


@pytest.fixture(scope="module")
def run(fakesnow_conn_kwargs: dict[str, Any], tmp_path_factory: pytest.TempPathFactory) -> Settings:
    """One snapshot run whose sinks end with Snowflake (listed first, so it commits last)."""
    snowflake = fakesnow_settings(fakesnow_conn_kwargs, create_database(fakesnow_conn_kwargs))
    settings = snapshot_settings(
        tmp_path_factory.mktemp("run"),
        sinks=("snowflake", "lake", "database"),
        snowflake=snowflake,
    )
    with build_pipeline(settings) as pipeline:  # connects to Snowflake from the settings
        report = pipeline.run()
    assert report.status == "succeeded"
    assert report.destinations[0] == f"snowflake://fakesnow/{snowflake.database}.PUBLIC via " + (
        f"http://127.0.0.1:{snowflake.port}"
    )
    return settings


@pytest.fixture
def copy_of_run(run: Settings, snowflake_settings: SnowflakeSettings, tmp_path: Path) -> Settings:
    """The run's database copied for a test to change, exporting to a fresh Snowflake database."""
    path = tmp_path / "etl.db"
    source = sqlite3.connect(run.database_url_value.removeprefix("sqlite:///"))
    target = sqlite3.connect(path)
    source.backup(target)
    source.close()
    target.close()
    return run.model_copy(
        update={"database_url": SecretStr(f"sqlite:///{path}"), "snowflake": snowflake_settings}
    )


@pytest.fixture
def silent_endpoint() -> Iterator[int]:
    """A port that accepts connections and never answers: a Snowflake that hangs."""
    with socket.socket() as server:
        server.bind(("127.0.0.1", 0))
        server.listen(16)
        yield int(server.getsockname()[1])


def _assert_equal_to_database(settings: Settings, conn: Connection, specs: list[TableSpec]) -> None:
    engine = create_engine(settings.database_url_value)
    for spec in specs:
        exported = snowflake_rows(conn, settings.snowflake, spec)
        assert exported == rows_by_key(spec, table_rows(engine, spec.name)), spec.name
        keys = {tuple(row[spec.column_names.index(k)] for k in spec.key) for row in exported}
        assert len(keys) == len(exported), f"{spec.name} has duplicate keys"
    engine.dispose()


def _frame_rows(spec: TableSpec, frame: pa.Table) -> list[tuple[Any, ...]]:
    columns = [frame.column(name).to_pylist() for name in spec.column_names]
    return rows_by_key(spec, list(zip(*columns, strict=True)))


def _export_env(settings: Settings, monkeypatch: pytest.MonkeyPatch) -> None:
    """The CLI's environment for ``settings``; the root log handlers it replaces come back."""
    root = logging.getLogger()  # the CLI installs its handler on the captured stderr
    monkeypatch.setattr(root, "handlers", list(root.handlers))
    monkeypatch.setattr(root, "level", root.level)
    snowflake = settings.snowflake
    assert snowflake.password is not None
    env = cli_env(settings) | {
        "ETL_SNOWFLAKE__ACCOUNT": str(snowflake.account),
        "ETL_SNOWFLAKE__USER": str(snowflake.user),
        "ETL_SNOWFLAKE__PASSWORD": snowflake.password.get_secret_value(),
        "ETL_SNOWFLAKE__HOST": str(snowflake.host),
        "ETL_SNOWFLAKE__PORT": str(snowflake.port),
        "ETL_SNOWFLAKE__PROTOCOL": snowflake.protocol,
        "ETL_SNOWFLAKE__DATABASE": snowflake.database,
        "ETL_SNOWFLAKE__SCHEMA": snowflake.schema_name,
        "ETL_SNOWFLAKE__LOGIN_TIMEOUT_S": str(snowflake.login_timeout_s),
    }
    for key, value in env.items():
        monkeypatch.setenv(key, value)


def test_a_run_with_the_snowflake_sink_leaves_every_table_equal_to_the_database(
    run: Settings,
) -> None:
    conn = connect(run.snowflake)
    try:
        _assert_equal_to_database(run, conn, list(CURATED_TABLES))
        assert table_names(conn, run.snowflake) == TARGETS  # no staging table is left
    finally:
        conn.close()


def test_statements_get_the_default_socket_timeout_back_after_the_login(
    snowflake_connection: Connection,
) -> None:
    # The login ran with socket_timeout = login_timeout_s (10 s here); a read timeout under
    # 45 s would never see Snowflake's progress answer to a long COPY or MERGE.
    assert snowflake_connection.socket_timeout is None  # type: ignore[attr-defined]


def test_exporting_again_rewrites_nothing_and_adds_no_duplicates(run: Settings) -> None:
    report = export_to_snowflake(run)
    assert report.rows == {spec.name: report.rows[spec.name] for spec in CURATED_TABLES}
    assert report.rows["companies"] == 503
    assert {name: sum(counts.values()) for name, counts in report.merged.items()} == {
        spec.name: 0 for spec in CURATED_TABLES
    }
    conn = connect(run.snowflake)
    try:
        _assert_equal_to_database(run, conn, list(CURATED_TABLES))
        assert table_names(conn, run.snowflake) == TARGETS
    finally:
        conn.close()


def test_a_changed_row_is_updated_and_a_removed_one_deleted(
    copy_of_run: Settings, snowflake_connection: Connection
) -> None:
    changed = ["companies", "quarterly_reports", "former_members"]
    first = export_to_snowflake(copy_of_run, changed)
    assert first.merged["companies"] == {"inserted": 503, "updated": 0, "deleted": 0}
    engine = create_engine(copy_of_run.database_url_value)
    apple = "cik = '0000320193' AND revenue IS NOT NULL"
    with engine.begin() as db:
        changes = [
            "UPDATE companies SET name = 'Apple Inc. (renamed)' WHERE ticker = 'AAPL'",
            f"UPDATE quarterly_reports SET revenue = revenue + 1 WHERE {apple} AND period_end = "
            f"(SELECT max(period_end) FROM quarterly_reports WHERE {apple})",
            "DELETE FROM former_members WHERE ticker = (SELECT min(ticker) FROM former_members)",
        ]
        assert [db.exec_driver_sql(sql).rowcount for sql in changes] == [1, 1, 1]
    engine.dispose()

    second = export_to_snowflake(copy_of_run, changed)

    assert second.merged["companies"] == {"inserted": 0, "updated": 1, "deleted": 0}
    assert second.merged["quarterly_reports"] == {"inserted": 0, "updated": 1}
    assert second.merged["former_members"] == {"inserted": 0, "updated": 0, "deleted": 1}
    _assert_equal_to_database(
        copy_of_run, snowflake_connection, [s for s in CURATED_TABLES if s.name in changed]
    )
    name = fetch(
        snowflake_connection,
        f"SELECT name FROM {qualified(copy_of_run.snowflake, 'companies')} WHERE ticker = 'AAPL'",
    )
    assert name == [("Apple Inc. (renamed)",)]


def test_a_new_nullable_column_is_added_and_filled(
    run: Settings, snowflake_settings: SnowflakeSettings, snowflake_connection: Connection
) -> None:
    companies = read_tables(create_engine(run.database_url_value), [COMPANIES])["companies"]
    SnowflakeSink(snowflake_connection, snowflake_settings, "a", tables=[COMPANIES]).stage_tables(
        {"companies": companies}
    ).commit()
    wider = replace(COMPANIES, columns=(*COMPANIES.columns, Column("ir_url", ColumnType.STRING)))
    urls = [f"https://ir.example/{t}" for t in companies.column("ticker").to_pylist()]
    frame = companies.append_column("ir_url", pa.array(urls))

    staged = SnowflakeSink(snowflake_connection, snowflake_settings, "b", tables=[wider])
    export = staged.stage_tables({"companies": frame})
    export.commit()

    assert export.merged["companies"] == {"inserted": 0, "updated": 503, "deleted": 0}
    columns = fetch(
        snowflake_connection,
        f"SELECT COLUMN_NAME, DATA_TYPE, IS_NULLABLE FROM {snowflake_settings.database}"
        ".INFORMATION_SCHEMA.COLUMNS WHERE TABLE_NAME = 'COMPANIES' ORDER BY ORDINAL_POSITION",
    )
    assert columns[-1] == ("IR_URL", "TEXT", "YES")
    assert [c[0] for c in columns] == [c.upper() for c in wider.column_names]
    assert snowflake_rows(snowflake_connection, snowflake_settings, wider) == _frame_rows(
        wider, frame
    )


def test_a_type_change_is_an_error_naming_table_and_column_and_changes_nothing(
    run: Settings, snowflake_settings: SnowflakeSettings, snowflake_connection: Connection
) -> None:
    companies = read_tables(create_engine(run.database_url_value), [COMPANIES])["companies"]
    sink = SnowflakeSink(snowflake_connection, snowflake_settings, "a", tables=[COMPANIES])
    sink.stage_tables({"companies": companies}).commit()
    before = snowflake_rows(snowflake_connection, snowflake_settings, COMPANIES)
    retyped = replace(
        COMPANIES,
        columns=tuple(
            replace(c, type=ColumnType.STRING) if c.name == "year_founded" else c
            for c in COMPANIES.columns
        ),
    )
    changed = SnowflakeSink(snowflake_connection, snowflake_settings, "b", tables=[retyped])

    with pytest.raises(SchemaError) as caught:
        changed.stage_tables({"companies": companies})

    table = qualified(snowflake_settings, "companies")
    assert str(caught.value).startswith(
        f"{table}: type changed from NUMBER in Snowflake to VARCHAR"
    )
    assert (caught.value.source, caught.value.field) == (table, "YEAR_FOUNDED")
    assert snowflake_rows(snowflake_connection, snowflake_settings, COMPANIES) == before
    assert table_names(snowflake_connection, snowflake_settings) == ["COMPANIES"]


def test_a_copy_error_names_the_table_and_files_and_keeps_no_staging_table(
    snowflake_settings: SnowflakeSettings, snowflake_connection: Connection, tmp_path: Path
) -> None:
    # A file whose values do not fit the staging table: a string column loaded as a number.
    written = TableSpec(
        "t", (Column("k", ColumnType.STRING, False), Column("v", ColumnType.STRING)), ("k",), ""
    )
    loaded_as = replace(written, columns=(written.columns[0], Column("v", ColumnType.INT64)))
    data = pa.table({"k": ["a", "b"], "v": ["1", "not a number"]})
    session = Session(snowflake_connection)
    stage = qualified(snowflake_settings, "copy_error_stage")
    session.execute(f"CREATE TEMPORARY STAGE {stage}")
    staging = qualified(snowflake_settings, "t__etl_stage_x")
    table = StagedTable(loaded_as, qualified(snowflake_settings, "t"), staging, [])

    with pytest.raises(CopyError) as caught:
        load_staging(session, table, data, tmp_path / "t", f"@{stage}/t/", snowflake_settings)
    StagedExport(session, [table]).discard()

    # fakesnow reports no file or row (Snowflake does: see test_statements), so the error
    # lists the files staged for the table instead.
    assert str(caught.value).startswith(f"COPY INTO {staging} failed: ")
    assert "'not a number'" in str(caught.value)
    assert "part-00000.parquet" in str(caught.value)
    assert table_names(snowflake_connection, snowflake_settings) == []


def test_the_cli_exports_the_chosen_tables_from_the_lake(
    copy_of_run: Settings,
    snowflake_connection: Connection,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    _export_env(copy_of_run, monkeypatch)
    code = main(
        ["export", "snowflake", "--tables", "companies,sector_aggregates", "--from", "lake"]
    )
    assert code == 0, capsys.readouterr().err
    assert table_names(snowflake_connection, copy_of_run.snowflake) == [
        "COMPANIES",
        "SECTOR_AGGREGATES",
    ]
    specs = [s for s in CURATED_TABLES if s.name in {"companies", "sector_aggregates"}]
    _assert_equal_to_database(copy_of_run, snowflake_connection, specs)
    out = capsys.readouterr().out
    assert "companies" in out
    assert "from lake to snowflake://fakesnow/" in out


def test_an_unreachable_endpoint_fails_within_the_timeout_and_changes_nothing(
    copy_of_run: Settings,
    silent_endpoint: int,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    unreachable = copy_of_run.snowflake.model_copy(
        update={
            "port": silent_endpoint,
            "login_timeout_s": 2,
            "password": SecretStr("hunter2-secret"),
        }
    )
    settings = copy_of_run.model_copy(
        update={"snowflake": unreachable, "sinks": ("snowflake", "lake", "database")}
    )
    engine = create_engine(settings.database_url_value)
    before = checksums(engine, [*(s.name for s in CURATED_TABLES), "pipeline_runs"])
    lake_before = sorted(p.read_text() for p in settings.data_dir.rglob("_current.json"))
    _export_env(settings, monkeypatch)

    for argv in (["export", "snowflake"], ["run"]):
        started = time.monotonic()
        code = main(argv)
        elapsed = time.monotonic() - started
        err = capsys.readouterr().err
        assert code == 7, err
        assert elapsed < 2 + 8, f"{argv} took {elapsed:.1f}s"  # slack: the run also migrates
        assert err.startswith(f"error: cannot reach snowflake://fakesnow/{unreachable.database}")
        assert "within 2s (ETL_SNOWFLAKE__LOGIN_TIMEOUT_S)" in err
        assert "hunter2" not in err

    assert checksums(engine, [*(s.name for s in CURATED_TABLES), "pipeline_runs"]) == before
    assert sorted(p.read_text() for p in settings.data_dir.rglob("_current.json")) == lake_before
