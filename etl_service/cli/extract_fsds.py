"""``etl-service extract fsds``: quarterly financials from SEC Financial Statement Data Sets."""

from __future__ import annotations

import logging
from pathlib import Path

import click

from etl_service.cli._output import FORMATS, write_table
from etl_service.engines.spark.session import spark_session
from etl_service.errors import InputError
from etl_service.settings import Settings
from etl_service.src.adapters.sec.fsds_files import check_quarter

logger = logging.getLogger(__name__)


@click.command()
@click.argument("quarters", nargs=-1, required=True, type=click.Path(path_type=Path))
@click.option(
    "--spark-mode",
    "spark_master",
    default=None,
    metavar="MASTER",
    help="local[*], local[N] or spark://HOST:PORT. Default: ETL_SPARK__MASTER or local[*].",
)
@click.option(
    "--staging-dir",
    type=click.Path(file_okay=False, path_type=Path),
    help="Where zips are extracted (default: the system temp folder); on a cluster, a "
    "folder every executor can read.",
)
@click.option("--format", "fmt", type=click.Choice(FORMATS), default="csv", show_default=True)
@click.option("--out", type=click.Path(dir_okay=False, path_type=Path), help="Default: stdout.")
@click.pass_obj
def fsds(
    settings: Settings,
    quarters: tuple[Path, ...],
    spark_master: str | None,
    staging_dir: Path | None,
    fmt: str,
    out: Path | None,
) -> None:
    """Quarterly financials of every company in FSDS QUARTERS (folders or SEC .zip files).

    A quarter folder holds sub.txt and num.txt (or .txt.gz). Rows are sorted by CIK and
    period end; rejected facts and warnings are logged.
    """
    for quarter in quarters:  # before paying for a Spark start
        if not quarter.exists():
            raise InputError("no such file or folder", source=str(quarter))
        check_quarter(quarter)
    with spark_session(settings.spark, spark_master, "etl-service-fsds") as spark:
        # needs PySpark, the optional "spark" extra, which spark_session has checked
        from etl_service.engines.spark.fsds import read_fsds

        extracted = read_fsds(spark, quarters, staging_dir=staging_dir)
    for rejected in extracted.rejected:
        logger.warning("fact rejected: %s", rejected.reason)
    for warning in extracted.warnings:
        logger.warning("%s", warning)
    if extracted.table.num_rows == 0:
        raise InputError(
            "no quarterly revenue or net income facts; nothing written",
            source=", ".join(str(q) for q in quarters),
        )
    write_table(extracted.table, fmt, out)
