"""The standard pipeline: Arrow and DuckDB on one machine, SQLite or PostgreSQL.

Run it with ``etl-service run`` or ``python -m etl_service.pipelines.standard_pipeline``;
build it in code with ``etl_service.pipelines.compose.build_pipeline``.
"""

from __future__ import annotations

import sys

from etl_service.pipelines.curation_pipeline import CurationPipeline


class StandardETLPipeline(CurationPipeline):
    """The main job on the standard engine (DuckDB over Arrow)."""


if __name__ == "__main__":
    from etl_service.cli.module_entry import module_main

    sys.exit(module_main("standard", "python -m etl_service.pipelines.standard_pipeline"))
