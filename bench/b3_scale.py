"""B3: time per million daily rows of the standard and Spark pipelines across scale factors.

Each run is a whole pipeline run (``bench.pipeline_run``) into a fresh PostgreSQL database
and lake. Scale factor s is 500·s companies with 10,000 trading days each (s = 16: 80M
daily rows). The flatness figure divides the time per million rows at the largest scale by
the time at the smallest. Spark runs on ``local[2]`` within the time left of the run's
budget: a scale whose estimated time does not fit is not run, and the results say so.
The crossover comes from a least-squares line (fixed seconds + seconds per million rows)
through each engine's medians; it is labelled as such, never reported as a measurement.
"""

from __future__ import annotations

import logging
import statistics
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from bench.config import Profile
from bench.measure import Figure, Goal, Sample
from bench.pipeline_run import RunFailedError, ScaleResult, run_scale, run_scale_in_subprocess
from bench.synthetic import COMPANIES_PER_SCALE

if TYPE_CHECKING:
    from pyspark.sql import SparkSession

logger = logging.getLogger(__name__)

SPARK_FIRST_RUN_ESTIMATE_S = 60.0
"""Before any Spark run is measured: a run on this machine takes about a minute at scale 0.25."""
JVM_START_S = 15.0


@dataclass
class Measured:
    """Every scale each engine ran at, and the scales skipped with the reason."""

    standard: list[ScaleResult] = field(default_factory=list)
    spark: list[ScaleResult] = field(default_factory=list)
    skipped: list[str] = field(default_factory=list)


def per_million(result: ScaleResult) -> list[float]:
    """Seconds per million daily rows of each run."""
    return [r.seconds / (result.daily_rows / 1e6) for r in result.runs]


def _run(
    engine: str,
    scale: float,
    profile: Profile,
    admin_url: str,
    workdir: Path,
    spark: SparkSession | None,
) -> ScaleResult:
    if profile.subprocess:
        return run_scale_in_subprocess(
            engine, scale, profile.b3_days, profile.runs, admin_url, workdir
        )
    return run_scale(engine, scale, profile.b3_days, profile.runs, admin_url, workdir, spark)


def measure_standard(profile: Profile, admin_url: str, workdir: Path) -> list[ScaleResult]:
    """The standard pipeline at every scale of the profile."""
    out = []
    for scale in profile.b3_scales:
        logger.info("B3 standard pipeline at scale %g", scale)
        out.append(_run("standard", scale, profile, admin_url, workdir, None))
    return out


def measure_spark(
    profile: Profile,
    admin_url: str,
    workdir: Path,
    deadline: float,
    spark: SparkSession | None = None,
) -> tuple[list[ScaleResult], list[str]]:
    """The Spark pipeline at each scale whose estimated time fits before ``deadline``."""
    done: list[ScaleResult] = []
    skipped: list[str] = []
    for scale in profile.b3_spark_scales:
        rows = COMPANIES_PER_SCALE * scale * profile.b3_days
        if done:
            last = done[-1]
            per_run = statistics.median(r.seconds for r in last.runs) * rows / last.daily_rows
        else:
            per_run = SPARK_FIRST_RUN_ESTIMATE_S
        estimate = per_run * profile.runs + (JVM_START_S if profile.subprocess else 0.0)
        left = deadline - time.monotonic()
        if estimate > left:
            skipped.append(
                f"Spark at scale {scale:g} ({rows / 1e6:,.2f}M daily rows) not run: "
                f"{profile.runs} runs would take about {estimate:,.0f} s (linear in rows from "
                f"the previous scale), more than the {max(left, 0):,.0f} s left of the "
                "benchmark's 20-minute budget."
            )
            continue
        logger.info("B3 Spark pipeline at scale %g", scale)
        try:
            done.append(_run("spark", scale, profile, admin_url, workdir, spark))
        except RunFailedError as exc:
            skipped.append(f"Spark at scale {scale:g} failed, so it has no figure: {exc}.")
            break
    return done, skipped


def fit(results: Sequence[ScaleResult]) -> tuple[float, float] | None:
    """(fixed seconds, seconds per million rows) through the median run of each scale."""
    if len(results) < 2:
        return None
    xs = [r.daily_rows / 1e6 for r in results]
    ys = [statistics.median(run.seconds for run in r.runs) for r in results]
    slope, intercept = statistics.linear_regression(xs, ys)
    return intercept, slope


def crossover(standard: Sequence[ScaleResult], spark: Sequence[ScaleResult]) -> str:
    """Where Spark would overtake the standard engine, from each engine's fitted line."""
    std_line, spark_line = fit(standard), fit(spark)
    if std_line is None or spark_line is None:
        return (
            "No crossover estimate: it needs each engine measured at two scales or more "
            f"(standard {len(standard)}, Spark {len(spark)})."
        )
    (a_std, b_std), (a_spark, b_spark) = std_line, spark_line
    fitted = (
        "Least-squares lines through the measured scales only (median seconds = fixed + "
        "per million daily rows): standard "
        f"{a_std:.1f} s + {b_std:.2f} s/M, Spark {a_spark:.1f} s + {b_spark:.2f} s/M."
    )
    if b_spark >= b_std:
        return (
            f"{fitted} Spark's cost per extra million rows is {b_spark / b_std:.1f}× the "
            "standard engine's, so on 2 cores it does not overtake at any scale: no crossover."
        )
    rows = (a_spark - a_std) / (b_std - b_spark)
    per_scale = standard[0].daily_rows / standard[0].scale / 1e6
    return (
        f"{fitted} The lines cross at about {rows:,.0f}M daily rows (scale "
        f"{rows / per_scale:,.1f}), an extrapolation beyond the measured scales."
    )


