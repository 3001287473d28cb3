"""Compute engines and their registry, in the way pyiceberg registers catalogs.

An engine runs the shared SQL and hands its own frames to the sinks (``base.Engine``).
Adding one is one module plus one line in ``AVAILABLE_ENGINES``; its backend is imported
only when it is loaded, and a missing extra names the ``pip install`` to run.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, contextmanager
from typing import TYPE_CHECKING, Any

from etl_service.engines.base import Engine
from etl_service.errors import ConfigError
from etl_service.settings import Settings

if TYPE_CHECKING:
    from pyspark.sql import SparkSession

__all__ = ["AVAILABLE_ENGINES", "Engine", "load_engine"]


@contextmanager
def _standard(settings: Settings, spark: Any | None) -> Iterator[Engine]:
    from etl_service.engines.duckdb import DuckDbEngine

    yield DuckDbEngine()


@contextmanager
def _spark(settings: Settings, spark: SparkSession | None) -> Iterator[Engine]:
    from etl_service.engines.spark import SparkEngine
    from etl_service.engines.spark.session import spark_session

    if spark is not None:  # injected: its owner stops it
        yield SparkEngine(spark, settings.spark)
        return
    with spark_session(settings.spark) as own:
        yield SparkEngine(own, settings.spark)


@contextmanager
def _glue(settings: Settings, spark: SparkSession | None) -> Iterator[Engine]:
    from etl_service.engines.glue import GlueEngine
    from etl_service.engines.spark.session import spark_session

    if spark is not None:  # a Glue context's session: the job owns it
        yield GlueEngine(spark, settings.spark)
        return
    with spark_session(settings.spark) as own:
        yield GlueEngine(own, settings.spark)


EngineLoader = Callable[[Settings, Any], AbstractContextManager[Engine]]

AVAILABLE_ENGINES: dict[str, EngineLoader] = {
    "standard": _standard,
    "spark": _spark,
    "glue": _glue,
}
"""Every engine by name; ``ETL_ENGINE`` or ``--engine`` chooses one."""


def load_engine(
    name: str, settings: Settings, spark: SparkSession | None = None
) -> AbstractContextManager[Engine]:
    """The engine ``name`` for the ``with`` block (a Spark session it starts is stopped).

    Args:
        name: a key of ``AVAILABLE_ENGINES``.
        settings: the run's settings.
        spark: an existing SparkSession (or a Glue context's) to run on, instead of
            starting one.

    Raises:
        ConfigError: no engine has that name.
    """
    try:
        loader = AVAILABLE_ENGINES[name]
    except KeyError:
        known = ", ".join(sorted(AVAILABLE_ENGINES))
        raise ConfigError(f"unknown engine {name!r}: choose one of {known}") from None
    return loader(settings, spark)
