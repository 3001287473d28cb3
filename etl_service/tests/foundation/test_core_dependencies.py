"""The standard path runs on the core dependencies alone: pandas belongs to the spark extra."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

import etl_service
from etl_service.tests.pipelines.conftest import snapshot_settings
from etl_service.tests.support.env import cli_env

pytestmark = pytest.mark.unit

PACKAGE = Path(etl_service.__file__).resolve().parent
PAGE = PACKAGE / "snapshot" / "wikipedia" / "sp500_2024-10-09_rev1250356709.html.gz"
PRICES = PACKAGE / "tests" / "fixtures" / "prices" / "bad_rows"

# pyarrow imports pandas on its own whenever it is installed, so "pandas not in
# sys.modules" proves nothing; making the import fail is what an install without it does.
WITHOUT_PANDAS = """
import sys


class NoPandas:
    def find_spec(self, name, path=None, target=None):
        if name.split(".")[0] == "pandas":
            raise ModuleNotFoundError(f"No module named {name!r}", name=name)


sys.meta_path.insert(0, NoPandas())
from etl_service.cli import main

for command in sys.argv[1:]:
    code = main(command.split())
    if code:
        sys.exit(f"{command}: exit code {code}")
"""


def test_core_commands_run_without_pandas(tmp_path: Path) -> None:
    settings = snapshot_settings(tmp_path)
    commands = [
        "run",
        "query sectors",
        "query company AAPL",
        f"extract companies --input {PAGE} --format parquet --out {tmp_path / 'c.parquet'}",
        f"extract changes --input {PAGE} --out {tmp_path / 'changes.csv'}",
        f"extract financials --cik 320193 --format json --out {tmp_path / 'f.json'}",
        f"extract prices --input {PRICES} --out {tmp_path / 'prices.csv'}",
    ]
    result = subprocess.run(
        [sys.executable, "-c", WITHOUT_PANDAS, *commands],
        # PYTHONPATH: the child imports the etl_service under test, not another install.
        env={**os.environ, **cli_env(settings), "PYTHONPATH": str(PACKAGE.parent)},
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert result.returncode == 0, result.stderr[-2000:]
    assert (tmp_path / "prices.csv").stat().st_size > 0