def _scale_details(results: Sequence[ScaleResult]) -> list[dict[str, Any]]:
    out = []
    for r in results:
        stages = {
            name: statistics.median(run.stages.get(name, 0.0) for run in r.runs)
            for name in r.runs[0].stages
        }
        values = per_million(r)
        out.append(
            {
                "scale": r.scale,
                "daily_rows": r.daily_rows,
                "quarterly_reports": r.report_rows,
                "companies": r.companies,
                "seconds": [run.seconds for run in r.runs],
                "seconds_per_million_rows": {
                    "median": statistics.median(values),
                    "min": min(values),
                    "max": max(values),
                },
                "stage_seconds_median": stages,
            }
        )
    return out


def _sample(engine: str, result: ScaleResult) -> Sample:
    return Sample(
        f"{engine} at scale {result.scale:g} ({result.daily_rows:,} daily rows)",
        "s per M rows",
        per_million(result),
    )


def figures(measured: Measured) -> list[Figure]:
    """B3 for the standard engine (flatness), and B3-spark (Spark against it)."""
    std = measured.standard
    smallest, largest = std[0], std[-1]
    measured_sample, baseline = _sample("standard", largest), _sample("standard", smallest)
    flat = Figure(
        id="B3",
        title="Scale: standard pipeline, time per million daily rows",
        workload=", ".join(f"scale {r.scale:g}: {r.daily_rows:,} daily rows" for r in std),
        measured=measured_sample,
        baseline=baseline,
        ratio=measured_sample.median / baseline.median,
        ratio_means=(
            f"seconds per million rows at scale {largest.scale:g} / at scale {smallest.scale:g}"
        ),
        goal=Goal("<=", 1.3),
        details={"scales": _scale_details(std)},
        notes=[
            "Each run is the whole pipeline (transform, quality gates, lake staging and "
            "publication, PostgreSQL load) on data handed over by synthetic sources; the "
            "parsing of source files is measured by B5 and B6, not here."
        ],
    )
    if flat.met is False:
        flat.reason_unmet = _flatness_reason(std)
    out = [flat]
    if measured.spark:
        out.append(_spark_figure(measured))
    return out


def _flatness_reason(std: Sequence[ScaleResult]) -> str:
    small, large = _scale_details([std[0]])[0], _scale_details([std[-1]])[0]
    growth = {
        name: large["stage_seconds_median"][name]
        / max(small["stage_seconds_median"][name], 1e-9)
        / (std[-1].daily_rows / std[0].daily_rows)
        for name in small["stage_seconds_median"]
        if small["stage_seconds_median"][name] > 0.05
    }
    worst = max(growth, key=growth.__getitem__)
    return (
        f"Per row, the {worst} stage grows {growth[worst]:.2f}× from the smallest to the "
        "largest scale (other stages: "
        + ", ".join(f"{k} {v:.2f}×" for k, v in growth.items() if k != worst)
        + "). Work that is superlinear in rows (sorts, window passes over the whole table, "
        "hashing whole tables in memory) must become per-ticker or streamed to stay flat."
    )


def _spark_figure(measured: Measured) -> Figure:
    spark = measured.spark
    by_scale = {r.scale: r for r in measured.standard}
    common = [r for r in spark if r.scale in by_scale]
    top = common[-1] if common else spark[-1]
    reference = by_scale.get(top.scale, measured.standard[0])
    spark_sample, standard_sample = _sample("Spark local[2]", top), _sample("standard", reference)
    notes = [crossover(measured.standard, spark), *measured.skipped]
    if len(spark) > 1:
        first, last = statistics.median(per_million(spark[0])), statistics.median(per_million(top))
        notes.append(
            f"Spark seconds per million rows: {first:.1f} at scale {spark[0].scale:g}, "
            f"{last:.1f} at scale {top.scale:g} (ratio {last / first:.2f})."
        )
    if reference.scale != top.scale:
        notes.append(
            f"The standard engine was not run at scale {top.scale:g}; its scale "
            f"{reference.scale:g} is the reference."
        )
    return Figure(
        id="B3-spark",
        title="Scale: Spark pipeline (local[2]) against the standard pipeline",
        workload=", ".join(f"scale {r.scale:g}: {r.daily_rows:,} daily rows" for r in spark),
        measured=spark_sample,
        baseline=standard_sample,
        ratio=spark_sample.median / standard_sample.median,
        ratio_means="Spark seconds per million rows / standard seconds per million rows",
        goal=None,
        details={"scales": _scale_details(spark)},
        notes=notes,
    )
