"""The main job's shape on any engine: sources in, shared curation and gates, every sink.

Extract reads the ``Sources``; transform and validate run the shared SQL in one session of
the engine, whose frames stay native (Arrow on DuckDB, DataFrames on Spark) from curation
to the sinks; load hands the curated and processed tables and the quarantine to the sinks,
which stage and commit all together or not at all (``sinks.base.write_all``).
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from datetime import date
from typing import Any

import pyarrow as pa

from etl_service.engines.base import Engine
from etl_service.errors import ConfigError
from etl_service.pipelines.base_pipeline import BasePipeline, RunContext, RunReport
from etl_service.settings import Settings
from etl_service.sinks import RunOutputs, Sink, write_all
from etl_service.src.adapters.member_lists import MemberList
from etl_service.src.adapters.sources import Sources
from etl_service.src.db.queries import loaded_row_counts
from etl_service.src.models.quality import CheckResult
from etl_service.src.models.records import Rejected
from etl_service.src.models.schemas import (
    CURATED_TABLES,
    QUARANTINE,
    SECTOR_AGGREGATES,
    arrow_schema,
)
from etl_service.src.transforms.curate import Curated, SourceTables, aggregate, curate
from etl_service.src.transforms.quality import QualityOutcome, evaluate, shrink_results
from etl_service.src.transforms.sql_runner import SqlSession


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


def subset(
    wanted: Sequence[str], companies: pa.Table, history: Sequence[MemberList]
) -> tuple[list[str], list[str]]:
    """The CIKs and current tickers of the ``wanted`` tickers, members now or in the past.

    Raises:
        ConfigError: a ticker is neither a member now nor in any observed member list.
    """
    pairs = [
        (t, c)
        for table in (companies, *(m.members.table for m in history))
        for t, c in zip(
            table.column("ticker").to_pylist(), table.column("cik").to_pylist(), strict=True
        )
    ]
    unknown = sorted(set(wanted) - {t for t, _ in pairs})
    if unknown:
        raise ConfigError(f"--tickers: not in the index now or in its history: {unknown}")
    ciks = sorted({c for t, c in pairs if t in wanted and c})
    current = set(companies.column("ticker").to_pylist())
    return ciks, sorted(t for t in set(wanted) if t in current)


class CurationPipeline(BasePipeline[SourceTables, Curated]):
    """Extract from the sources, curate and gate on ``engine``, write every sink."""

    def __init__(
        self, context: RunContext, sources: Sources, engine: Engine, sinks: Sequence[Sink]
    ) -> None:
        self.engine_name = engine.name
        super().__init__(context)
        self.sources = sources
        self.engine = engine
        self.sinks = list(sinks)
        self._session: SqlSession | None = None

    @classmethod
    def configure(cls, settings: Settings) -> Settings:
        """The settings this pipeline runs with (the composition root asks before building)."""
        return settings

    def run(self) -> RunReport:
        try:
            return super().run()
        finally:
            self._close_session()

    def _close_session(self) -> None:
        if self._session is not None:
            self._session.close()
            self._session = None

    @property
    def session(self) -> SqlSession:
        """The engine session of this run, opened by the first stage that needs it."""
        if self._session is None:
            self._session = self.engine.session()
        return self._session

    def extract(self) -> SourceTables:
        page = self.sources.constituents_page()
        companies = page.companies.table
        tickers = {
            cik: ticker
            for ticker, cik in zip(
                companies.column("ticker").to_pylist(),
                companies.column("cik").to_pylist(),
                strict=True,
            )
            if cik
        }
        history, reference = self.sources.history(), self.sources.reference()
        former = {c for m in history for c in m.members.table.column("cik").to_pylist() if c}
        ciks, symbols = sorted(set(tickers) | former), companies.column("ticker").to_pylist()
        if self.context.settings.tickers:
            ciks, symbols = subset(self.context.settings.tickers, companies, history)
            self.report.notes.append(
                f"--tickers: financials and prices of {len(ciks)} companies only"
            )
        financials = self.sources.financials(ciks, tickers)
        closes = self.sources.closes(symbols)
        self.report.source = self.sources.report.summary
        self.report.warnings += self.sources.report.warnings
        self.report.notes += self.sources.notes
        as_of = page.revision_time.date() if page.revision_time else date.today()
        return SourceTables(
            page.companies,
            page.changes,
            financials,
            closes,
            as_of,
            page.source,
            history,
            reference,
            self.sources.former_ciks(),
            self.context.settings.history_start,
            self.sources.ticker_sightings(),
        )

    def transform(self, raw: SourceTables) -> Curated:
        inputs = (raw.companies, raw.changes, raw.financials, raw.closes)
        self.engine.size_for(sum(e.table.num_rows for e in inputs))
        return curate(raw, self.session)

    def validate(self, curated: Curated) -> list[CheckResult]:
        """Gate the curated tables, then aggregate what the gates kept, then gate that."""
        outcome = self.evaluate(curated.tables)
        aggregates = self.evaluate({SECTOR_AGGREGATES.name: aggregate(self.session)})
        gated = {**outcome.tables, **aggregates.tables}
        curated.tables = {
            spec.name: self.engine.conform(spec, gated[spec.name]) for spec in CURATED_TABLES
        }
        curated.rejected += outcome.quarantined + aggregates.quarantined
        results = outcome.results + aggregates.results + self._shrinks(curated)
        self.report.warnings += curated.warnings
        for result in results:
            if not result.passed:
                self.report.warnings.append(
                    f"{result.severity}: {result.rule} on {result.table}: {result.failed} rows"
                )
        return results

    def evaluate(self, tables: dict[str, Any]) -> QualityOutcome:
        """The quality rules on ``tables``, run as the shared SQL in the run's session."""
        return evaluate(self.session, tables, self.context.settings.quality)

    def _shrinks(self, curated: Curated) -> list[CheckResult]:
        """Each curated table against what the last load left in the database."""
        settings = self.context.settings
        names = [spec.name for spec in CURATED_TABLES]
        previous = loaded_row_counts(self.context.engine, names)
        current = {n: self.engine.num_rows(curated.tables[n]) for n in names if n in previous}
        results = shrink_results(
            previous, current, settings.quality.max_shrink, allowed=settings.allow_shrink
        )
        for result in results:
            if not result.passed and settings.allow_shrink:
                sample = result.samples[0]
                self.report.warnings.append(
                    f"{result.table} shrinks from {sample['previous_rows']} to "
                    f"{sample['new_rows']} rows, allowed by --allow-shrink"
                )
        return results

    def load(self, curated: Curated) -> dict[str, int]:
        quarantine = quarantine_table(curated.rejected, self.context.run_id)
        outputs = RunOutputs(curated.tables, curated.processed, self.engine.from_arrow(quarantine))
        write_all(self.sinks, outputs)
        self.sources.save_state()  # after the commit: cursors never run ahead of the data
        self.report.destinations = [sink.describe() for sink in self.sinks]
        rows = {name: self.engine.num_rows(frame) for name, frame in curated.tables.items()}
        rows[QUARANTINE.name] = quarantine.num_rows
        return rows
