"""The standard pipeline: pandas/Arrow and DuckDB on one machine, SQLite or PostgreSQL.

Run it with ``etl-service run`` or ``python -m etl_service.pipelines.standard_pipeline``.
"""

from __future__ import annotations

import sys

import pyarrow as pa

from etl_service.pipelines.curation_pipeline import LOAD_MODES, CurationPipeline
from etl_service.src.db.lake import Staged, Zone
from etl_service.src.db.loader import TableLoad, load_tables
from etl_service.src.transforms.sql_runner import DuckDbEngine


class StandardETLPipeline(CurationPipeline):
    """Extract from the sources, curate on DuckDB, gate on quality, load DB and lake."""

    engine_name = "standard"

    def sql_engine(self) -> DuckDbEngine:
        return DuckDbEngine()

    def stage_table(
        self, zone: Zone, name: str, table: pa.Table, partition_by: list[str] | None
    ) -> Staged:
        return self.lake.stage(zone, name, table, partition_by)

    def load_database(self, tables: dict[str, pa.Table]) -> dict[str, TableLoad]:
        return load_tables(self.context.engine, tables, LOAD_MODES)


if __name__ == "__main__":
    from etl_service.cli.module_entry import module_main

    sys.exit(module_main("standard", "python -m etl_service.pipelines.standard_pipeline"))
