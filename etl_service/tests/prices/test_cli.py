"""``extract prices``: daily closes from a file or folder, as CSV, JSON lines or Parquet."""

from __future__ import annotations

import json
from pathlib import Path

import pyarrow.parquet as pq
import pytest
from click.testing import CliRunner, Result

from etl_service.cli.extract_prices import prices
from etl_service.errors import InputError, SchemaError
from etl_service.settings import Settings
from etl_service.tests.prices.conftest import FIXTURES

pytestmark = pytest.mark.unit


def _run(settings: Settings, *args: str) -> Result:
    return CliRunner().invoke(prices, list(args), obj=settings, catch_exceptions=True)


def test_csv_of_one_ticker_from_the_stooq_folder(settings: Settings, stooq_dir: Path) -> None:
    result = _run(settings, "--input", str(stooq_dir), "--ticker", "brk.b")
    assert result.exit_code == 0, result.output
    lines = result.stdout.splitlines()
    assert lines[0] == '"ticker","date","close","source","adjusted_as_of"'
    assert len(lines) == 1 + 2231
    # adjusted for the splits up to the file's last day
    assert lines[1] == (
        '"BRK.B",2009-01-02,66.46,"stooq_csv:brk-b.us.txt.gz (adjusted)",2017-11-10'
    )


def test_json_from_an_ishares_file_with_rejections_logged(
    settings: Settings, ishares_dir: Path, caplog: pytest.LogCaptureFixture
) -> None:
    path = ishares_dir / "ivv_holdings_20240401.csv.gz"
    result = _run(settings, "--input", str(path), "--format", "json", "--ticker", "AAPL")
    assert result.exit_code == 0
    [row] = [json.loads(x) for x in result.stdout.splitlines()]
    assert (row["ticker"], row["date"], row["close"]) == ("AAPL", "2024-03-28", 171.48)
    assert row["adjusted_as_of"] is None  # as traded
    all_rows = _run(settings, "--input", str(path), "--format", "json")
    assert len(all_rows.stdout.splitlines()) == 503
    assert "price row rejected:" in caplog.text
    assert "(ESM4)" in caplog.text


def test_parquet_to_a_file(settings: Settings, tmp_path: Path) -> None:
    out = tmp_path / "p.parquet"
    path = FIXTURES / "bad_rows" / "aapl.us.txt"
    result = _run(settings, "--input", str(path), "--format", "parquet", "--out", str(out))
    assert result.exit_code == 0
    assert pq.read_table(out).num_rows == 4


def test_errors_write_nothing(settings: Settings, tmp_path: Path, stooq_dir: Path) -> None:
    out = tmp_path / "o.csv"
    missing = _run(settings, "--input", str(stooq_dir), "--ticker", "META", "--out", str(out))
    assert isinstance(missing.exception, InputError)
    assert "META" in str(missing.exception)
    bad = tmp_path / "x.csv"
    bad.write_text("a,b\n1,2\n")
    layout = _run(settings, "--input", str(bad), "--out", str(out))
    assert isinstance(layout.exception, SchemaError)
    nothing = _run(settings, "--input", str(tmp_path / "nope"), "--out", str(out))
    assert isinstance(nothing.exception, InputError)
    assert not out.exists()
    usage = _run(settings, "--input", str(bad), "--format", "parquet")
    assert usage.exit_code == 2
