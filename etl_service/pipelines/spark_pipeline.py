"""The Spark pipeline: the standard pipeline's sources, SQL and gates, run on Spark.

Run it with ``etl-service run --engine spark [--spark-mode MASTER]`` or
``python -m etl_service.pipelines.spark_pipeline --spark-mode local[*]|spark://HOST:PORT``
(``--help`` lists every option); build it in code with
``etl_service.pipelines.compose.build_pipeline(settings, engine="spark", spark=...)``.

Curation and the quality rules run the shared SQL on Spark SQL, and the curated tables stay
DataFrames to the end: Spark writes the lake tables' files, and PostgreSQL is loaded through
Spark JDBC into per-run staging tables merged in one transaction by the loader's
statements (``etl_service.engines.spark``). A SQLite database has no JDBC driver here, so
it is loaded from the driver by the Arrow loader, in one transaction as well.
"""

from __future__ import annotations

import sys

from etl_service.pipelines.curation_pipeline import CurationPipeline


class SparkETLPipeline(CurationPipeline):
    """The main job on the Spark engine, local or on a standalone cluster."""


if __name__ == "__main__":
    from etl_service.cli.module_entry import module_main

    sys.exit(module_main("spark", "python -m etl_service.pipelines.spark_pipeline"))
