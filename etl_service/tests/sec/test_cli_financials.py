"""``etl-service extract financials``: columns, formats, sources and failures."""

from __future__ import annotations

import gzip
import json
from pathlib import Path

import pyarrow.parquet as pq
import pytest
from click.testing import CliRunner, Result

from etl_service.cli.extract_financials import COLUMNS, financials
from etl_service.errors import ConfigError, InputError
from etl_service.settings import Settings
from etl_service.snapshot import SEC_COMPANYFACTS
from etl_service.tests.support.replay_server import Reply, replay_server

pytestmark = pytest.mark.unit

HEADER = (
    "cik,fiscal_year,fiscal_quarter,period_start,period_end,revenue,net_income,eps_basic,"
    "eps_diluted,profit_margin,revenue_concept,form,accession,filed,derived"
)


def _run(settings: Settings, *args: str) -> Result:
    return CliRunner().invoke(financials, list(args), obj=settings)


def test_csv_from_input_file(settings: Settings, tmp_path: Path) -> None:
    source = tmp_path / "CIK0001045810.json"
    source.write_bytes(gzip.decompress((SEC_COMPANYFACTS / "CIK0001045810.json.gz").read_bytes()))
    result = _run(settings, "--input", str(source))
    assert result.exit_code == 0, result.output
    lines = result.stdout.splitlines()
    assert lines[0].replace('"', "") == HEADER
    assert ",".join(COLUMNS) == HEADER
    q4 = next(line for line in lines if ",2025-01-26," in line)
    assert q4.startswith('"0001045810",2025,4,2024-10-28,2025-01-26,39331000000,22091000000,')
    assert q4.endswith(",true")


def test_json_and_parquet_from_the_snapshot_by_cik(settings: Settings, tmp_path: Path) -> None:
    result = _run(settings, "--cik", "320193", "--format", "json")
    assert result.exit_code == 0, result.output
    rows = [json.loads(line) for line in result.stdout.splitlines()]
    assert list(rows[0]) == COLUMNS
    ends = [r["period_end"] for r in rows]
    assert ends == sorted(ends)
    assert len(set(ends)) == len(ends)
    out = tmp_path / "out" / "aapl.parquet"
    result = _run(settings, "--cik", "320193", "--format", "parquet", "--out", str(out))
    assert result.exit_code == 0, result.output
    assert pq.read_table(out).column_names == COLUMNS
    assert pq.read_table(out).num_rows == len(rows)


def test_live_uses_the_sec_client(settings: Settings) -> None:
    body = gzip.decompress((SEC_COMPANYFACTS / "CIK0000320193.json.gz").read_bytes())
    with replay_server() as server:
        server.script("/api/xbrl/companyfacts/CIK0000320193.json", Reply(403), Reply(200, body))
        live = settings.model_copy(
            update={
                "sec_user_agent": "Jane Doe jane@example.com",
                "sec": settings.sec.model_copy(update={"base_url": server.base_url}),
            }
        )
        result = _run(live, "--cik", "320193", "--live")
    assert result.exit_code == 0, result.output
    assert ",2024-09-28,94930000000," in result.stdout


def test_live_without_user_agent_is_a_config_error(settings: Settings) -> None:
    result = _run(settings, "--cik", "320193", "--live")
    assert isinstance(result.exception, ConfigError)
    assert "ETL_SEC_USER_AGENT" in str(result.exception)


def test_malformed_input_fails_cleanly_and_writes_nothing(
    settings: Settings, tmp_path: Path
) -> None:
    bad = tmp_path / "CIK0000000001.json"
    bad.write_text('{"cik": 1, "facts": {')
    out = tmp_path / "out.csv"
    result = _run(settings, "--input", str(bad), "--out", str(out))
    assert isinstance(result.exception, InputError)
    assert "malformed JSON" in str(result.exception)
    assert not out.exists()
    empty = tmp_path / "CIK0000000002.json"
    empty.write_text('{"cik": 2, "facts": {"us-gaap": {}}}')
    result = _run(settings, "--input", str(empty), "--out", str(out))
    assert isinstance(result.exception, InputError)
    assert "nothing written" in str(result.exception)
    assert not out.exists()


@pytest.mark.parametrize(
    "args", [[], ["--input", "x.json", "--cik", "1"], ["--live", "--input", "x.json"]]
)
def test_usage_errors(settings: Settings, tmp_path: Path, args: list[str]) -> None:
    (tmp_path / "x.json").write_text("{}")
    result = _run(settings, *[str(tmp_path / a) if a == "x.json" else a for a in args])
    assert result.exit_code == 2
