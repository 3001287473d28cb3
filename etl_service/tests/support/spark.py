"""One local SparkSession for the whole test run, shared by every Spark test module.

Each module that needs it imports ``spark_fixture`` (a conftest may import it as ``spark``);
the session starts on first use and stops after the last user (a JVM takes seconds to start
here).
"""

from __future__ import annotations

import importlib.util
import shutil
from collections.abc import Iterator
from contextlib import ExitStack
from typing import TYPE_CHECKING, Any

import pytest

from etl_service.engines.spark.session import spark_session
from etl_service.settings import SparkSettings
from etl_service.tests.conftest import require

if TYPE_CHECKING:
    from pyspark.sql import SparkSession

TEST_CONFIG = {
    # Only the quick JIT tier: the tests run many short jobs, never long ones.
    "spark.driver.extraJavaOptions": "-XX:TieredStopAtLevel=1",
}

_shared: dict[str, Any] = {"users": 0}


def require_spark() -> None:
    """Skip (fail under CI) without PySpark or Java."""
    require(importlib.util.find_spec("pyspark") is not None, "PySpark not installed")
    require(shutil.which("java") is not None, "Java (17) not installed")


@pytest.fixture(scope="session", name="spark")
def spark_fixture() -> Iterator[SparkSession]:
    """The shared local[2] session."""
    require_spark()
    if _shared["users"] == 0:
        stack = ExitStack()
        _shared["session"] = stack.enter_context(
            spark_session(SparkSettings(), "local[2]", "etl-service-tests", TEST_CONFIG)
        )
        _shared["stack"] = stack
    _shared["users"] += 1
    try:
        yield _shared["session"]
    finally:
        _shared["users"] -= 1
        if _shared["users"] == 0:
            _shared.pop("stack").close()


spark = spark_fixture
"""The same fixture under its own name, for conftest modules."""
