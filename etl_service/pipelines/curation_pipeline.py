"""The shape every engine's pipeline shares: sources in, shared curation and gates, atomic load.

Extract reads the ``Sources``; transform and validate run the shared SQL on the engine's
``sql_engine()``; load stages the lake versions, loads the database in one transaction and
only then publishes the lake, so the lake never shows data the database rejected. An engine
supplies only its SQL engine, its lake writer and its database loader.
"""

from __future__ import annotations

import json
from abc import abstractmethod
from datetime import date
from typing import Protocol

import pyarrow as pa

from etl_service.pipelines.base_pipeline import BasePipeline, RunContext
from etl_service.src.adapters.sources import Sources
from etl_service.src.db.lake import Lake, Staged, Zone
from etl_service.src.db.loader import LoadMode, TableLoad
from etl_service.src.models.quality import CheckResult
from etl_service.src.models.records import Rejected
from etl_service.src.models.schemas import QUARANTINE, TABLES_BY_NAME, arrow_schema
from etl_service.src.transforms.curate import (
    Curated,
    CurateEngine,
    SourceTables,
    curate,
    sort_by_key,
)
from etl_service.src.transforms.quality import SqlEngine, evaluate

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
"""Lake partition columns per curated table."""


class CurationEngine(CurateEngine, SqlEngine, Protocol):
    """An engine that runs curation and the quality rules, and is closed after use."""

    def close(self) -> None: ...


def quarantine_table(rejected: list[Rejected], run_id: str) -> pa.Table:
    """The quarantine rows of a run: one per (table, key, reason), first seen in ``run_id``."""
    rows = {
        (r.table, r.record_key, r.reason): {
            "table_name": r.table,
            "record_key": r.record_key,
            "reason": r.reason,
            "first_run_id": run_id,
            "source": r.source,
            "record": json.dumps(r.record, default=str, sort_keys=True),
        }
        for r in rejected
    }
    return pa.Table.from_pylist(list(rows.values()), schema=arrow_schema(QUARANTINE))


class CurationPipeline(BasePipeline[SourceTables, Curated]):
    """Extract from the sources, curate and gate on ``sql_engine()``, load DB and lake."""

    def __init__(self, context: RunContext, sources: Sources, lake: Lake) -> None:
        super().__init__(context)
        self.sources = sources
        self.lake = lake

    @abstractmethod
    def sql_engine(self) -> CurationEngine:
        """A fresh engine for one stage; the pipeline closes it."""

    @abstractmethod
    def stage_table(
        self, zone: Zone, name: str, table: pa.Table, partition_by: list[str] | None
    ) -> Staged:
        """Write ``table`` to the lake as a staged, not yet visible version.

        Returns:
            The staged version; the pipeline commits or discards it.
        """

    @abstractmethod
    def load_database(self, tables: dict[str, pa.Table]) -> dict[str, TableLoad]:
        """Load ``tables`` into the database in one transaction by ``LOAD_MODES``.

        Returns:
            Per table, rows offered, upserted and deleted.
        """

    def extract(self) -> SourceTables:
        page = self.sources.constituents_page()
        companies = page.companies.table
        ciks = sorted({c for c in companies.column("cik").to_pylist() if c})
        financials = self.sources.financials(ciks)
        closes = self.sources.closes(companies.column("ticker").to_pylist())
        self.report.source = self.sources.report.summary
        self.report.warnings += self.sources.report.warnings
        as_of = page.revision_time.date() if page.revision_time else date.today()
        return SourceTables(page.companies, page.changes, financials, closes, as_of, page.source)

    def transform(self, raw: SourceTables) -> Curated:
        engine = self.sql_engine()
        try:
            return curate(raw, engine)
        finally:
            engine.close()

    def validate(self, curated: Curated) -> list[CheckResult]:
        engine = self.sql_engine()
        try:
            outcome = evaluate(engine, curated.tables, self.context.settings.quality)
        finally:
            engine.close()
        # The engine's filtered tables, back in the canonical schema and key order.
        curated.tables.update(
            {name: sort_by_key(TABLES_BY_NAME[name], t) for name, t in outcome.tables.items()}
        )
        curated.rejected += outcome.quarantined
        self.report.warnings += curated.warnings
        for result in outcome.results:
            if not result.passed:
                self.report.warnings.append(
                    f"{result.severity}: {result.rule} on {result.table}: {result.failed} rows"
                )
        return outcome.results

    def load(self, curated: Curated) -> dict[str, int]:
        quarantine = quarantine_table(curated.rejected, self.context.run_id)
        staged: list[Staged] = []
        try:
            for name, table in curated.processed.items():
                staged.append(self.stage_table(Zone.PROCESSED, name, table, None))
            for name, table in curated.tables.items():
                staged.append(self.stage_table(Zone.CURATED, name, table, PARTITIONS.get(name)))
            loaded = self.load_database({**curated.tables, "quarantine": quarantine})
        except BaseException:
            for pending in staged:
                self.lake.discard(pending)
            raise
        for pending in staged:
            self.lake.commit(pending)
        target = self.context.engine.url.render_as_string(hide_password=True)
        self.report.destinations = [target, f"{self.lake.uri}/{Zone.CURATED}"]
        return {name: result.offered for name, result in loaded.items()}
