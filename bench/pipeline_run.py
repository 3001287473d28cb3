"""Running the real pipelines on a synthetic universe, timed, with the peak RSS of each run.

The pipelines run unchanged: ``StandardETLPipeline`` or ``SparkETLPipeline`` with their
transform, quality gates, lake staging and database load. Only the sources are replaced:
``SyntheticSources`` is a ``Sources`` whose three methods hand over the generated tables
(already extracted, as the parsers would return them), so extract costs next to nothing
and each run measures the pipeline's own work on data of a chosen size. Every run loads a
fresh PostgreSQL database and a fresh lake folder, so each is a first load.

``python -m bench.pipeline_run REQUEST.json RESULT.json`` runs the runs of one engine and
scale in a process of their own (clean memory, one JVM per scale for Spark).
"""

from __future__ import annotations

import ctypes
import gc
import json
import logging
import shutil
import subprocess
import sys
import time
import uuid
from collections.abc import Collection, Iterator, Mapping, Sequence
from contextlib import ExitStack, contextmanager, suppress
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

import httpx
import pyarrow as pa
from pydantic import SecretStr

from bench.databases import fresh_database
from bench.measure import peak_rss_bytes, reset_peak_rss, rss_bytes
from bench.synthetic import Universe, universe
from etl_service.pipelines.compose import build_lake, build_pipeline
from etl_service.settings import QualitySettings, Settings, SourceMode, SparkSettings
from etl_service.src.adapters.archive import RawArchive
from etl_service.src.adapters.member_lists import MemberList
from etl_service.src.adapters.sources import Sources
from etl_service.src.adapters.wikipedia import ParsedPage
from etl_service.src.models.records import Extracted
from etl_service.src.models.schemas import Zone

if TYPE_CHECKING:
    from pyspark.sql import SparkSession

STAGE_LOGGER = "etl_service.pipelines.base_pipeline"
"""The logger that announces each stage of a pipeline run."""

SPARK_MASTER = "local[2]"
SPARK_CONFIG = {"spark.driver.memory": "12g", "spark.driver.maxResultSize": "0"}
"""Local mode runs everything in the driver JVM; the default 1 GB heap holds 5M rows at most."""


class SyntheticSources(Sources):
    """The pipeline's sources, answering from a generated universe instead of files or hosts."""

    def __init__(
        self, settings: Settings, client: httpx.Client, archive: RawArchive, data: Universe
    ) -> None:
        super().__init__(settings, client, archive)
        self.data = data

    def constituents_page(self) -> ParsedPage:
        self.report.origins["constituents"] = "synthetic"
        return ParsedPage(
            source="synthetic",
            revision="synthetic",
            revision_time=datetime(2024, 10, 9, tzinfo=UTC),
            companies=Extracted(self.data.companies),
            changes=Extracted(self.data.changes),
        )

    def financials(
        self, ciks: Sequence[str], tickers: Mapping[str, str] | None = None
    ) -> Extracted:
        self.report.origins["financials"] = "synthetic"
        return Extracted(self.data.quarterly_reports)

    def closes(self, tickers: Collection[str]) -> Extracted:
        self.report.origins["prices"] = "synthetic"
        return Extracted(self.data.closes)

    def history(self) -> list[MemberList]:
        """None: the real bundled lists say nothing about a synthetic universe."""
        return []


@dataclass
class RunResult:
    """One pipeline run: wall seconds, the stage timings, rows loaded and memory."""

    seconds: float
    stages: dict[str, float]
    rows: dict[str, int]
    peak_rss: int
    rss_before: int
    stage_peak_rss: dict[str, int]


class StagePeaks(logging.Handler):
    """The peak RSS of each pipeline stage, cut where the pipeline logs ``stage X started``."""

    STARTED = "stage %s started"

    def __init__(self) -> None:
        super().__init__(logging.INFO)
        self.stage = "setup"
        self.peaks: dict[str, int] = {}

    def emit(self, record: logging.LogRecord) -> None:
        if record.msg == self.STARTED and record.args:
            self.finish()
            self.stage = str(record.args[0])  # type: ignore[index]
            reset_peak_rss(collect=False)

    def finish(self) -> None:
        """Record the peak of the stage that is running now."""
        self.peaks[self.stage] = max(self.peaks.get(self.stage, 0), peak_rss_bytes())


@contextmanager
def stage_peaks() -> Iterator[StagePeaks]:
    """Track per-stage peak RSS while the block runs a pipeline."""
    handler = StagePeaks()
    stages = logging.getLogger(STAGE_LOGGER)
    level = stages.level
    stages.setLevel(logging.INFO)
    stages.addHandler(handler)
    try:
        yield handler
    finally:
        handler.finish()
        stages.removeHandler(handler)
        stages.setLevel(level)


@dataclass
class ScaleResult:
    """Every run of one engine at one scale, with the size of the input."""

    engine: str
    scale: float
    daily_rows: int
    report_rows: int
    companies: int
    input_bytes: int
    runs: list[RunResult]


