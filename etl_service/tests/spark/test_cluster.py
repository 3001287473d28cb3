"""The Spark pipeline on a real standalone cluster: a master and one worker on 127.0.0.1.

The job runs as a user runs it, ``python -m etl_service.pipelines.spark_pipeline
--spark-mode spark://127.0.0.1:PORT``, in its own process: first with an injected source
outage (the session must still stop), then for real into PostgreSQL through the worker's
JDBC connections.
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest

from etl_service.errors import EXIT_CODES
from etl_service.src.db.engine import create_engine
from etl_service.src.db.lake import open_lake
from etl_service.src.models.schemas import CURATED_TABLES, Zone
from etl_service.tests.pipelines.conftest import snapshot_settings
from etl_service.tests.spark.conftest import APPLE, NVIDIA, Stages, assert_same_rows
from etl_service.tests.support.env import cli_env
from etl_service.tests.support.services import free_port, stop_process, wait_for_port
from etl_service.tests.support.spark import require_spark
from etl_service.tests.support.tables import table_rows

pytestmark = [pytest.mark.spark, pytest.mark.postgres, pytest.mark.slow]

JOB = """
import sys
from pyspark import SparkContext
from pyspark.sql import SparkSession
from etl_service.cli import main
from etl_service.errors import SourceUnavailableError
from etl_service.src.adapters.sources import Sources

def stopped():
    return SparkSession.getActiveSession() is None and SparkContext._active_spark_context is None

def outage(self):
    raise SourceUnavailableError("injected source outage")

args = ["run", "--engine", "spark", "--spark-mode", sys.argv[1]]
real, Sources.constituents_page = Sources.constituents_page, outage
print(f"RESULT failed-run exit={main(args)} stopped={stopped()}", flush=True)
Sources.constituents_page = real
print(f"RESULT run exit={main(args)} stopped={stopped()}", flush=True)
"""

# Only the quick JIT tier in every JVM of the test: the jobs are many and short.
FAST_JVM = {"JAVA_TOOL_OPTIONS": "-XX:TieredStopAtLevel=1"}


@dataclass(frozen=True)
class Cluster:
    master: str
    ui: str

    def status(self) -> dict[str, Any]:
        reply = httpx.get(f"{self.ui}/json/", timeout=5)
        reply.raise_for_status()
        status: dict[str, Any] = reply.json()
        return status

    def alive_workers(self) -> int:
        try:
            return sum(w["state"] == "ALIVE" for w in self.status()["workers"])
        except httpx.HTTPError:  # the web UI answers before it serves the status
            return 0


def _spark_class() -> Path:
    import pyspark

    return Path(pyspark.__file__).parent / "bin" / "spark-class"


@contextmanager
def standalone_cluster(root: Path, env: dict[str, str]) -> Iterator[Cluster]:
    """A master and one 1-core, 1 GiB worker on 127.0.0.1, both stopped afterwards."""
    port, ui_port, worker_ui_port = free_port(), free_port(), free_port()
    cluster = Cluster(f"spark://127.0.0.1:{port}", f"http://127.0.0.1:{ui_port}")
    daemons = {
        "master": [
            "org.apache.spark.deploy.master.Master",
            *("--host", "127.0.0.1", "--port", str(port), "--webui-port", str(ui_port)),
        ],
        "worker": [
            "org.apache.spark.deploy.worker.Worker",
            cluster.master,
            *("--host", "127.0.0.1", "--cores", "1", "--memory", "1g"),
            *("--webui-port", str(worker_ui_port), "--work-dir", str(root / "work")),
        ],
    }
    with ExitStack() as stack:
        for name, args in daemons.items():
            log = stack.enter_context((root / f"{name}.log").open("wb"))
            process = subprocess.Popen(
                [str(_spark_class()), *args], stdout=log, stderr=subprocess.STDOUT, env=env
            )
            stack.callback(stop_process, process)
            if name == "master":
                wait_for_port(port, timeout_s=60)
                wait_for_port(ui_port, timeout_s=60)
        deadline = time.monotonic() + 60
        while not cluster.alive_workers():
            assert time.monotonic() < deadline, (root / "worker.log").read_text()[-3000:]
            time.sleep(0.5)
        yield cluster


def test_pipeline_runs_on_a_standalone_cluster(
    postgres_url: str, standard_stages: Stages, tmp_path: Path
) -> None:
    require_spark()
    settings = snapshot_settings(tmp_path, database_url=postgres_url)
    env = {k: v for k, v in os.environ.items() if not k.startswith("ETL_")}
    env |= {"SPARK_LOCAL_IP": "127.0.0.1", "PYSPARK_PYTHON": sys.executable, **FAST_JVM}
    with standalone_cluster(tmp_path, env) as cluster:
        job = subprocess.run(
            [sys.executable, "-c", JOB, cluster.master],
            env=env | cli_env(settings),
            capture_output=True,
            text=True,
            timeout=300,
            check=False,
        )
        apps = cluster.status()["completedapps"]
    results = [line for line in job.stdout.splitlines() if line.startswith("RESULT")]
    failed_code, ok = EXIT_CODES["source unavailable or refused"], EXIT_CODES["ok"]
    assert results == [
        f"RESULT failed-run exit={failed_code} stopped=True",
        f"RESULT run exit={ok} stopped=True",
    ], job.stderr[-3000:]
    assert [(a["name"], a["cores"]) for a in apps] == [("etl-service", 1)] * 2

    engine = create_engine(postgres_url)
    runs = sorted(table_rows(engine, "pipeline_runs"), key=lambda r: r[1])  # by started_at
    assert [(r[3], r[4]) for r in runs] == [("failed", "spark"), ("succeeded", "spark")]
    assert "injected source outage" in runs[0][9]
    standard = standard_stages.curated.tables
    for spec in CURATED_TABLES:
        rows = [dict(zip(spec.column_names, r, strict=True)) for r in table_rows(engine, spec.name)]
        assert_same_rows(spec.name, standard[spec.name].to_pylist(), rows)
    assert {r[0] for r in table_rows(engine, "quarterly_reports")} == {APPLE, NVIDIA}
    prices = open_lake(str(tmp_path / "data" / "lake")).read(Zone.CURATED, "prices_pe")
    assert prices.num_rows == standard["prices_pe"].num_rows
    engine.dispose()
