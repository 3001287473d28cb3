"""``run --financials bulk:PATH``, ``--tickers`` and ``--full-refresh``."""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa

from etl_service import snapshot
from etl_service.cli.run import financials_updates, parse_tickers
from etl_service.errors import ConfigError
from etl_service.settings import Settings
from etl_service.tests.pipelines.conftest import run_cli, snapshot_settings

pytestmark = pytest.mark.unit

APPLE, NVIDIA = "0000320193", "0001045810"


def test_a_subset_run_takes_financials_from_a_bulk_folder(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    folder = tmp_path / "companyfacts"
    folder.mkdir()
    name = f"CIK{APPLE}.json.gz"
    shutil.copy(snapshot.SEC_COMPANYFACTS / name, folder / name)  # NVIDIA's is not there
    settings = snapshot_settings(tmp_path)
    assert run_cli(settings, "--financials", f"bulk:{folder}", "--tickers", "nvda, AAPL") == 0
    out = capsys.readouterr().out
    engine = sa.create_engine(settings.database_url_value)
    with engine.connect() as conn:

        def query(sql: str) -> list[Any]:
            return list(conn.execute(sa.text(sql)).scalars())

        ciks = query("SELECT DISTINCT cik FROM quarterly_reports")
        tickers = query("SELECT DISTINCT ticker FROM prices_pe")
        [members] = query("SELECT COUNT(*) FROM companies")
        [cursors] = query("SELECT COUNT(*) FROM filing_cursors")
        [warnings] = query("SELECT warnings FROM pipeline_runs")
    assert set(ciks) == {APPLE}
    assert set(tickers) <= {"AAPL", "NVDA"}
    assert "AAPL" in set(tickers)
    assert members == 503  # the index itself is complete
    assert cursors == 0  # not from SEC's API: nothing an incremental run could trust
    assert "note: --tickers: financials and prices of 2 companies only" in out
    assert "1 of 2 companies have no companyfacts" in str(warnings)


def test_run_option_parsing(settings: Settings) -> None:
    assert parse_tickers(" aapl,BRK.B,,aapl ") == ("AAPL", "BRK.B")
    with pytest.raises(ConfigError, match="no ticker given"):
        parse_tickers(" , ")
    updates = financials_updates(settings, "bulk:/data/companyfacts.zip")
    assert updates["financials_source"] == "sec-bulk"
    assert str(updates["sec"].bulk_path) == "/data/companyfacts.zip"  # type: ignore[attr-defined]
    with pytest.raises(ConfigError, match=r"fsds:PATH\[,PATH...\], got 'zip:x'"):
        financials_updates(settings, "zip:x")


def test_unknown_tickers_are_refused_before_anything_is_fetched(tmp_path: Path) -> None:
    settings = snapshot_settings(tmp_path)
    assert run_cli(settings, "--tickers", "AAPL,NOSUCH") != 0