def bench_settings(root: Path, database_url: str, companies: int, spark: bool = False) -> Settings:
    """Settings for a synthetic run: stores under ``root``, the constituent band fitted."""
    return Settings(
        _env_file=None,  # type: ignore[call-arg]
        engine="spark" if spark else "standard",
        data_dir=root,
        database_url=SecretStr(database_url),
        lake_uri=str(root / "lake"),
        source=SourceMode.SNAPSHOT,
        quality=QualitySettings(constituents_min=companies, constituents_max=companies),
    )


def release_memory() -> None:
    """Return freed memory to the OS (Arrow's pool, glibc's heap), so RSS shows live data."""
    gc.collect()
    pa.default_memory_pool().release_unused()
    # without glibc RSS may still include freed memory that the allocator keeps
    with suppress(OSError, AttributeError):
        ctypes.CDLL("libc.so.6").malloc_trim(0)


def run_once(
    data: Universe, admin_url: str, workdir: Path, spark: SparkSession | None = None
) -> RunResult:
    """One pipeline run into a fresh database and lake; the timing covers ``pipeline.run()``."""
    root = workdir / f"run-{uuid.uuid4().hex[:8]}"
    try:
        with fresh_database(admin_url) as engine, httpx.Client() as client:
            url = engine.url.render_as_string(hide_password=False)
            settings = bench_settings(root, url, data.companies.num_rows, spark is not None)
            lake = build_lake(settings)
            sources = SyntheticSources(
                settings, client, RawArchive(lake.fs_path(Zone.RAW), lake.fs), data
            )
            with build_pipeline(settings, spark=spark, database=engine, sources=sources) as pipe:
                release_memory()
                before = rss_bytes()
                with stage_peaks() as peaks:
                    reset_peak_rss()
                    start = time.perf_counter()
                    report = pipe.run()
                    seconds = time.perf_counter() - start
            return RunResult(
                seconds,
                dict(report.timings_s),
                dict(report.rows),
                max(peaks.peaks.values()),
                before,
                peaks.peaks,
            )
    finally:
        shutil.rmtree(root, ignore_errors=True)


def run_scale(
    engine: str,
    scale: float,
    days: int,
    runs: int,
    admin_url: str,
    workdir: Path,
    spark: SparkSession | None = None,
) -> ScaleResult:
    """``runs`` runs of ``engine`` at ``scale`` in this process (``spark`` for the Spark one)."""
    data = universe(scale, trading_days=days)
    results = []
    with ExitStack() as stack:
        if engine == "spark" and spark is None:
            spark = stack.enter_context(_spark_session())
        for _ in range(runs):
            results.append(run_once(data, admin_url, workdir, spark if engine == "spark" else None))
    return ScaleResult(
        engine,
        scale,
        data.closes.num_rows,
        data.quarterly_reports.num_rows,
        data.companies.num_rows,
        data.input_bytes,
        results,
    )


@contextmanager
def _spark_session() -> Iterator[SparkSession]:
    from etl_service.engines.spark.session import spark_session

    with spark_session(SparkSettings(), SPARK_MASTER, "etl-service-bench", SPARK_CONFIG) as spark:
        yield spark


class RunFailedError(RuntimeError):
    """A pipeline run in a child process failed; the message ends with its stderr."""


def run_scale_in_subprocess(
    engine: str, scale: float, days: int, runs: int, admin_url: str, workdir: Path
) -> ScaleResult:
    """``run_scale`` in new Python processes: one per run for the standard engine, so every
    run starts from clean memory (its peak RSS is its own), one per scale for Spark (one JVM).
    """
    per_process = 1 if engine == "standard" else runs
    merged: ScaleResult | None = None
    for batch in range(0, runs, per_process):
        name = f"{engine}-{scale:g}-{batch}"
        request, result, log = (workdir / f"{name}.{ext}" for ext in ("req", "json", "log"))
        request.write_text(
            json.dumps(
                {
                    "engine": engine,
                    "scale": scale,
                    "days": days,
                    "runs": min(per_process, runs - batch),
                    "admin_url": admin_url,
                    "workdir": str(workdir),
                }
            )
        )
        with log.open("w") as stderr:
            done = subprocess.run(
                [sys.executable, "-m", "bench.pipeline_run", str(request), str(result)],
                stdout=subprocess.DEVNULL,
                stderr=stderr,
                check=False,
            )
        if done.returncode != 0:
            tail = log.read_text()[-1500:]
            raise RunFailedError(f"{engine} at scale {scale:g} failed: {tail}")
        outcome = scale_result_from_dict(json.loads(result.read_text()))
        if merged is None:
            merged = outcome
        else:
            merged.runs += outcome.runs
    assert merged is not None
    return merged


def scale_result_from_dict(data: dict[str, Any]) -> ScaleResult:
    """The inverse of ``dataclasses.asdict`` for ScaleResult."""
    runs = [RunResult(**r) for r in data.pop("runs")]
    return ScaleResult(**data, runs=runs)


def main(argv: list[str]) -> int:
    """Run one request file's scale and write the result file."""
    request = json.loads(Path(argv[0]).read_text())
    outcome = run_scale(
        request["engine"],
        request["scale"],
        request["days"],
        request["runs"],
        request["admin_url"],
        Path(request["workdir"]),
    )
    Path(argv[1]).write_text(json.dumps(asdict(outcome)))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
