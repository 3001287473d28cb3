"""The ``sec-fsds`` financials source: SEC Financial Statement Data Sets quarters, on Spark.

``run --financials fsds:PATH[,PATH...]`` (``ETL_SEC__FSDS_PATHS``) reads the quarters with
``etl_service.engines.spark.fsds``, the same reader as ``extract fsds``, for the run's
companies only. It uses the Spark session already active in the process (the Spark
engine's) or starts one on ``ETL_SPARK__MASTER`` for the read, so it needs the ``spark``
extra whichever engine runs the pipeline.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path

from etl_service.engines.spark.session import session_for
from etl_service.errors import ConfigError, InputError
from etl_service.src.adapters.registry import SourceContext
from etl_service.src.adapters.sec.companyfacts import cik10
from etl_service.src.adapters.sec.fsds_files import check_quarter
from etl_service.src.models.records import Extracted


class SecFsdsSource:
    """Financial Statement Data Sets quarters (``ETL_SEC__FSDS_PATHS``)."""

    name = "sec-fsds"

    def __init__(self, context: SourceContext, paths: Sequence[Path] = ()) -> None:
        self.context = context
        self.paths = tuple(paths) or context.settings.sec.fsds_paths
        if not self.paths:
            raise ConfigError(
                "the sec-fsds source needs ETL_SEC__FSDS_PATHS "
                "(run --financials fsds:PATH[,PATH...])"
            )

    def financials(self, ciks: Sequence[str], tickers: Mapping[str, str]) -> Extracted:
        for quarter in self.paths:  # before paying for a Spark start
            if not quarter.exists():
                raise InputError("no such file or folder", source=str(quarter))
            check_quarter(quarter)
        wanted = sorted({cik10(c) for c in ciks})
        # session_for raises NotInstalledError naming the spark extra when PySpark is missing
        with session_for(self.context.settings.spark, "etl-service-fsds") as spark:
            from etl_service.engines.spark.fsds import read_fsds  # imports PySpark

            extracted = read_fsds(spark, self.paths, ciks=wanted)
        found = set(extracted.table.column("cik").to_pylist())
        missing = [c for c in wanted if c not in found]
        if missing:
            extracted.warnings.append(
                f"financials: {len(missing)} of {len(wanted)} companies have no quarterly "
                f"facts in {', '.join(map(str, self.paths))}; they get no quarterly reports"
            )
        return extracted
