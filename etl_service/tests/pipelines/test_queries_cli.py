"""``etl-service query`` on a loaded snapshot: every subcommand, format and error."""

from __future__ import annotations

import csv
import io
import json

import pytest

from etl_service.cli import main
from etl_service.errors import EXIT_CODES
from etl_service.settings import Settings

pytestmark = pytest.mark.unit


@pytest.fixture(autouse=True)
def _database(loaded: Settings, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ETL_DATABASE_URL", loaded.database_url_value)


def _out(capsys: pytest.CaptureFixture[str], *args: str) -> str:
    assert main(["query", *args]) == 0
    return capsys.readouterr().out


def test_sectors_lists_eleven_with_counts(capsys: pytest.CaptureFixture[str]) -> None:
    rows = list(csv.DictReader(io.StringIO(_out(capsys, "sectors", "--format", "csv"))))
    assert len(rows) == 11
    energy = next(r for r in rows if r["sector"] == "Energy")
    assert energy["companies"] == "22"


def test_sub_industry_and_metric_selection(capsys: pytest.CaptureFixture[str]) -> None:
    out = _out(capsys, "sub-industry", "semiconductors", "--metric", "avg_pe", "--format", "json")
    rows = [json.loads(line) for line in out.splitlines()]
    assert rows
    assert set(rows[0]) == {"quarter_end", "avg_pe"}
    assert any(r["avg_pe"] is not None for r in rows)


def test_company_table_output_names_the_company(capsys: pytest.CaptureFixture[str]) -> None:
    out = _out(capsys, "company", "aapl", "--metric", "revenue")
    assert "Company: aapl" in out
    assert "94,930,000,000" in out  # fiscal 2024 Q4 revenue, FY - 9M


def test_unknown_names_are_clear_errors(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["query", "sector", "Crypto"]) == EXIT_CODES["bad input"]
    assert "no sector of that name" in capsys.readouterr().err
    assert main(["query", "company", "ZZZZ"]) == EXIT_CODES["bad input"]
    assert "neither a constituent nor a former member" in capsys.readouterr().err
