"""Settings: ETL_ prefix, nested ``__``, .env files, and secrets that never leak."""

from __future__ import annotations

import logging
from pathlib import Path

import pytest
from pydantic import SecretStr, ValidationError

from etl_service.settings import Settings, SourceMode

pytestmark = pytest.mark.unit


def test_embedded_defaults_need_no_configuration() -> None:
    settings = Settings()
    assert settings.database_url_value == "sqlite:///data/etl.db"
    assert settings.lake_uri == "data/lake"
    assert settings.http.cache_dir == Path("data/cache/http")
    assert settings.source is SourceMode.AUTO
    assert settings.quality.constituents_min == 495
    assert settings.quality.constituents_max == 510


def test_environment_prefix_and_nested_delimiter(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ETL_DATABASE_URL", "postgresql://u:pw@db.internal:5432/etl")
    monkeypatch.setenv("ETL_LAKE_URI", "s3://bucket/prefix")
    monkeypatch.setenv("ETL_AWS_ENDPOINT_URL", "http://127.0.0.1:9000")
    monkeypatch.setenv("ETL_HTTP__MAX_RETRIES", "2")
    monkeypatch.setenv("ETL_SNOWFLAKE__SCHEMA", "ANALYTICS")
    monkeypatch.setenv("ETL_SOURCE", "snapshot")
    settings = Settings()
    assert settings.database_url_value.startswith("postgresql://")
    assert settings.lake_uri == "s3://bucket/prefix"
    assert settings.aws_endpoint_url == "http://127.0.0.1:9000"
    assert settings.http.max_retries == 2
    assert settings.snowflake.schema_name == "ANALYTICS"
    assert settings.source is SourceMode.SNAPSHOT


def test_data_dir_alone_moves_the_database_lake_and_cache(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setenv("ETL_DATA_DIR", str(tmp_path / "x"))
    monkeypatch.setenv("ETL_HTTP__TIMEOUT_S", "3")
    settings = Settings()
    assert settings.database_url_value == f"sqlite:///{tmp_path / 'x' / 'etl.db'}"
    assert settings.lake_uri == str(tmp_path / "x" / "lake")
    assert settings.http.cache_dir == tmp_path / "x" / "cache" / "http"
    assert settings.http.timeout_s == 3


def test_explicit_stores_win_over_data_dir(monkeypatch: pytest.MonkeyPatch) -> None:
    mixed = Settings(data_dir=Path("/y"), lake_uri="/lake")
    assert (mixed.database_url_value, mixed.lake_uri) == ("sqlite:////y/etl.db", "/lake")
    monkeypatch.setenv("ETL_DATA_DIR", "/x")
    monkeypatch.setenv("ETL_DATABASE_URL", "postgresql://u:pw@h/etl")
    monkeypatch.setenv("ETL_LAKE_URI", "s3://bucket/prefix")
    monkeypatch.setenv("ETL_HTTP__CACHE_DIR", "/cache")
    settings = Settings()
    assert isinstance(settings.database_url, SecretStr)
    assert settings.database_url_value == "postgresql://u:pw@h/etl"
    assert (settings.lake_uri, settings.http.cache_dir) == ("s3://bucket/prefix", Path("/cache"))


def test_dotenv_file_is_read_from_the_working_directory(tmp_path: Path) -> None:
    (tmp_path / ".env").write_text("ETL_SEC_USER_AGENT=Jane Doe jane@example.com\n")
    assert Settings().sec_user_agent == "Jane Doe jane@example.com"


def test_secrets_are_masked_in_repr_and_logs(
    monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    monkeypatch.setenv("ETL_DATABASE_URL", "postgresql://u:hunter2@h/etl")
    monkeypatch.setenv("ETL_FMP_API_KEY", "fmp-secret-key")
    monkeypatch.setenv("ETL_SNOWFLAKE__PASSWORD", "snow-secret")
    settings = Settings()
    with caplog.at_level(logging.INFO):
        logging.getLogger("t").info("settings: %s", settings)
    text = repr(settings) + str(settings.model_dump()) + caplog.text
    for secret in ("hunter2", "fmp-secret-key", "snow-secret"):
        assert secret not in text
    assert settings.fmp_api_key is not None
    assert settings.fmp_api_key.get_secret_value() == "fmp-secret-key"


def test_run_lock_timeout_comes_from_the_environment_and_is_never_negative(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    assert Settings().run_lock_timeout_s == 0
    monkeypatch.setenv("ETL_RUN_LOCK_TIMEOUT_S", "2.5")
    assert Settings().run_lock_timeout_s == 2.5
    monkeypatch.setenv("ETL_RUN_LOCK_TIMEOUT_S", "-1")
    with pytest.raises(ValidationError, match="run_lock_timeout_s"):
        Settings()
