"""Starting a SparkSession from ``SparkSettings``, sized to the data, always stopped; its errors.

PySpark is an optional extra: this module imports it only when a session is built, so the
rest of etl_service works without it.
"""

from __future__ import annotations

import importlib
import logging
import math
import os
import socket
import sys
import warnings
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any

from etl_service.errors import ConfigError, EngineError, NotInstalledError
from etl_service.settings import SparkSettings

if TYPE_CHECKING:
    from pyspark.sql import SparkSession

logger = logging.getLogger(__name__)

CONNECT_TIMEOUT_S = 5.0
"""How long to wait for a standalone master's port before giving up."""

DEFAULT_SHUFFLE_PARTITIONS = 8
"""Shuffle partitions until the data is sized; AQE coalesces small ones anyway."""

ROWS_PER_PARTITION = 1_000_000
MAX_SHUFFLE_PARTITIONS = 2_000

_LOOPBACK = frozenset({"127.0.0.1", "localhost", "::1"})


def master_address(master: str) -> tuple[str, int] | None:
    """(host, port) of a ``spark://HOST:PORT`` master; None for ``local``, ``local[N|*]``."""
    if master == "local" or (master.startswith("local[") and master.endswith("]")):
        return None
    host, _, port = master.removeprefix("spark://").rpartition(":")
    if not master.startswith("spark://") or not host or not port.isdigit():
        raise ConfigError(
            f"unsupported Spark master {master!r}: use local[*], local[N] or spark://HOST:PORT"
        )
    return host.strip("[]"), int(port)


def _is_loopback(master: str) -> bool:
    address = master_address(master)
    return address is None or address[0] in _LOOPBACK


def session_config(settings: SparkSettings, master: str) -> dict[str, str]:
    """The Spark configuration of a session on ``master``."""
    config = {
        "spark.sql.adaptive.enabled": "true",
        "spark.sql.adaptive.coalescePartitions.enabled": "true",
        "spark.sql.shuffle.partitions": str(
            settings.shuffle_partitions or DEFAULT_SHUFFLE_PARTITIONS
        ),
        "spark.ui.enabled": str(settings.ui_enabled).lower(),
        "spark.ui.showConsoleProgress": "false",
        "spark.sql.execution.arrow.pyspark.enabled": "true",
        "spark.sql.execution.arrow.pyspark.fallback.enabled": "false",
        # One semantics on Spark 3.5 (default off) and 4.x (default on): fail, never wrap.
        "spark.sql.ansi.enabled": "true",
        "spark.sql.session.timeZone": "UTC",
        "spark.sql.parquet.outputTimestampType": "TIMESTAMP_MICROS",
    }
    if settings.jdbc_jar.is_file():
        config["spark.jars"] = str(settings.jdbc_jar)
    if _is_loopback(master):
        config["spark.driver.host"] = "127.0.0.1"
        config["spark.driver.bindAddress"] = "127.0.0.1"
        # Executors on this machine run Python workers with this interpreter, not PATH's.
        config["spark.pyspark.python"] = sys.executable
    return config


def check_master(master: str, timeout_s: float = CONNECT_TIMEOUT_S) -> None:
    """Fail in seconds with EngineError when a standalone master's port does not answer.

    Spark itself retries the registration for a minute before giving up.
    """
    address = master_address(master)
    if address is None:
        return
    try:
        with socket.create_connection(address, timeout=timeout_s):
            pass
    except OSError as exc:
        raise EngineError(f"the Spark master {master} is unreachable: {exc}") from exc


def spark_failures() -> tuple[type[BaseException], ...]:
    """The exception types a Spark call raises when the engine or a job fails."""
    from pyspark.errors import PySparkException

    # py4j (PySpark's JVM bridge) ships no type information; JVM errors PySpark does not
    # convert arrive as its Py4JError.
    py4j_error: type[BaseException] = importlib.import_module("py4j.protocol").Py4JError
    return (PySparkException, py4j_error)


_CONNECTION_FAILURES = frozenset(
    {
        "java.net.ConnectException",
        "java.net.NoRouteToHostException",
        "java.net.SocketTimeoutException",
        "java.net.UnknownHostException",
    }
)


