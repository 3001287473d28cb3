"""What the export sends Snowflake, decided offline: types, DDL, MERGE, COPY's errors, files."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from pydantic import SecretStr, ValidationError

from etl_service.errors import ConfigError, SchemaError
from etl_service.pipelines.snowflake_export import choose_tables
from etl_service.settings import Settings, SnowflakeSettings
from etl_service.sinks.snowflake.connection import connect_kwargs, endpoint
from etl_service.sinks.snowflake.schema import (
    SNOWFLAKE_TYPES,
    ExistingColumn,
    create_table_sql,
    evolve_sql,
)
from etl_service.sinks.snowflake.sink import write_parquet_files
from etl_service.sinks.snowflake.sql import copy_error, copy_sql, merge_sql, put_sql
from etl_service.src.models.schemas import (
    CURATED_TABLES,
    INDEX_MEMBERSHIP,
    PRICES_PE,
    Column,
    ColumnType,
    TableSpec,
)

pytestmark = pytest.mark.unit

SPEC = TableSpec(
    "t",
    (
        Column("k", ColumnType.STRING, False),
        Column("n", ColumnType.INT64, False),
        Column("x", ColumnType.FLOAT64),
    ),
    ("k",),
    "",
)
EXISTING = [
    ExistingColumn("K", "TEXT", False),
    ExistingColumn("N", "NUMBER", False, 0),
    ExistingColumn("X", "FLOAT", True),
]
TABLE = '"DB"."S"."T"'


def test_every_canonical_type_has_one_snowflake_type() -> None:
    assert set(SNOWFLAKE_TYPES) == set(ColumnType)
    used = {c.type for spec in CURATED_TABLES for c in spec.columns}
    assert {SNOWFLAKE_TYPES[t].ddl for t in used} == {
        "VARCHAR",
        "NUMBER(38,0)",
        "FLOAT",
        "BOOLEAN",
        "DATE",
    }


def test_the_target_has_the_natural_key_and_staging_is_transient_without_constraints() -> None:
    assert create_table_sql(SPEC, TABLE) == (
        'CREATE TABLE IF NOT EXISTS "DB"."S"."T" ("K" VARCHAR NOT NULL, "N" NUMBER(38,0) NOT '
        'NULL, "X" FLOAT, PRIMARY KEY ("K"))'
    )
    assert create_table_sql(SPEC, TABLE, transient=True) == (
        'CREATE TRANSIENT TABLE "DB"."S"."T" ("K" VARCHAR, "N" NUMBER(38,0), "X" FLOAT) '
        "DATA_RETENTION_TIME_IN_DAYS = 0"
    )


def test_a_sync_table_merges_and_deletes_in_one_statement_updating_only_changed_rows() -> None:
    sql = merge_sql(INDEX_MEMBERSHIP, '"T"', '"S"')
    assert sql.startswith('MERGE INTO "T" AS t USING (SELECT "TICKER", "CIK", "VALID_FROM"')
    assert 'FALSE AS "_ETL_DELETE" FROM "S" UNION ALL SELECT d."TICKER"' in sql
    assert 'WHERE NOT EXISTS (SELECT 1 FROM "S" AS n WHERE n."TICKER" = d."TICKER" AND ' in sql
    assert 'ON t."TICKER" = s."TICKER" AND t."VALID_FROM" = s."VALID_FROM" ' in sql
    assert 'WHEN MATCHED AND s."_ETL_DELETE" THEN DELETE WHEN MATCHED AND (' in sql
    assert (
        '(t."CIK" IS DISTINCT FROM s."CIK" OR t."VALID_TO" IS DISTINCT FROM s."VALID_TO" OR '
        't."DERIVATION" IS DISTINCT FROM s."DERIVATION") THEN UPDATE SET "CIK" = s."CIK", '
    ) in sql
    assert 't."TICKER" IS DISTINCT' not in sql  # the key is never updated
    assert sql.endswith(
        'WHEN NOT MATCHED THEN INSERT ("TICKER", "CIK", "VALID_FROM", "VALID_TO", "DERIVATION") '
        'VALUES (s."TICKER", s."CIK", s."VALID_FROM", s."VALID_TO", s."DERIVATION")'
    )


def test_a_merge_table_keeps_rows_the_export_does_not_mention() -> None:
    sql = merge_sql(PRICES_PE, '"T"', '"S"')
    assert sql.startswith('MERGE INTO "T" AS t USING "S" AS s ON t."TICKER" = s."TICKER" AND ')
    assert "DELETE" not in sql
    assert "WHEN MATCHED AND (" in sql


def test_copy_loads_by_column_name_and_aborts_on_the_first_error() -> None:
    assert copy_sql('"STG"', '@"ST"/t/') == (
        'COPY INTO "STG" FROM @"ST"/t/ FILE_FORMAT = (TYPE = PARQUET USE_LOGICAL_TYPE = TRUE '
        "BINARY_AS_TEXT = FALSE) MATCH_BY_COLUMN_NAME = CASE_INSENSITIVE ON_ERROR = "
        "ABORT_STATEMENT PURGE = TRUE"
    )
    assert put_sql(Path("/tmp/x"), '@"ST"/t/', 8) == (
        "PUT 'file:///tmp/x/*.parquet' @\"ST\"/t/ PARALLEL = 8 AUTO_COMPRESS = FALSE "
        "OVERWRITE = TRUE"
    )


def test_a_copy_error_names_the_file_row_and_column_snowflake_reports() -> None:
    # The shape of Snowflake's ON_ERROR = ABORT_STATEMENT message (error 100038).
    message = (
        "Numeric value 'abc' is not recognized\n  File 't/part-00001.parquet', line 7, "
        'character 12\n  Row 7, column "STG"["N":2]\n  If you would like to continue loading '
        "when an error is encountered, use other values such as 'SKIP_FILE' or 'CONTINUE' for "
        "the ON_ERROR option."
    )
    error = copy_error('"STG"', message, ["part-00000.parquet", "part-00001.parquet"])
    assert str(error) == (
        'COPY INTO "STG" failed at file t/part-00001.parquet, row 7, column "STG"["N":2]: '
        "Numeric value 'abc' is not recognized"
    )
    assert (error.file, error.row) == ("t/part-00001.parquet", 7)


def test_a_copy_error_without_a_position_lists_the_staged_files() -> None:
    error = copy_error('"STG"', "Conversion Error: 'x' to INT64\nLINE 1: ...", ["a.parquet"])
    assert str(error) == (
        "COPY INTO \"STG\" failed: Conversion Error: 'x' to INT64 (the endpoint named no file "
        "or row; staged files: a.parquet)"
    )
    assert (error.file, error.row) == (None, None)


def test_an_added_nullable_column_is_altered_in_and_a_relaxed_one_loses_not_null() -> None:
    wider = replace(
        SPEC,
        columns=(
            SPEC.columns[0],
            replace(SPEC.columns[1], nullable=True),
            SPEC.columns[2],
            Column("note", ColumnType.STRING),
        ),
    )
    assert evolve_sql(wider, TABLE, EXISTING) == [
        f'ALTER TABLE {TABLE} ALTER COLUMN "N" DROP NOT NULL',
        f'ALTER TABLE {TABLE} ADD COLUMN "NOTE" VARCHAR',
    ]
    assert evolve_sql(SPEC, TABLE, EXISTING) == []
    assert evolve_sql(SPEC, TABLE, []) == []  # a new table is created, not evolved
    assert evolve_sql(SPEC, TABLE, [*EXISTING, ExistingColumn("OLD", "TEXT", True)]) == []


@pytest.mark.parametrize(
    ("existing", "spec", "column", "says"),
    [
        (EXISTING, replace(SPEC, columns=(*SPEC.columns[:2], Column("x", ColumnType.STRING))),
         "X", "type changed from FLOAT in Snowflake to VARCHAR (string)"),
        ([*EXISTING[:1], ExistingColumn("N", "NUMBER", False, 2), EXISTING[2]], SPEC,
         "N", "type changed from NUMBER(scale 2) in Snowflake to NUMBER(38,0) (int64)"),
        (EXISTING, replace(SPEC, columns=(*SPEC.columns, Column("y", ColumnType.DATE, False))),
         "Y", "a new NOT NULL column cannot be added to existing rows"),
        ([*EXISTING, ExistingColumn("GONE", "TEXT", False)], SPEC,
         "GONE", "a NOT NULL column is no longer in the table's spec"),
    ],
)  # fmt: skip
def test_a_breaking_change_names_the_table_and_the_column(
    existing: list[ExistingColumn], spec: TableSpec, column: str, says: str
) -> None:
    with pytest.raises(SchemaError) as caught:
        evolve_sql(spec, TABLE, existing)
    assert str(caught.value).startswith(f"{TABLE}: {says}")
    assert str(caught.value).endswith(f"(field {column!r})")
    assert (caught.value.source, caught.value.field) == (TABLE, column)


def test_files_hold_about_the_configured_size_and_every_row_in_order(tmp_path: Path) -> None:
    table = pa.table(
        {"k": [f"key-{i:04d}" for i in range(1000)], "x": [float(i) for i in range(1000)]}
    )
    files = write_parquet_files(table, tmp_path / "t", table.nbytes // 4)
    assert [f.name for f in files] == [f"part-{i:05d}.parquet" for i in range(4)]
    assert pa.concat_tables(pq.read_table(f) for f in files).equals(table)
    empty = write_parquet_files(table.slice(0, 0), tmp_path / "e", 1000)
    assert [pq.read_table(f).num_rows for f in empty] == [0]
    assert len(write_parquet_files(table, tmp_path / "one", 2**30)) == 1


def test_connection_arguments_come_from_the_settings_and_secrets_stay_out_of_messages() -> None:
    settings = SnowflakeSettings(
        account="acme-xy12345",
        user="etl",
        password=SecretStr("hunter2"),
        warehouse="LOAD_WH",
        database="analytics",
        schema="sp500",
        role="ETL_LOADER",
        host="127.0.0.1",
        port=8080,
        protocol="http",
        login_timeout_s=5,
    )
    kwargs = connect_kwargs(settings)
    assert kwargs == {
        "account": "acme-xy12345",
        "user": "etl",
        "password": "hunter2",
        "database": "analytics",
        "schema": "sp500",
        "warehouse": "LOAD_WH",
        "role": "ETL_LOADER",
        "host": "127.0.0.1",
        "port": 8080,
        "protocol": "http",
        "login_timeout": 5,
        "socket_timeout": 5,
        "application": "etl-service",
        "session_parameters": {"CLIENT_OUT_OF_BAND_TELEMETRY_ENABLED": False},
    }
    assert (
        endpoint(settings) == "snowflake://acme-xy12345/ANALYTICS.SP500 via http://127.0.0.1:8080"
    )
    assert "hunter2" not in repr(settings) + endpoint(settings)


def test_key_pair_authentication_and_the_environment(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setenv("ETL_SNOWFLAKE__ACCOUNT", "acme")
    monkeypatch.setenv("ETL_SNOWFLAKE__USER", "etl")
    monkeypatch.setenv("ETL_SNOWFLAKE__PRIVATE_KEY_FILE", str(tmp_path / "key.p8"))
    monkeypatch.setenv("ETL_SNOWFLAKE__PRIVATE_KEY_FILE_PWD", "phrase")
    monkeypatch.setenv("ETL_SNOWFLAKE__NETWORK_TIMEOUT_S", "600")
    kwargs = connect_kwargs(Settings().snowflake)
    assert kwargs["private_key_file"] == str(tmp_path / "key.p8")
    assert kwargs["private_key_file_pwd"] == "phrase"
    assert kwargs["network_timeout"] == 600
    assert "password" not in kwargs
    monkeypatch.setenv("ETL_SNOWFLAKE__PASSWORD", "pw")
    with pytest.raises(ValidationError, match="PASSWORD or __PRIVATE_KEY_FILE, not both"):
        Settings()


def test_a_missing_setting_is_named() -> None:
    with pytest.raises(ConfigError) as caught:
        connect_kwargs(SnowflakeSettings(account="acme"))
    assert str(caught.value) == (
        "Snowflake is not configured: set ETL_SNOWFLAKE__USER, __PASSWORD (or __PRIVATE_KEY_FILE)"
    )


def test_tables_are_chosen_by_name() -> None:
    assert [s.name for s in choose_tables(["prices_pe", "companies"])] == ["companies", "prices_pe"]
    assert choose_tables([]) == list(CURATED_TABLES)
    with pytest.raises(ConfigError, match=r"unknown tables \['quarantine'\]: choose from "):
        choose_tables(["quarantine"])
