"""The pipeline tests' helpers (the shared snapshot run, ``loaded``, is in tests/conftest.py)."""

import pytest

from etl_service.tests.support.snapshot_run import run_cli, snapshot_settings

__all__ = ["run_cli", "snapshot_settings"]


@pytest.fixture(
    params=[
        pytest.param("sqlite", marks=pytest.mark.unit),
        pytest.param("postgres", marks=pytest.mark.postgres),
    ]
)
def database_url(request: pytest.FixtureRequest) -> str | None:
    """None for the settings' own SQLite file, or a fresh PostgreSQL database."""
    return None if request.param == "sqlite" else str(request.getfixturevalue("postgres_url"))
