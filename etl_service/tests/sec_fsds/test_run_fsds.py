"""``run --financials fsds:PATH``: the standard pipeline takes its financials from FSDS
quarters, read on the suite's shared Spark session (the source uses the active one)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa

from etl_service.cli.run import financials_updates
from etl_service.errors import ConfigError
from etl_service.settings import Settings
from etl_service.tests.sec_fsds.conftest import QUARTER_2009Q3
from etl_service.tests.support.snapshot_run import run_cli, snapshot_settings

pytestmark = [
    pytest.mark.spark,
    pytest.mark.filterwarnings("ignore:PySpark does not yet fully support pandas:FutureWarning"),
]

APPLE, NVIDIA = "0000320193", "0001045810"


def test_a_run_takes_its_financials_from_fsds_quarters(
    spark: Any, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    settings = snapshot_settings(tmp_path)
    spec = f"fsds:{QUARTER_2009Q3}"
    assert run_cli(settings, "--financials", spec, "--tickers", "AAPL,NVDA,MSFT") == 0
    engine = sa.create_engine(settings.database_url_value)
    with engine.connect() as conn:
        reports = conn.execute(
            sa.text(
                "SELECT cik, period_start, period_end, revenue, net_income "
                "FROM quarterly_reports ORDER BY cik, period_end"
            )
        ).all()
        warnings: Any = conn.execute(sa.text("SELECT warnings FROM pipeline_runs")).scalar_one()
    engine.dispose()
    assert {r.cik for r in reports} == {APPLE, NVIDIA}  # MSFT filed nothing in the subset
    apple = [r for r in reports if r.cik == APPLE and str(r.period_end) == "2009-06-30"]
    assert [(str(r.period_start), r.revenue, r.net_income) for r in apple] == [
        ("2009-04-01", 8_337_000_000, 1_229_000_000)
    ]
    assert "1 of 3 companies have no quarterly facts" in str(warnings)
    assert spark.getActiveSession() is not None  # the shared session was used, not stopped


def test_fsds_quarters_are_parsed_from_the_option(settings: Settings, tmp_path: Path) -> None:
    updates = financials_updates(settings, f"fsds:{tmp_path / 'q1'}, {tmp_path / 'q2.zip'}")
    assert updates["financials_source"] == "sec-fsds"
    sec: Any = updates["sec"]
    assert sec.fsds_paths == (tmp_path / "q1", tmp_path / "q2.zip")
    with pytest.raises(ConfigError, match=r"expected bulk:PATH or fsds:PATH\[,PATH...\]"):
        financials_updates(settings, "fsds:")


def test_a_missing_quarter_fails_the_run_before_spark_is_asked(tmp_path: Path) -> None:
    settings = snapshot_settings(tmp_path)
    missing = tmp_path / "2031q1"
    assert run_cli(settings, "--financials", f"fsds:{missing}") != 0
