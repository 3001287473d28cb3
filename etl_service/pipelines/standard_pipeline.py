"""The standard pipeline: pandas/Arrow and DuckDB on one machine, SQLite or PostgreSQL.

Run it with ``etl-service run`` or ``python -m etl_service.pipelines.standard_pipeline``.
"""

from __future__ import annotations

import logging
import sys
from dataclasses import dataclass
from datetime import date

import pyarrow as pa

from etl_service.pipelines.base_pipeline import BasePipeline, RunContext
from etl_service.src.adapters.sources import Sources
from etl_service.src.db.lake import Lake, Staged, Zone
from etl_service.src.db.loader import LoadMode, load_tables
from etl_service.src.models.quality import CheckResult
from etl_service.src.models.schemas import QUARANTINE, arrow_schema
from etl_service.src.transforms.curate import Curated, SourceTables, curate
from etl_service.src.transforms.quality import evaluate
from etl_service.src.transforms.sql_runner import DuckDbEngine

logger = logging.getLogger(__name__)

LOAD_MODES: dict[str, LoadMode] = {
    "sub_industries": LoadMode.SYNC,
    "companies": LoadMode.SYNC,
    "index_changes": LoadMode.SYNC,
    "index_membership": LoadMode.SYNC,
    "quarterly_reports": LoadMode.MERGE,
    "prices_pe": LoadMode.MERGE,
    "sector_aggregates": LoadMode.SYNC,
    "quarantine": LoadMode.RECONCILE,
}
"""Snapshot tables are synced to the source; facts accumulate across runs."""

PARTITIONS: dict[str, list[str]] = {"quarterly_reports": ["fiscal_year"]}


@dataclass
class Processed:
    """Extracted source tables, kept in the lake's processed zone."""

    sources: SourceTables
    page_revision: str | None


class StandardETLPipeline(BasePipeline[Processed, Curated]):
    """Extract from the sources, curate on DuckDB, gate on quality, load DB and lake."""

    engine_name = "standard"

    def __init__(self, context: RunContext, sources: Sources, lake: Lake) -> None:
        super().__init__(context)
        self.sources = sources
        self.lake = lake

    def extract(self) -> Processed:
        page = self.sources.constituents_page()
        companies = page.companies.table
        ciks = sorted({c for c in companies.column("cik").to_pylist() if c})
        financials = self.sources.financials(ciks)
        closes = self.sources.closes(companies.column("ticker").to_pylist())
        self.report.source = self.sources.report.summary
        self.report.warnings += self.sources.report.warnings
        as_of = page.revision_time.date() if page.revision_time else date.today()
        return Processed(
            SourceTables(page.companies, page.changes, financials, closes, as_of, page.source),
            page.revision,
        )

    def transform(self, raw: Processed) -> Curated:
        engine = DuckDbEngine()
        try:
            return curate(raw.sources, engine)
        finally:
            engine.close()

    def validate(self, curated: Curated) -> list[CheckResult]:
        engine = DuckDbEngine()
        try:
            outcome = evaluate(engine, curated.tables, self.context.settings.quality)
        finally:
            engine.close()
        curated.tables.update(outcome.tables)
        curated.rejected += outcome.quarantined
        self.report.warnings += curated.warnings
        for result in outcome.results:
            if not result.passed:
                self.report.warnings.append(
                    f"{result.severity}: {result.rule} on {result.table}: {result.failed} rows"
                )
        return outcome.results

    def load(self, curated: Curated) -> dict[str, int]:
        quarantine = self._quarantine_table(curated)
        staged: list[Staged] = []
        try:
            for name, table in curated.processed.items():
                staged.append(self.lake.stage(Zone.PROCESSED, name, table))
            for name, table in curated.tables.items():
                staged.append(self.lake.stage(Zone.CURATED, name, table, PARTITIONS.get(name)))
            tables = {**curated.tables, "quarantine": quarantine}
            loaded = load_tables(self.context.engine, tables, LOAD_MODES)
        except BaseException:
            for pending in staged:
                self.lake.discard(pending)
            raise
        for pending in staged:
            self.lake.commit(pending)
        target = self.context.engine.url.render_as_string(hide_password=True)
        self.report.destinations = [target, f"{self.lake.uri}/{Zone.CURATED}"]
        return {name: result.offered for name, result in loaded.items()}

    def _quarantine_table(self, curated: Curated) -> pa.Table:
        rows = {
            (r.table, r.record_key, r.reason): {
                "table_name": r.table,
                "record_key": r.record_key,
                "reason": r.reason,
                "first_run_id": self.context.run_id,
                "source": r.source,
                "record": _jsonable(r.record),
            }
            for r in curated.rejected
        }
        return pa.Table.from_pylist(list(rows.values()), schema=arrow_schema(QUARANTINE))


def _jsonable(record: dict[str, object]) -> str:
    import json

    return json.dumps(record, default=str, sort_keys=True)


if __name__ == "__main__":
    from etl_service.cli import main

    sys.exit(main(["run", "--engine", "standard", *sys.argv[1:]]))
