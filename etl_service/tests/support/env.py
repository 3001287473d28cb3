"""The ETL_* environment an entry point reads, built from a Settings object."""

from __future__ import annotations

import json

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
    }
    if settings.sec.bulk_path:
        env["ETL_SEC__BULK_PATH"] = str(settings.sec.bulk_path)
    return env
