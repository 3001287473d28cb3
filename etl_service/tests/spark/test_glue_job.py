"""The Glue job on local Spark (awsglue's local stand-in): one run of the script on the
snapshot gives the standard pipeline's curated tables, quarantine and data-quality results;
Glue Data Quality quarantines what the shared rules quarantine; bookmarks hand a run only
new files."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pyarrow as pa
import pytest
import sqlalchemy as sa

from etl_service.aws.glue import local
from etl_service.aws.glue.glue_job import GlueS3ETLPipeline
from etl_service.aws.glue.local_run import run_local
from etl_service.engines.glue import GlueEngine
from etl_service.pipelines.compose import build_lake
from etl_service.pipelines.glue_pipeline import GlueVerdicts
from etl_service.settings import QualitySettings, Settings, SparkSettings
from etl_service.src.adapters.archive import RawArchive
from etl_service.src.models.schemas import (
    COMPANIES,
    CURATED_TABLES,
    PRICES_PE,
    QUARTERLY_REPORTS,
    SUB_INDUSTRIES,
    TableSpec,
    Zone,
    arrow_schema,
)
from etl_service.src.transforms.quality import QualityOutcome, evaluate
from etl_service.src.transforms.sql_runner import sort_by_key
from etl_service.tests.pipelines.conftest import snapshot_settings
from etl_service.tests.spark.conftest import Stages, assert_same_table

if TYPE_CHECKING:
    from pyspark.sql import SparkSession

pytestmark = pytest.mark.spark


@pytest.fixture(scope="module")
def glue_run(
    spark: SparkSession, tmp_path_factory: pytest.TempPathFactory
) -> tuple[Settings, GlueS3ETLPipeline]:
    """One run of the job script on the snapshot, with one payload waiting in the raw zone."""
    settings = snapshot_settings(tmp_path_factory.mktemp("glue"))
    lake = build_lake(settings)
    RawArchive(lake.fs_path(Zone.RAW), lake.fs).put(
        "glue-test", b"{}", url="https://example.com/x", fetched_at=datetime.now(UTC)
    )
    return settings, run_local(settings, spark)


def test_the_job_curates_the_standard_pipelines_tables(
    glue_run: tuple[Settings, GlueS3ETLPipeline], standard_stages: Stages
) -> None:
    settings, job = glue_run
    assert job.report is not None
    assert (job.report.status, job.report.engine) == ("succeeded", "glue")
    lake = build_lake(settings)
    for spec in CURATED_TABLES:
        actual = sort_by_key(spec, lake.load(Zone.CURATED, spec.name).scan().to_arrow())
        assert_same_table(spec.name, standard_stages.curated.tables[spec.name], actual)
        assert job.report.rows[spec.name] == actual.num_rows


def test_the_job_quarantines_and_judges_as_the_standard_pipeline(
    glue_run: tuple[Settings, GlueS3ETLPipeline], standard_stages: Stages
) -> None:
    settings, job = glue_run
    assert job.report is not None
    database = sa.create_engine(settings.database_url_value)
    with database.connect() as conn:
        rows = conn.execute(sa.text("SELECT table_name, record_key, reason FROM quarantine"))
        quarantined = {tuple(row) for row in rows}
    database.dispose()
    expected = {(r.table, r.record_key, r.reason) for r in standard_stages.curated.rejected}
    assert quarantined == expected

    def verdicts(results: list[Any]) -> list[tuple[str, str, str, int, int]]:
        return [(r.rule, r.table, str(r.severity), r.failed, r.checked) for r in results]

    assert verdicts(job.report.data_quality) == verdicts(standard_stages.results)


def test_the_bookmarked_raw_read_finds_the_new_payload(
    glue_run: tuple[Settings, GlueS3ETLPipeline],
) -> None:
    settings, job = glue_run
    assert job.new_raw_payloads == {"glue-test": 1}
    bookmarks = json.loads(
        (settings.data_dir / "glue-temp/bookmarks/sp500-etl-job.json").read_text()
    )
    assert [Path(f).name.endswith(".meta.json") for f in bookmarks["raw_payloads"]] == [True]


def _table(spec: TableSpec, rows: list[dict[str, Any]]) -> pa.Table:
    return pa.Table.from_pylist(
        [{c: row.get(c) for c in spec.column_names} for row in rows], schema=arrow_schema(spec)
    )


def _report(cik: str, month: int, **values: Any) -> dict[str, Any]:
    end = date(2024, month, 28)
    return {
        "cik": cik,
        "fiscal_year": 2024,
        "fiscal_quarter": 1,
        "period_start": date(2024, month, 1),
        "period_end": end,
        "derived": False,
        **values,
    }


def _price(ticker: str, month: int, **values: Any) -> dict[str, Any]:
    return {"ticker": ticker, "period_end": date(2024, month, 28), **values}


def _outcome(session: Any, tables: dict[str, Any], **glue: Any) -> QualityOutcome:
    return evaluate(session, tables, QualitySettings(), **glue)


def test_glue_data_quality_quarantines_what_the_shared_rules_quarantine(
    spark: SparkSession,
) -> None:
    engine = GlueEngine(spark, SparkSettings())
    arrow = {
        "sub_industries": _table(SUB_INDUSTRIES, [{"sub_industry": "Oil", "sector": "Energy"}]),
        "companies": _table(
            COMPANIES,
            [
                {"ticker": "AAA", "name": "A", "sector": "Energy", "sub_industry": "Oil"},
                {"ticker": "BBB", "name": "B", "sector": "Energy", "sub_industry": "Gas"},
            ],
        ),
        "quarterly_reports": _table(
            QUARTERLY_REPORTS,
            [
                _report("1", 1, revenue=10, profit_margin=0.1),
                _report("1", 2, revenue=-5, profit_margin=0.1),
                _report("1", 3, revenue=10, profit_margin=5.0),
                _report("1", 4, revenue=-1, profit_margin=3.0),  # fails both: the first counts
                _report("1", 5, revenue=None, profit_margin=None),
            ],
        ),
        "prices_pe": _table(
            PRICES_PE,
            [
                _price("AAA", 1, closing_price=10.0, price_earnings_ratio=20.0),
                _price("AAA", 2, closing_price=0.0, price_earnings_ratio=20.0),
                _price("AAA", 3, closing_price=10.0, price_earnings_ratio=2000.0),
                _price("ZZZ", 4, closing_price=10.0, price_earnings_ratio=20.0),
                _price("ZZZ", 5, closing_price=10.0, price_earnings_ratio=1.0),
                _price("AAA", 6, closing_price=None, price_earnings_ratio=None),
            ],
        ),
    }
    tables = {name: engine.from_arrow(table) for name, table in arrow.items()}
    shared_session, glue_session = engine.session(), engine.session()
    shared = _outcome(shared_session, tables)
    glue = _outcome(
        glue_session,
        tables,
        failing_rows=lambda frames: GlueVerdicts(
            engine, glue_session, frames, QualitySettings(), "sp500"
        ),
    )

    def results(outcome: QualityOutcome) -> list[tuple[str, str, int, int]]:
        return [(r.rule, r.table, r.failed, r.checked) for r in outcome.results]

    assert results(glue) == results(shared)
    failed = {(rule, table) for rule, table, n, _ in results(glue) if n}
    assert failed == {
        ("constituent_count_between_495_and_510", "companies"),
        ("sub_industry_exists", "companies"),
        ("revenue_not_negative", "quarterly_reports"),
        ("profit_margin_between_-10_and_1", "quarterly_reports"),
        ("closing_price_positive", "prices_pe"),
        ("pe_between_3_and_1000", "prices_pe"),
        ("prices_pe_ticker_is_a_company", "prices_pe"),
    }

    def quarantined(outcome: QualityOutcome) -> list[tuple[str, str, str]]:
        return sorted((r.table, r.record_key, r.reason) for r in outcome.quarantined)

    assert quarantined(glue) == quarantined(shared)
    assert ("quarterly_reports", "1|2024-04-28", "data quality: revenue_not_negative") in (
        quarantined(glue)
    )
    for name in ("quarterly_reports", "prices_pe"):
        spec = {"quarterly_reports": QUARTERLY_REPORTS, "prices_pe": PRICES_PE}[name]
        kept = sort_by_key(spec, engine.to_arrow(glue.tables[name]))
        assert kept.equals(sort_by_key(spec, engine.to_arrow(shared.tables[name])))
    assert engine.num_rows(glue.tables["prices_pe"]) == 2
    shared_session.close()
    glue_session.close()


def test_bookmarks_hand_a_run_only_the_files_not_committed_before(
    spark: SparkSession, tmp_path: Path
) -> None:
    raw = tmp_path / "raw"
    raw.mkdir()
    (raw / "a.json").write_text('{"n": 1}')
    glue = local.GlueContext(spark)
    args = {"job_bookmark_option": "job-bookmark-enable", "TempDir": str(tmp_path / "temp")}

    def read() -> list[int]:
        frame = glue.create_dynamic_frame.from_options(
            connection_type="file",
            connection_options={"paths": [str(raw)], "recurse": True},
            format="json",
            transformation_ctx="raw",
        )
        return sorted(row["n"] for row in frame.toDF().collect())

    job = local.Job(glue)
    job.init("bookmarked", args)
    assert read() == [1]
    job.commit()
    (raw / "b.json").write_text('{"n": 2}')
    local.Job(glue).init("bookmarked", args)
    assert read() == [2]
    local.Job(glue).init("bookmarked", args)  # the run before did not commit
    assert read() == [2]
    local.Job(glue).init("bookmarked", {**args, "job_bookmark_option": "job-bookmark-disable"})
    assert read() == [1, 2]
