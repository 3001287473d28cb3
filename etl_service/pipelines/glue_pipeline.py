"""The Glue pipeline: the main job on the Glue engine, its data quality through Glue.

Everything the Spark pipeline does, plus what a Glue job adds (``aws/glue/glue_job.py`` runs
it inside AWS Glue, ``etl-service glue run-local`` on local Spark):

- the raw zone's new payloads are read as a DynamicFrame with a ``transformation_ctx``, so
  job bookmarks hand each scheduled run only the payloads archived since the last one, and
  typed by ``ApplyMapping`` and ``ResolveChoice`` from ``RAW_PAYLOADS``;
- the data-quality rules run as DQDL (``aws.glue.dqdl``) through ``EvaluateDataQuality``,
  once per table: Glue's verdict decides each rule (a critical one stops the run), the
  rows its row-level results fail are quarantined as in every engine, and rules Glue
  judges only as a whole take their rows from the rule's own SQL.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

import pyarrow as pa

from etl_service.aws.glue.dqdl import dqdl_rule, ruleset
from etl_service.engines.glue import GlueEngine
from etl_service.errors import EngineError
from etl_service.pipelines.curation_pipeline import CurationPipeline
from etl_service.settings import QualitySettings
from etl_service.src.models.schemas import RAW_PAYLOADS
from etl_service.src.transforms.curate import SourceTables
from etl_service.src.transforms.quality import QualityOutcome, Rule, evaluate, rules
from etl_service.src.transforms.sql_runner import SqlSession

if TYPE_CHECKING:
    from pyspark.sql import DataFrame

logger = logging.getLogger(__name__)

RAW_CONTEXT = "raw_payloads"
"""The bookmark key of the raw-zone read."""

FAILED = "DataQualityRulesFail"


class GlueETLPipeline(CurationPipeline):
    """The main job on the Glue engine, with bookmarked raw reads and Glue Data Quality."""

    new_raw_payloads: dict[str, int]
    """Payloads archived since the last bookmarked run, per source."""

    @property
    def glue_engine(self) -> GlueEngine:
        if not isinstance(self.engine, GlueEngine):
            raise EngineError(f"the Glue pipeline needs the glue engine, not {self.engine.name}")
        return self.engine

    def extract(self) -> SourceTables:
        raw = super().extract()
        self.new_raw_payloads = self._new_raw_payloads()
        logger.info(
            "raw zone: new payloads since the last bookmarked run: %s", self.new_raw_payloads
        )
        return raw

    def _new_raw_payloads(self) -> dict[str, int]:
        archive = self.sources.context.archive
        scheme = "s3://" if archive.filesystem.type_name == "s3" else ""
        engine = self.glue_engine
        frame = engine.glue.create_dynamic_frame.from_options(
            connection_type="s3" if scheme else "file",
            connection_options={
                "paths": [f"{scheme}{archive.base_path}/"],
                "recurse": True,
                # Only the .meta.json files: every payload format the archive stores.
                "exclusions": '["**.html", "**.htm", "**.bin", "**.gz", "**[!a].json"]',
            },
            format="json",
            transformation_ctx=RAW_CONTEXT,
        )
        typed = engine.typed(RAW_PAYLOADS, frame, RAW_CONTEXT).toDF()
        counts = typed.groupBy("source").count().collect()
        return {str(row["source"]): int(row["count"]) for row in counts}

    def evaluate(self, tables: dict[str, Any]) -> QualityOutcome:
        """The rules as DQDL through ``EvaluateDataQuality``, quarantine as everywhere."""
        settings = self.context.settings

        def verdicts(frames: Mapping[str, Any]) -> GlueVerdicts:
            return GlueVerdicts(
                self.glue_engine, self.session, frames, settings.quality, settings.catalog.namespace
            )

        return evaluate(self.session, tables, settings.quality, verdicts)


class GlueVerdicts:
    """Each rule's failing rows, from one ``EvaluateDataQuality`` run per table.

    A rule Glue passes has none. A quarantining rule with row-level results fails the rows
    Glue lists, among those the table's earlier rules kept; any other failed rule takes its
    rows from its own SQL, and a critical rule Glue fails stops the run even when its SQL
    finds no row (Glue's verdict stands, with the DQDL as the sample).
    """

    def __init__(
        self,
        engine: GlueEngine,
        session: SqlSession,
        tables: Mapping[str, Any],
        settings: QualitySettings,
        namespace: str,
    ) -> None:
        self.engine = engine
        self.session = session
        self.tables = tables
        self.settings = settings
        self.namespace = namespace
        self.outcomes: dict[str, dict[str, bool]] = {}
        self.rows: dict[str, DataFrame | None] = {}

    def __call__(self, rule: Rule) -> tuple[pa.Table, Any | None]:
        mapped = dqdl_rule(rule, self.settings)
        if mapped.dqdl is None:
            return self.session.query(rule.failing_sql), None
        if self._outcomes(rule.table)[mapped.dqdl]:
            return pa.table({}), None
        columns = list(self.tables[rule.table].columns)
        current = self.rows.get(rule.table)
        if rule.predicate and mapped.row_level and current is not None:
            from pyspark.sql import functions as sf

            fails = sf.array_contains(sf.col(FAILED), mapped.dqdl)
            failing = self.engine.to_arrow(current.where(fails).select(*columns))
            if failing.num_rows:
                kept = current.where(~fails).localCheckpoint()
                self.rows[rule.table] = kept
                return failing, kept.select(*columns)
        failing = self.session.query(rule.failing_sql)
        if rule.predicate:
            self.rows[rule.table] = None  # later rules read the SQL's kept rows
        elif failing.num_rows == 0:
            failing = pa.table({"dqdl": [mapped.dqdl], "outcome": ["Failed"]})
        return failing, None

    def _outcomes(self, table: str) -> dict[str, bool]:
        if table not in self.outcomes:
            self.outcomes[table] = self._evaluate(table)
        return self.outcomes[table]

    def _evaluate(self, table: str) -> dict[str, bool]:
        engine, api = self.engine, self.engine.glue_api
        mapped = [dqdl_rule(r, self.settings) for r in rules(set(self.tables), self.settings)]
        mapped = [m for m in mapped if m.table == table and m.dqdl is not None]
        references = {
            name: engine.dynamic_frame(self.tables[name], name)
            for m in mapped
            for name in m.references
        }
        results = api.EvaluateDataQuality().process_rows(
            frame=engine.dynamic_frame(self.tables[table], table),
            ruleset=ruleset(mapped),
            publishing_options={
                "dataQualityEvaluationContext": f"{self.namespace}_{table}",
                "enableDataQualityCloudWatchMetrics": api.on_aws,
                "enableDataQualityResultsPublishing": api.on_aws,
            },
            additional_options={"performanceTuning.caching": "CACHE_NOTHING"},
            additional_data_sources=references,
        )
        outcomes = api.SelectFromCollection.apply(dfc=results, key="ruleOutcomes").toDF()
        rows = api.SelectFromCollection.apply(dfc=results, key="rowLevelOutcomes").toDF()
        self.rows[table] = rows.localCheckpoint()
        verdicts = {str(r["Rule"]): r["Outcome"] == "Passed" for r in outcomes.collect()}
        logger.info(
            "Glue Data Quality on %s: %d of %d rules passed",
            table,
            sum(verdicts.values()),
            len(verdicts),
        )
        return verdicts
