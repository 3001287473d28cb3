"""A snapshot run of the standard pipeline, shared by the pipeline tests."""

from __future__ import annotations

from pathlib import Path

import pytest
from pydantic import SecretStr

from etl_service.settings import HttpSettings, Settings, SourceMode


def snapshot_settings(root: Path, database_url: str | None = None, **extra: object) -> Settings:
    """Settings for an offline run with every store under ``root``."""
    data = root / "data"
    return Settings(
        data_dir=data,
        database_url=SecretStr(database_url or f"sqlite:///{data / 'etl.db'}"),
        lake_uri=str(data / "lake"),
        source=SourceMode.SNAPSHOT,
        http=HttpSettings(cache_dir=data / "cache"),
        **extra,  # type: ignore[arg-type]
    )


@pytest.fixture(scope="module")
def module_root(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("pipeline")
