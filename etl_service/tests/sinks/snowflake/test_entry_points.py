"""The export's entry points refuse a missing configuration before reading or loading anything."""

from __future__ import annotations

import json
import logging

import pytest

from etl_service.cli import main
from etl_service.errors import EXIT_CODES

pytestmark = pytest.mark.unit

UNCONFIGURED = (
    "error: Snowflake is not configured: set ETL_SNOWFLAKE__ACCOUNT, __USER, __PASSWORD (or "
    "__PRIVATE_KEY_FILE)\n"
)


@pytest.fixture(autouse=True)
def _keep_logging(monkeypatch: pytest.MonkeyPatch) -> None:
    root = logging.getLogger()  # the CLI installs its handler on the captured stderr
    monkeypatch.setattr(root, "handlers", list(root.handlers))
    monkeypatch.setattr(root, "level", root.level)


def test_export_without_snowflake_settings_names_them(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["export", "snowflake"]) == EXIT_CODES["configuration"]
    assert capsys.readouterr().err == UNCONFIGURED


def test_export_of_an_unknown_table_lists_the_curated_ones(
    capsys: pytest.CaptureFixture[str],
) -> None:
    code = main(["export", "snowflake", "--tables", "companies,quarantine"])
    assert code == EXIT_CODES["configuration"]
    assert capsys.readouterr().err.startswith(
        "error: unknown tables ['quarantine']: choose from sub_industries, companies, "
    )


def test_a_run_with_an_unconfigured_snowflake_sink_stops_before_any_work(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("ETL_SOURCE", "snapshot")
    monkeypatch.setenv("ETL_SINKS", json.dumps(["snowflake", "lake", "database"]))
    assert main(["run"]) == EXIT_CODES["configuration"]
    assert capsys.readouterr().err == UNCONFIGURED
    assert main(["query", "sectors"]) == 0  # the database exists, and holds nothing
    assert "Information Technology" not in capsys.readouterr().out
