"""``python -m bench``: run the figures, then write ``results.json`` and ``RESULTS.md``."""

from __future__ import annotations

import argparse
import json
import logging
import os
import sys
import tempfile
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from bench import (
    b1_load,
    b2_transform,
    b3_scale,
    b4_memory,
    b5_sec,
    b6_end_to_end,
    b7_live_fetch,
    b8_bulk,
    b9_incremental,
    b10_snowflake,
    report,
)
from bench.config import PROFILES, Profile
from bench.databases import server_version
from bench.machine import machine_info
from bench.measure import Figure, figure_family

if TYPE_CHECKING:
    from pyspark.sql import SparkSession

logger = logging.getLogger("bench")

FIGURES = ("B1", "B2", "B3", "B4", "B5", "B6", "B7", "B8", "B9", "B10")
BUDGET_S = 19 * 60
"""``make bench`` must finish within 20 minutes on the 2-core machine; Spark gets what is left."""
OUT_DIR = Path(__file__).resolve().parent


@contextmanager
def postgres(admin_url: str | None) -> Iterator[str]:
    """The given server's admin URL, or a throwaway PostgreSQL started for the block."""
    if admin_url is not None:
        yield admin_url
        return
    from etl_service.tests.support.services import postgres_server

    with postgres_server() as server:
        yield server.url()


