"""``etl-service run``: the main job, with preflight checks, progress and a summary."""

from __future__ import annotations

import logging
import sys
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager

import click
import sqlalchemy as sa
from rich.console import Console
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    TaskID,
    TextColumn,
    TimeElapsedColumn,
)
from rich.table import Table

from etl_service.errors import ConfigError
from etl_service.pipelines.base_pipeline import RunContext, RunReport
from etl_service.pipelines.curation_pipeline import CurationPipeline
from etl_service.settings import Settings, SourceMode
from etl_service.src.adapters.archive import RawArchive
from etl_service.src.adapters.http import build_http_client
from etl_service.src.adapters.sources import Sources
from etl_service.src.db import migrate
from etl_service.src.db.engine import connected_engine
from etl_service.src.db.lake import Lake, Zone, open_lake
from etl_service.src.db.run_lock import mark_abandoned, run_lock

logger = logging.getLogger(__name__)


def build_lake(settings: Settings) -> Lake:
    """The lake of the settings: a local folder, or S3 through the configured endpoint."""
    if settings.lake_uri.startswith("s3://"):
        from etl_service.aws.s3.filesystem import s3_filesystem

        fs = s3_filesystem(
            settings.aws_region,
            settings.aws_endpoint_url,
            settings.aws_access_key_id,
            settings.aws_secret_access_key,
        )
        return open_lake(settings.lake_uri, fs)
    return open_lake(settings.lake_uri)


@contextmanager
def progress_display(enabled: bool) -> Iterator[Callable[[str, int, int], None] | None]:
    """A progress bar per long step on a terminal; nothing otherwise."""
    if not enabled:
        yield None
        return
    columns = (
        TextColumn("{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
    )
    with Progress(*columns, console=Console(stderr=True), transient=True) as bar:
        tasks: dict[str, TaskID] = {}

        def update(step: str, done: int, total: int) -> None:
            if step not in tasks:
                tasks[step] = bar.add_task(step, total=total)
            bar.update(tasks[step], completed=done, total=total)

        yield update


def print_summary(report: RunReport, console: Console) -> None:
    """Rows per table, data quality, duration, destinations and next commands."""
    console.print(
        f"[bold]run {report.run_id}[/bold] {report.status} in {report.duration_s:.1f}s "
        f"(engine {report.engine}, source {report.source})"
    )
    table = Table("table", "rows", title="Loaded")
    for name, rows in sorted(report.rows.items()):
        table.add_row(name, f"{rows:,}")
    console.print(table)
    failed = [r for r in report.data_quality if not r.passed]
    console.print(
        f"data quality: {len(report.data_quality) - len(failed)} of "
        f"{len(report.data_quality)} rules passed"
    )
    for result in failed:
        console.print(f"  {result.severity}: {result.rule} on {result.table}: {result.failed} rows")
    stages = ", ".join(f"{k} {v:.1f}s" for k, v in report.timings_s.items())
    console.print(f"stages: {stages}")
    if report.warnings:
        console.print(f"{len(report.warnings)} warnings (stored in pipeline_runs), e.g.:")
        for warning in report.warnings[:5]:
            console.print(f"  - {warning}", markup=False, highlight=False)
    console.print("data went to: " + "; ".join(report.destinations))
    console.print(
        "next: etl-service query sectors | etl-service query sector "
        '"Information Technology" | etl-service query company AAPL'
    )


PipelineFactory = Callable[[RunContext, Sources], CurationPipeline]


@contextmanager
def pipeline_factory(
    engine_name: str,
    settings: Settings,
    engine: sa.Engine,
    lake: Lake,
    spark_master: str | None = None,
) -> Iterator[PipelineFactory]:
    """A maker of ``engine_name``'s pipeline; for spark, the session lives for the block."""
    if engine_name == "standard":
        from etl_service.pipelines.standard_pipeline import StandardETLPipeline

        yield lambda context, sources: StandardETLPipeline(context, sources, lake)
        return
    from etl_service.pipelines.spark_pipeline import SparkETLPipeline, check_prerequisites
    from etl_service.src.adapters.spark_session import spark_session

    check_prerequisites(settings.spark, engine, lake)
    with spark_session(settings.spark, spark_master) as spark:
        yield lambda context, sources: SparkETLPipeline(context, sources, lake, spark)


@click.command()
@click.option(
    "--source",
    type=click.Choice([m.value for m in SourceMode]),
    default=None,
    help="live, snapshot, or auto (live, falling back to the bundled snapshot). "
    "Default: ETL_SOURCE or auto.",
)
@click.option(
    "--engine",
    "engine_name",
    type=click.Choice(["standard", "spark"]),
    default="standard",
    show_default=True,
    help="standard (DuckDB/Arrow on this machine) or spark (PySpark, local or a cluster).",
)
@click.option(
    "--spark-mode",
    "spark_master",
    default=None,
    metavar="MASTER",
    help="With --engine spark: local[*], local[N] or spark://HOST:PORT (a standalone "
    "cluster). Default: ETL_SPARK__MASTER or local[*].",
)
@click.pass_obj
def run(settings: Settings, source: str | None, engine_name: str, spark_master: str | None) -> None:
    """Run the main job: extract, transform, validate, load into the database and the lake."""
    if source:
        settings = settings.model_copy(update={"source": SourceMode(source)})
    if spark_master and engine_name != "spark":
        raise ConfigError("--spark-mode needs --engine spark")
    engine = connected_engine(settings.database_url_value)
    lake = build_lake(settings)
    lake.check_writable()
    run_id = uuid.uuid4().hex
    with (
        run_lock(engine, settings.data_dir / "run.lock", run_id, settings.run_lock_timeout_s),
        pipeline_factory(engine_name, settings, engine, lake, spark_master) as make_pipeline,
    ):
        migrate.upgrade(engine)
        abandoned = mark_abandoned(engine)
        if abandoned:
            logger.warning("%d earlier run(s) had been killed; marked abandoned", abandoned)
        with (
            build_http_client() as http_client,
            progress_display(sys.stderr.isatty()) as progress,
        ):
            context = RunContext(settings=settings, engine=engine, run_id=run_id, progress=progress)
            archive = RawArchive(lake.path(Zone.RAW), lake.fs)
            sources = Sources(settings, http_client, archive, progress)
            report = make_pipeline(context, sources).run()
    print_summary(report, Console(width=120))
