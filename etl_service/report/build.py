"""``write_report``: the data, the charts, their PNGs and the page, into one folder."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from types import ModuleType

import sqlalchemy as sa

from etl_service.errors import ConfigError, NotInstalledError
from etl_service.pipelines.file_export import write_atomically
from etl_service.report.page import Section, render_page
from etl_service.src.db import audit, migrate, queries

logger = logging.getLogger(__name__)

PAGE_NAME = "report.html"


@dataclass(frozen=True)
class ReportFiles:
    """What ``write_report`` wrote: the page and one PNG per chart, in chart order."""

    page: Path
    images: list[Path]


def _libraries() -> tuple[ModuleType, ModuleType]:
    """The chart module (Altair) and vl-convert, or exit 3 naming the extra to install."""
    try:
        import vl_convert

        from etl_service.report import charts
    except ImportError:
        raise NotInstalledError(
            "the report's charts (altair, vl-convert-python)", "report"
        ) from None
    return charts, vl_convert


def _sections(charts: ModuleType, engine: sa.Engine, last_runs: int) -> list[Section]:
    sections = []
    for level, group in (("sector", "sector"), ("sub_industry", "sub-industry")):
        rows = queries.aggregates(engine, level)
        build = charts.sector_metric if level == "sector" else charts.sub_industry_metric
        for metric in charts.REPORT_METRICS:
            sections.append(
                Section(
                    f"{level}_{metric.column}",
                    f"{metric.label} by {group}",
                    f"Per calendar quarter, over the index members on its last day (former "
                    f"members included): the mean (solid) and the median (dashed) of each "
                    f"{group}, and below the number of companies they are over.",
                    build(rows, metric).to_dict(),
                )
            )
    sections += [
        Section(
            "index_changes",
            "Index additions and removals",
            "Companies added to and removed from the S&P 500 per year, from the changes table.",
            charts.index_changes(queries.changes_per_year(engine)).to_dict(),
        ),
        Section(
            "coverage",
            "Coverage",
            "Per calendar quarter: the index members on its last day, and how many of them "
            "have quarterly financials there (the companies the aggregates count).",
            charts.coverage(queries.coverage(engine)).to_dict(),
        ),
        Section(
            "data_quality",
            "Data quality of the latest runs",
            f"The data-quality rules of the last {last_runs} runs: passed, failed as "
            "warnings (rows quarantined), failed as critical (nothing loaded).",
            charts.data_quality(audit.run_history(engine, last_runs)).to_dict(),
        ),
    ]
    return sections


def _summary(engine: sa.Engine, now: datetime) -> str:
    latest = audit.run_history(engine, 1)
    run = (
        f"Latest run {latest[0]['run_id']} {latest[0]['status']} (started "
        f"{latest[0]['started_at']:%Y-%m-%d %H:%M}, source {latest[0]['source']}, "
        f"engine {latest[0]['engine']})."
        if latest
        else "No run recorded."
    )
    return f"Generated {now:%Y-%m-%d %H:%M} UTC. {run}"


def write_report(
    engine: sa.Engine, out: Path, last_runs: int = 10, now: datetime | None = None
) -> ReportFiles:
    """Write ``out/report.html`` (self-contained, opens offline) and ``out/<chart>.png``.

    Raises:
        NotInstalledError: the ``report`` extra is missing.
        ConfigError: nothing is loaded yet, or ``out`` cannot be written.
    """
    charts, vl_convert = _libraries()
    if migrate.current(engine) is None:
        where = engine.url.render_as_string(hide_password=True)
        raise ConfigError(f"{where} holds no tables yet: run `etl-service run` first")
    sections = _sections(charts, engine, last_runs)
    try:
        out.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise ConfigError(f"--out {out}: cannot create the folder ({exc.strerror})") from None
    version = _vl_version()
    images = []
    for section in sections:
        image = out / f"{section.key}.png"
        write_atomically(image, vl_convert.vegalite_to_png(section.spec, vl_version=version))
        images.append(image)
    bundle = vl_convert.javascript_bundle(vl_version=version)
    title = "S&P 500: sectors, index changes, coverage and data quality"
    page = render_page(title, _summary(engine, now or datetime.now(UTC)), sections, bundle)
    write_atomically(out / PAGE_NAME, page.encode())
    logger.info("report: %s and %d charts in %s", PAGE_NAME, len(images), out)
    return ReportFiles(out / PAGE_NAME, images)


def _vl_version() -> str:
    """vl-convert's name of the Vega-Lite version Altair writes (v6.4.1 -> v6_4)."""
    import altair

    return "_".join(str(altair.SCHEMA_VERSION).split(".")[:2])