def _java_chain(exc: BaseException) -> list[Any]:
    chain: list[Any] = []
    java = getattr(exc, "java_exception", None)
    while java is not None and len(chain) < 20:
        chain.append(java)
        java = java.getCause()
    return chain


def _first_line(text: str | None) -> str:
    lines = (text or "").strip().splitlines()
    return lines[0][:300] if lines else ""


def describe(exc: BaseException) -> str:
    """A Spark error in one line: the JVM error and its root cause, without stack traces."""
    chain = _java_chain(exc)
    if not chain:
        return _first_line(str(exc)) or type(exc).__name__
    ends = [chain[0]] if len(chain) == 1 else [chain[0], chain[-1]]
    return "; caused by ".join(
        f"{j.getClass().getSimpleName()}: {_first_line(j.getMessage())}" for j in ends
    )


def is_connection_failure(exc: BaseException) -> bool:
    """Whether a Spark error was caused by a host that could not be reached."""
    return any(j.getClass().getName() in _CONNECTION_FAILURES for j in _java_chain(exc))


def _session_class() -> Any:
    try:
        from pyspark.sql import SparkSession
    except ImportError as exc:
        raise NotInstalledError("PySpark", "spark") from exc
    return SparkSession


@contextmanager
def spark_session(
    settings: SparkSettings,
    master: str | None = None,
    app_name: str = "etl-service",
    extra_config: Mapping[str, str] | None = None,
) -> Iterator[SparkSession]:
    """A new SparkSession on ``master`` (default ``settings.master``), stopped on every exit.

    Args:
        settings: the session's settings (JDBC jar, shuffle partitions, UI).
        master: ``local[*]``, ``local[N]`` or ``spark://HOST:PORT``.
        app_name: the application name shown by the cluster.
        extra_config: further Spark settings, applied last (e.g. a site's executor memory).

    Returns:
        The session, for the ``with`` block only.
    """
    master = master or settings.master
    config = session_config(settings, master) | dict(extra_config or {})
    session_class = _session_class()
    check_master(master)
    if session_class.getActiveSession() is not None:
        raise EngineError("a Spark session is already active in this process; stop it first")
    if _is_loopback(master):
        # The JVM that PySpark launches reads its bind address from the environment only.
        os.environ.setdefault("SPARK_LOCAL_IP", "127.0.0.1")
    builder = session_class.builder.master(master).appName(app_name)
    for key, value in config.items():
        builder = builder.config(key, value)
    try:
        with warnings.catch_warnings():
            # Starting the JVM imports pyspark.testing, which warns that PySpark 4 does not
            # fully support pandas 3; our Spark 4 path converts through Arrow, not pandas.
            warnings.filterwarnings("ignore", "PySpark does not yet fully support pandas")
            spark = builder.getOrCreate()
    except spark_failures() as exc:
        raise EngineError(f"Spark could not start on {master}: {describe(exc)}") from exc
    logger.info("Spark %s session started on %s", spark.version, master)
    try:
        yield spark
    finally:
        spark.stop()
        logger.info("Spark session on %s stopped", master)


@contextmanager
def session_for(settings: SparkSettings, app_name: str) -> Iterator[SparkSession]:
    """The session already active in this process (left running), or a new one on
    ``settings.master`` for the block (stopped after it)."""
    active = _session_class().getActiveSession()
    if active is not None:
        yield active
        return
    with spark_session(settings, None, app_name) as spark:
        yield spark


def size_shuffle_partitions(spark: SparkSession, rows: int, pinned: int | None = None) -> int:
    """Set the session's shuffle partitions for ``rows`` input rows (``pinned`` wins).

    One partition while the rows fit in one; beyond that one per ``ROWS_PER_PARTITION``
    rows, at least one per core and at most ``MAX_SHUFFLE_PARTITIONS``.

    Returns:
        The partition count now in force.
    """
    wanted = math.ceil(rows / ROWS_PER_PARTITION)
    cores = spark.sparkContext.defaultParallelism
    count = pinned or (1 if wanted <= 1 else max(cores, min(MAX_SHUFFLE_PARTITIONS, wanted)))
    spark.conf.set("spark.sql.shuffle.partitions", str(count))
    logger.info("%d shuffle partitions for %d input rows", count, rows)
    return count
