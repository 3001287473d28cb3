"""Offline snapshot runs for tests: settings with every store in one folder, and the CLI."""

from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import Path

from pydantic import SecretStr

from etl_service.cli import main
from etl_service.settings import HttpSettings, Settings, SourceMode
from etl_service.tests.support.env import cli_env


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


def run_cli(settings: Settings, *args: str, options: Sequence[str] = ()) -> int:
    """Run ``etl-service [options] run [args]`` with ``settings`` exported as the environment
    it reads."""
    env = cli_env(settings)
    saved = {k: os.environ.get(k) for k in env}
    os.environ.update(env)
    try:
        return main([*options, "run", *args])
    finally:
        for key, value in saved.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value
