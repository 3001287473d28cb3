"""Fixtures of the FSDS tests: the shared local SparkSession and the 2009q3 subset."""

from __future__ import annotations

import os
import sys
from pathlib import Path

# Spark starts its Python workers with PYSPARK_PYTHON (default: whatever python3 is on
# PATH, which under `make test` is not the venv's); the extraction runs in those workers.
# Conftest modules are imported before any test starts the session, so this is in time.
os.environ.setdefault("PYSPARK_PYTHON", sys.executable)

# One SparkSession per process: the suite's shared one (local[2], loopback, UI off, Arrow
# on, stopped after its last user); a second session of our own would clash with it.
from etl_service.tests.support.spark import spark  # noqa: F401

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "sec_fsds"
QUARTER_2009Q3 = FIXTURES / "2009q3"
SHARED_2009Q3 = FIXTURES / "2009q3_full"
"""The complete 2009q3 release (sub.txt and num.txt, gzipped unchanged) kept in the repo."""
