"""The pipeline tests' helpers (the shared snapshot run, ``loaded``, is in tests/conftest.py)."""

from etl_service.tests.support.snapshot_run import run_cli, snapshot_settings

__all__ = ["run_cli", "snapshot_settings"]