def run_bench(
    profile: Profile,
    only: Sequence[str] = FIGURES,
    admin_url: str | None = None,
    spark: SparkSession | None = None,
    budget_s: float = BUDGET_S,
    fakesnow: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """Run the figures in ``only`` and return the results document.

    Args:
        profile: the sizes and repetitions (``full`` or ``smoke``).
        only: which of FIGURES to run.
        admin_url: a running PostgreSQL server's admin URL; default starts one.
        spark: a Spark session for in-process Spark runs (the smoke test's).
        budget_s: the Spark runs of B3 go last and only while this many seconds last.
        fakesnow: a running fakesnow server's connection arguments; default starts one.

    Returns:
        The content of ``results.json``.
    """
    started, clock = datetime.now(UTC), time.monotonic()
    deadline = clock + budget_s
    figures: list[Figure] = []
    scaled_down: list[str] = []
    with tempfile.TemporaryDirectory(prefix="etl-bench-") as tmp, postgres(admin_url) as url:
        workdir = Path(tmp)
        machine = machine_info(server_version(url))
        if "B2" in only:
            logger.info("B2: transform")
            figures.append(b2_transform.run(profile))
        if "B5" in only:
            logger.info("B5: SEC extraction")
            figures.append(b5_sec.run(profile, workdir))
        if "B6" in only:
            logger.info("B6: end to end")
            figures.append(b6_end_to_end.run(profile))
        if "B7" in only:
            logger.info("B7: live companyfacts fetch at the rate limit")
            figures.append(b7_live_fetch.run(profile))
            scaled_down.append(
                f"B7: {profile.b7_companies} companies instead of 500 (the rate is the same; "
                "500 take 50 s a run at 10 requests/s)."
            )
        if "B8" in only:
            logger.info("B8: financials rebuild from a bulk folder")
            figures.append(b8_bulk.run(profile, workdir))
            scaled_down.append(
                f"B8: about {profile.b8_megabytes:,.0f} MB of companyfacts instead of the "
                f"{b8_bulk.FULL_UNIVERSE_FILES:,} files (4 GB) of the full universe (both "
                "sides read file by file, so the throughput is the same; 4 GB take over "
                "3 minutes a run for the JSON baseline alone)."
            )
        if "B9" in only:
            logger.info("B9: incremental run")
            figures.append(b9_incremental.run(profile))
        if "B10" in only:
            logger.info("B10: Snowflake export")
            figures.append(b10_snowflake.run(profile, fakesnow))
        if "B1" in only:
            logger.info("B1: load to PostgreSQL")
            figures += b1_load.run(profile, url, workdir)
            scaled_down.append(
                f"B1 legacy pattern: measured on the first {profile.b1_legacy_rows:,} rows of "
                f"each run and extrapolated linearly to {profile.b1_rows:,} rows (one row per "
                "round trip and commit, so its rate does not depend on the table size)."
            )
            if profile.b1_dlt_runs < profile.runs:
                scaled_down.append(
                    f"B1 dlt merge: {profile.b1_dlt_runs} run per case instead of "
                    f"{profile.runs} (it takes several times longer than the other designs and "
                    "the 20-minute budget does not hold more)."
                )
        if "B3" in only or "B4" in only:
            measured = b3_scale.Measured()
            logger.info("B3/B4: standard pipeline at scales %s", profile.b3_scales)
            measured.standard = b3_scale.measure_standard(profile, url, workdir)
            if "B3" in only:
                logger.info("B3: Spark pipeline at scales %s", profile.b3_spark_scales)
                measured.spark, measured.skipped = b3_scale.measure_spark(
                    profile, url, workdir, deadline, spark
                )
                scaled_down += [f"B3 {item}" for item in measured.skipped]
                figures += b3_scale.figures(measured)
            if "B4" in only:
                figures.append(b4_memory.figure(measured.standard[-1]))
    order = {name: i for i, name in enumerate(FIGURES)}
    figures.sort(key=lambda f: (order[figure_family(f.id)], f.id))
    run = {
        "profile": profile.name,
        "runs": profile.runs,
        "figures": list(only),
        "started_at": started.isoformat(timespec="seconds"),
        "wall_seconds": round(time.monotonic() - clock, 1),
        "load_average_at_end": [round(x, 2) for x in os.getloadavg()],
        "scaled_down": scaled_down,
    }
    return report.results_document(figures, machine, run)


def main(argv: Sequence[str] | None = None) -> int:
    """Parse the options, run the benchmarks and write the two result files."""
    parser = argparse.ArgumentParser(
        prog="python -m bench",
        description="Run the benchmarks and write results.json and RESULTS.md.",
    )
    parser.add_argument(
        "--profile",
        choices=sorted(PROFILES),
        default="full",
        help="full: the sizes of the issue (about 20 minutes on 2 cores); smoke: tiny.",
    )
    parser.add_argument(
        "--only",
        default=",".join(FIGURES),
        help="comma-separated figures to run, e.g. B1,B2 (default: all)",
    )
    parser.add_argument(
        "--add-to",
        type=Path,
        default=None,
        help="add the figures this run measures that the results in ADD_TO lack, and rewrite "
        "those results (e.g. --profile spark-b3 --only B3 after a full run without Spark)",
    )
    parser.add_argument(
        "--replace",
        action="store_true",
        help="with --add-to: also replace the figures ADD_TO has by this run's (e.g. --only B6 "
        "--add-to bench --replace after a change that speeds the run up)",
    )
    parser.add_argument(
        "--out",
        type=Path,
        default=OUT_DIR,
        help="folder for results.json and RESULTS.md (default: the bench package folder)",
    )
    args = parser.parse_args(argv)
    only = [name.strip().upper() for name in args.only.split(",") if name.strip()]
    unknown = sorted(set(only) - set(FIGURES))
    if unknown:
        parser.error(f"unknown figures {unknown}; choose from {', '.join(FIGURES)}")
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s: %(message)s")
    logging.getLogger("etl_service").setLevel(logging.WARNING)
    for chatty in ("snowflake", "fakesnow", "uvicorn", "uvicorn.access", "sqlglot", "httpx"):
        logging.getLogger(chatty).setLevel(logging.ERROR)
    document = run_bench(PROFILES[args.profile], only)
    if args.add_to is not None:
        existing = json.loads((args.add_to / "results.json").read_text())
        document = report.add_missing(existing, document, replace=args.replace)
    results, summary = report.write(document, args.add_to or args.out)
    logger.info("wrote %s and %s in %.0f s", results, summary, document["run"]["wall_seconds"])
    for figure in document["figures"]:
        met = {True: "met", False: "NOT met", None: "report"}[figure["met"]]
        logger.info(
            "%-9s ratio %.3f  goal %s  %s", figure["id"], figure["ratio"], figure["goal_text"], met
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
