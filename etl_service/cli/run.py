"""``etl-service run``: the main job, with preflight checks, progress and a summary."""

from __future__ import annotations

import logging
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

import click
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

from etl_service.cli._summary import summary_is_json, write_summary
from etl_service.engines import AVAILABLE_ENGINES
from etl_service.errors import ConfigError
from etl_service.pipelines.base_pipeline import RunReport
from etl_service.pipelines.compose import PIPELINES, build_pipeline
from etl_service.settings import Settings, SourceMode

logger = logging.getLogger(__name__)


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


def summary(report: RunReport) -> dict[str, object]:
    """The end-of-run summary as one JSON-ready object (``--log-format json``)."""
    return {
        "run_id": report.run_id,
        "status": report.status,
        "engine": report.engine,
        "source": report.source,
        "started_at": report.started_at.isoformat(),
        "finished_at": report.finished_at.isoformat() if report.finished_at else None,
        "duration_s": round(report.duration_s, 3),
        "rows": dict(sorted(report.rows.items())),
        "timings_s": report.timings_s,
        "data_quality": [result.as_dict() for result in report.data_quality],
        "warnings": report.warnings,
        "destinations": report.destinations,
    }


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
    for note in report.notes:
        console.print(f"note: {note}", markup=False, highlight=False)
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
        '"Information Technology" | etl-service query company AAPL | '
        "etl-service report --out report"
    )


def parse_tickers(text: str) -> tuple[str, ...]:
    """``"aapl, brk.b"`` → ``("AAPL", "BRK.B")``."""
    tickers = tuple(dict.fromkeys(t.strip().upper() for t in text.split(",") if t.strip()))
    if not tickers:
        raise ConfigError("--tickers: no ticker given (e.g. --tickers AAPL,MSFT)")
    return tickers


def financials_updates(settings: Settings, spec: str) -> dict[str, object]:
    """The settings ``--financials`` changes: ``bulk:PATH`` reads companyfacts files,
    ``fsds:PATH[,PATH...]`` Financial Statement Data Sets quarters (on Spark)."""
    kind, _, path = spec.partition(":")
    if kind == "bulk" and path:
        sec = settings.sec.model_copy(update={"bulk_path": Path(path).expanduser()})
        return {"sec": sec, "financials_source": "sec-bulk"}
    quarters = tuple(Path(p.strip()).expanduser() for p in path.split(",") if p.strip())
    if kind == "fsds" and quarters:
        sec = settings.sec.model_copy(update={"fsds_paths": quarters})
        return {"sec": sec, "financials_source": "sec-fsds"}
    raise ConfigError(f"--financials: expected bulk:PATH or fsds:PATH[,PATH...], got {spec!r}")


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
    type=click.Choice(sorted(AVAILABLE_ENGINES)),
    default=None,
    help="standard (DuckDB/Arrow on this machine) or spark (PySpark, local or a cluster). "
    "Default: ETL_ENGINE or standard.",
)
@click.option(
    "--spark-mode",
    "spark_master",
    default=None,
    metavar="MASTER",
    help="With --engine spark: local[*], local[N] or spark://HOST:PORT (a standalone "
    "cluster). Default: ETL_SPARK__MASTER or local[*].",
)
@click.option(
    "--pipeline",
    type=click.Choice(sorted(PIPELINES)),
    default=None,
    help="lake_formation: Spark into an s3:// lake in Glue, governed by Lake Formation after "
    "the lake commits. Default: the engine's own pipeline.",
)
@click.option(
    "--governance",
    type=click.Choice(["apply", "check", "skip"]),
    default=None,
    help="With --pipeline lake_formation: apply the governance config, check it (plan only, "
    "each change a warning) or skip it. Default: ETL_LAKE_FORMATION__GOVERNANCE or apply.",
)
@click.option(
    "--governance-config",
    type=click.Path(dir_okay=False, path_type=Path),
    default=None,
    help="With --pipeline lake_formation: the governance config (TOML). Default: "
    "ETL_LAKE_FORMATION__CONFIG or the bundled governance.toml.",
)
@click.option(
    "--allow-shrink",
    is_flag=True,
    help="Load even if a table would lose more than ETL_QUALITY__MAX_SHRINK of its rows "
    "(default 0.5) or become empty; the run records that it was allowed.",
)
@click.option(
    "--full-refresh",
    is_flag=True,
    help="Fetch every company's financials again instead of only those with new 10-Q/10-K "
    "filings since the last run (ETL_FULL_REFRESH).",
)
@click.option(
    "--tickers",
    metavar="T1,T2,...",
    help="Fetch financials and prices of these companies only (members now or in the past).",
)
@click.option(
    "--financials",
    "financials_spec",
    metavar="bulk:PATH|fsds:PATH[,PATH...]",
    help="Take financials from SEC's companyfacts.zip or a folder of CIK##########.json[.gz] "
    "(bulk:), or from Financial Statement Data Sets quarters, folders or SEC zips, read on "
    "Spark (fsds:), instead of the live API.",
)
@click.pass_obj
def run(
    settings: Settings,
    source: str | None,
    engine_name: str | None,
    spark_master: str | None,
    pipeline: str | None,
    governance: str | None,
    governance_config: Path | None,
    allow_shrink: bool,
    full_refresh: bool,
    tickers: str | None,
    financials_spec: str | None,
) -> None:
    """Run the main job: extract, transform, validate, load into the database and the lake.

    Live runs are incremental: only companies with new 10-Q/10-K filings are fetched again.
    """
    updates: dict[str, object] = {}
    if governance or governance_config:
        if pipeline != "lake_formation":
            raise ConfigError("--governance and --governance-config need --pipeline lake_formation")
        lake_formation = settings.lake_formation.model_copy(
            update={"governance": governance or settings.lake_formation.governance}
            | ({"config": governance_config} if governance_config else {})
        )
        updates["lake_formation"] = lake_formation
    if allow_shrink:
        updates["allow_shrink"] = True
    if full_refresh:
        updates["full_refresh"] = True
    if tickers:
        updates["tickers"] = parse_tickers(tickers)
    if financials_spec:
        updates.update(financials_updates(settings, financials_spec))
    if source:
        updates["source"] = SourceMode(source)
    if engine_name:
        updates["engine"] = engine_name
    if pipeline == "lake_formation":
        if engine_name not in (None, "spark"):
            raise ConfigError("--pipeline lake_formation runs on --engine spark")
        engine_name = "spark"
    if spark_master:
        if (engine_name or settings.engine) != "spark":
            raise ConfigError("--spark-mode needs --engine spark")
        updates["spark"] = settings.spark.model_copy(update={"master": spark_master})
    settings = settings.model_copy(update=updates)
    with (
        progress_display(sys.stderr.isatty()) as progress,
        build_pipeline(settings, progress=progress, pipeline=pipeline) as job,
    ):
        report = job.run()
    if summary_is_json():
        write_summary(summary(report))
    else:
        print_summary(report, Console(width=120))
