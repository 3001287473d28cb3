"""Sentinel secrets never reach errors, logs, summaries, ``pipeline_runs`` or the lake."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
import sqlalchemy as sa

from etl_service.cli import main
from etl_service.redact import environment_secrets, redact_text, redact_url
from etl_service.tests.pipelines.conftest import run_cli, snapshot_settings

SENTINEL = "Sentinel-Pw-7f3a"
KEY = "Sentinel-Key-91bc"


@pytest.mark.unit
@pytest.mark.parametrize(
    ("url", "redacted"),
    [
        ("postgresql://etl:pw@db:5432/etl", "postgresql://etl:***@db:5432/etl"),
        (
            "postgresql://etl@db/etl?password=pw&sslmode=require",
            "postgresql://etl@db/etl?password=***&sslmode=require",
        ),
        ("sqlite:///data/etl.db", "sqlite:///data/etl.db"),
        ("https://x.test/api?apikey=k&symbol=AAPL", "https://x.test/api?apikey=***&symbol=AAPL"),
        ("s3://bucket/prefix", "s3://bucket/prefix"),
    ],
)
def test_urls_lose_their_passwords_and_nothing_else(url: str, redacted: str) -> None:
    assert redact_url(url) == redacted


@pytest.mark.unit
def test_configured_secrets_are_found_and_masked_in_free_text() -> None:
    env = {
        "ETL_DATABASE_URL": f"postgresql://u:{SENTINEL}@h/db",
        "ETL_FMP_API_KEY": KEY,
        "HOME": "/root",
    }
    secrets = environment_secrets(env)
    assert sorted(secrets) == sorted([SENTINEL, KEY])
    text = f"failed to GET /stable?apikey={KEY}: auth {SENTINEL} refused"
    assert SENTINEL not in redact_text(text, secrets)
    assert KEY not in redact_text(text, secrets)


def _everything_written(root: Path, engine: sa.Engine) -> str:
    texts = []
    for path in root.rglob("*"):
        if path.is_file():
            texts.append(path.read_bytes().decode("latin-1"))
    with engine.connect() as conn:
        for row in conn.execute(sa.text("SELECT * FROM pipeline_runs")):
            texts.append(repr(tuple(row)))
    return "\n".join(texts)


@pytest.mark.postgres
def test_a_run_with_sentinel_secrets_writes_and_prints_none_of_them(
    postgres_url: str, tmp_path: Path, capfd: pytest.CaptureFixture[str]
) -> None:
    # The server trusts local connections, so the sentinel password is sent and ignored.
    scheme, rest = postgres_url.split("://", 1)
    user, host = rest.split("@", 1)
    url = f"{scheme}://{user}:{SENTINEL}@{host}?password={SENTINEL}"
    settings = snapshot_settings(tmp_path, url)
    os.environ["ETL_FMP_API_KEY"] = KEY
    try:
        assert run_cli(settings) == 0
    finally:
        del os.environ["ETL_FMP_API_KEY"]
    out, err = capfd.readouterr()
    assert SENTINEL not in out + err
    assert KEY not in out + err
    written = _everything_written(tmp_path, sa.create_engine(postgres_url))
    assert SENTINEL not in written
    assert KEY not in written


@pytest.mark.unit
def test_an_unreachable_database_with_a_password_parameter_is_one_redacted_line(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("ETL_DATABASE_URL", f"postgresql://u@127.0.0.1:1/db?password={SENTINEL}")
    assert main(["db", "upgrade"]) == 7
    err = capsys.readouterr().err
    assert SENTINEL not in err
    assert err.startswith("error: cannot reach the database postgresql+psycopg://u@127.0.0.1:1/")
    assert len(err.strip().splitlines()) == 1
