"""The command line: version, help, db commands, exit codes and error lines."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import sqlalchemy as sa

from etl_service import __version__
from etl_service.cli import main
from etl_service.errors import EXIT_CODES

pytestmark = pytest.mark.unit


def test_version_and_help(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["--version"]) == 0
    assert __version__ in capsys.readouterr().out
    assert main(["--help"]) == 0
    out = capsys.readouterr().out
    for word in ("db", "extract", "Exit codes", "--log-format"):
        assert word in out
    assert "  7  another run in progress\n" in out
    assert "143  terminated by SIGTERM\n" in out


def test_db_upgrade_creates_the_schema_at_the_default_sqlite_path(
    capsys: pytest.CaptureFixture[str],
) -> None:
    assert main(["db", "upgrade"]) == 0
    db_file = Path("data/etl.db")
    assert db_file.exists()
    tables = set(sa.inspect(sa.create_engine(f"sqlite:///{db_file}")).get_table_names())
    assert {"companies", "quarterly_reports", "prices_pe", "pipeline_runs"} <= tables
    assert main(["db", "current"]) == 0
    assert "current: 0007" in capsys.readouterr().out
    assert main(["db", "downgrade"]) == 2  # no revision: a usage error, nothing dropped
    assert main(["db", "downgrade", "base"]) == 2  # no terminal to confirm on: needs --yes
    assert main(["db", "current"]) == 0
    assert "current: 0007" in capsys.readouterr().out
    assert main(["db", "downgrade", "base", "--yes"]) == 0
    assert main(["db", "current"]) == 0
    assert "current: base" in capsys.readouterr().out


def test_read_only_commands_never_create_a_database(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["query", "sectors"]) == 7
    assert main(["db", "current"]) == 7
    err = capsys.readouterr().err
    assert "no database at data/etl.db: run `etl-service run`" in err
    assert len(err.strip().splitlines()) == 2
    assert not Path("data").exists()


def test_a_file_that_is_not_a_database_is_a_store_error(capsys: pytest.CaptureFixture[str]) -> None:
    Path("data").mkdir()
    Path("data/etl.db").write_bytes(b"this is not SQLite" * 100)
    assert main(["query", "sectors"]) == 7
    err = capsys.readouterr().err
    assert err.startswith("error: cannot use the database sqlite:///data/etl.db:")
    assert "file is not a database" in err
    assert "Traceback" not in err


@pytest.mark.parametrize(
    ("env", "expected"),
    [
        ({"ETL_HTTP__TIMEOUT_S": "abc"}, "ETL_HTTP__TIMEOUT_S='abc': Input should be a valid"),
        ({"ETL_HTTP__MAX_RETRIES": "-5"}, "ETL_HTTP__MAX_RETRIES='-5': Input should be greater"),
        ({"ETL_SOURCE": "bogus"}, "ETL_SOURCE='bogus': Input should be 'auto', 'live' or"),
        ({"ETL_LAKE_URI": ""}, "ETL_LAKE_URI='': Value error, must not be empty"),
        ({"ETL_HISTORY_START": "2999-01-02"}, "2999-01-02 is in the future"),
        ({"ETL_SINKS": "lake["}, "ETL_SINKS: not valid JSON"),
        (
            {"ETL_DATABASE_URL": "postgresql://u:sentinel-pw@localhost:99999/db"},
            "ETL_DATABASE_URL: Value error, port 99999 is outside 1-65535",
        ),
    ],
)
def test_a_bad_setting_is_one_line_naming_setting_and_value_exit_2(
    env: dict[str, str],
    expected: str,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    assert main(["query", "sectors"]) == 2
    err = capsys.readouterr().err
    assert expected in err
    assert len(err.strip().splitlines()) == 1
    assert "sentinel-pw" not in err


def test_a_dotenv_that_is_not_utf8_is_a_configuration_error(
    capsys: pytest.CaptureFixture[str],
) -> None:
    Path(".env").write_bytes(b"ETL_SOURCE=\xff\xfe\n")
    assert main(["query", "sectors"]) == 2
    assert "the .env file is not UTF-8 text" in capsys.readouterr().err


def test_data_dir_alone_moves_the_database(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ETL_DATA_DIR", "elsewhere")
    assert main(["db", "upgrade"]) == 0
    assert Path("elsewhere/etl.db").exists()
    assert not Path("data").exists()


def test_unreachable_database_is_one_clear_line_with_its_exit_code(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("ETL_DATABASE_URL", "postgresql://etl:s3cret@127.0.0.1:1/etl")
    code = main(["db", "upgrade"])
    err = capsys.readouterr().err
    assert code == EXIT_CODES["store unavailable or load failed"]
    assert err.startswith("error: cannot reach the database postgresql+psycopg://etl:***@")
    assert "s3cret" not in err
    assert "Traceback" not in err


def test_unsupported_database_is_a_configuration_error(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("ETL_DATABASE_URL", "mysql://x@h/db")
    assert main(["db", "current"]) == EXIT_CODES["configuration"]
    assert "ETL_DATABASE_URL: Value error, unsupported database 'mysql'" in capsys.readouterr().err


def test_debug_shows_the_traceback_and_json_logs_are_json(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("ETL_DATABASE_URL", "postgresql://etl@127.0.0.1:1/etl")
    assert main(["--debug", "--log-format", "json", "db", "upgrade"]) != 0
    err_lines = [line for line in capsys.readouterr().err.splitlines() if line.startswith("{")]
    record = json.loads(err_lines[0])
    assert record["level"] == "error"
    assert "Traceback" in record["exc"]


def test_an_invalid_setting_is_a_configuration_error_naming_the_variable(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("ETL_RUN_LOCK_TIMEOUT_S", "-1")
    assert main(["run"]) == EXIT_CODES["configuration"]
    assert capsys.readouterr().err == (
        "error: invalid settings: ETL_RUN_LOCK_TIMEOUT_S='-1': "
        "Input should be greater than or equal to 0\n"
    )


def test_max_input_bytes_bounds_every_input_file(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    Path("prices.csv").write_text("Date,Open,High,Low,Close,Volume\n2024-01-02,1,1,1,2,3\n" * 10)
    monkeypatch.setenv("ETL_MAX_INPUT_BYTES", "100")
    assert main(["extract", "prices", "--input", "prices.csv"]) == 4
    err = capsys.readouterr().err
    assert "prices.csv: is 530 bytes, over the 100 bytes limit for an input file" in err
