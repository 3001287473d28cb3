"""The ETL_* environment an entry point reads, built from a Settings object."""

from __future__ import annotations

import json
import os
from pathlib import Path

import etl_service
from etl_service.settings import Settings


def cli_env(settings: Settings) -> dict[str, str]:
    """The ETL_* variables that make an entry point build ``settings``' stores and sources."""
    env = {
        "ETL_DATA_DIR": str(settings.data_dir),
        "ETL_DATABASE_URL": settings.database_url_value,
        "ETL_LAKE_URI": settings.lake_uri,
        "ETL_SOURCE": str(settings.source),
        "ETL_HTTP__CACHE_DIR": str(settings.http.cache_dir),
        "ETL_ENGINE": settings.engine,
        "ETL_SINKS": json.dumps(list(settings.sinks)),
        "ETL_RUN_LOCK_TIMEOUT_S": str(settings.run_lock_timeout_s),
    }
    if settings.sec.bulk_path:
        env["ETL_SEC__BULK_PATH"] = str(settings.sec.bulk_path)
    return env


def child_env(settings: Settings | None = None) -> dict[str, str]:
    """The environment of a child Python: ours without ETL_*, plus ``settings``' if given.

    PYTHONPATH leads with this checkout, so the child runs the code under test even where
    another checkout of the package is installed in editable mode.
    """
    env = {k: v for k, v in os.environ.items() if not k.startswith("ETL_")}
    checkout = str(Path(etl_service.__file__).parents[1])
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [checkout, env.get("PYTHONPATH")]))
    return env | (cli_env(settings) if settings else {})
