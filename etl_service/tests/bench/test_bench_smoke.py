"""Every benchmark at a tiny scale, untimed: the figures keep their shape and their ratios."""

from __future__ import annotations

import dataclasses
import json
import math
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest

from bench import b7_live_fetch, b9_incremental, report
from bench.__main__ import run_bench
from bench.companyfacts import companyfacts_document
from bench.config import SMOKE
from bench.synthetic import reports_only, universe
from etl_service.src.adapters.sec.quarterly import extract_quarterly
from etl_service.src.models.schemas import COMPANIES, QUARTERLY_REPORTS, arrow_schema
from etl_service.tests.support.services import PostgresServer

if TYPE_CHECKING:
    from pyspark.sql import SparkSession

GOALS = {
    "B1a": 0.7,
    "B1b": 0.9,
    "B1c": 0.8,
    "B2": 1.2,
    "B3": 1.3,
    "B4": 2.0,
    "B5": 0.6,
    "B6": 1.6,
    "B7": 0.9,
    "B8": 0.6,
    "B9": 1.1,
}


def _check_sample(sample: dict[str, Any]) -> None:
    assert sample["runs"] == len(sample["values"]) >= 1
    assert all(math.isfinite(v) and v > 0 for v in sample["values"])
    assert sample["min"] <= sample["median"] <= sample["max"]


def _check_figure(figure: dict[str, Any]) -> None:
    _check_sample(figure["measured"])
    _check_sample(figure["baseline"])
    assert figure["ratio"] == pytest.approx(
        figure["measured"]["median"] / figure["baseline"]["median"]
    )
    goal = GOALS.get(figure["id"])
    if goal is None:
        assert figure["goal"] is None
        assert figure["met"] is None
    else:
        assert figure["goal"]["value"] == goal
        meets = figure["ratio"] >= goal if figure["goal"]["op"] == ">=" else figure["ratio"] <= goal
        assert figure["met"] is meets
        assert bool(figure["reason_unmet"]) is (not meets)
    for comparison in figure["comparisons"]:
        _check_sample(comparison)
        assert comparison["ratio"] == pytest.approx(
            comparison["median"] / figure["baseline"]["median"]
        )


@pytest.mark.unit
def test_generator_is_deterministic_and_canonical() -> None:
    first, again = universe(0.02, trading_days=300), universe(0.02, trading_days=300)
    assert first.closes.equals(again.closes)
    assert first.quarterly_reports.equals(again.quarterly_reports)
    assert first.companies.schema == arrow_schema(COMPANIES)
    assert first.quarterly_reports.schema == arrow_schema(QUARTERLY_REPORTS)
    assert (first.companies.num_rows, first.closes.num_rows) == (10, 3_000)
    assert first.quarterly_reports.num_rows == 10 * 5
    assert reports_only(1_234).num_rows == 1_234
    closes = first.closes.column("close").to_pylist()
    assert min(closes) >= 5.0
    assert max(closes) <= 2000.0


@pytest.mark.unit
def test_companyfacts_files_extract_like_real_ones() -> None:
    document = companyfacts_document(320193)
    assert set(document) == {"cik", "entityName", "facts"}
    assert {"dei", "us-gaap"} <= set(document["facts"])
    body = json.dumps(document, separators=(",", ":")).encode()
    assert 3_000_000 < len(body) < 5_000_000
    extracted = extract_quarterly(body, "synthetic")
    rows = extracted.table.to_pylist()
    assert extracted.rejected == []
    assert len(rows) >= 4 * (2025 - 2009 + 1)
    q4 = [r for r in rows if r["fiscal_quarter"] == 4 and r["fiscal_year"] == 2020]
    assert q4
    assert q4[0]["form"] == "10-K"
    assert q4[0]["derivation"].startswith("revenue=FY-9M")


@pytest.mark.unit
def test_added_figures_are_listed_by_number() -> None:
    def doc(*ids: str) -> dict[str, Any]:
        run = {"scaled_down": [], "profile": "full", "started_at": "t", "wall_seconds": 1.0}
        return {"run": run, "figures": [{"id": i} for i in ids]}

    merged = report.add_missing(doc("B1a", "B3", "B10"), doc("B3-spark", "B7", "B9", "B10"))
    assert [f["id"] for f in merged["figures"]] == ["B1a", "B3", "B3-spark", "B7", "B9", "B10"]
    assert len(merged["run"]["scaled_down"]) == 3  # each added figure says where it is from
    newer = doc("B3")
    newer["figures"][0]["ratio"] = 2.0
    replaced = report.add_missing(merged, newer, replace=True)
    assert [f["id"] for f in replaced["figures"]] == [f["id"] for f in merged["figures"]]
    assert replaced["figures"][1]["ratio"] == 2.0
    assert len(replaced["run"]["scaled_down"]) == 4
    assert report.add_missing(merged, newer)["figures"] == merged["figures"]


@pytest.mark.unit
def test_live_figures_count_their_requests() -> None:
    b7 = b7_live_fetch.run(dataclasses.replace(SMOKE, b7_companies=4))
    _check_figure(b7.as_dict())
    assert b7.details["requests_last_run"] == 4  # one per company: no 429, no retry
    assert b7.details["refused_429_last_run"] == 0
    assert b7.details["quarterly_rows"] > 4 * 60
    b9 = b9_incremental.run(SMOKE)
    _check_figure(b9.as_dict())
    assert (b9.details["companies"], b9.details["changed"]) == (SMOKE.b9_companies, 1)
    assert b9.ratio == 1.0  # the changed company and one index per business day, no more
    assert b9.measured.values == [1.0 + b9.details["index_days"]]


@pytest.mark.postgres
@pytest.mark.snowflake
def test_every_figure_runs_at_a_tiny_scale(
    postgres: PostgresServer, fakesnow_conn_kwargs: dict[str, Any], tmp_path: Path
) -> None:
    profile = dataclasses.replace(SMOKE, b3_spark_scales=())
    document = run_bench(profile, admin_url=postgres.url(), fakesnow=fakesnow_conn_kwargs)
    ids = [f["id"] for f in document["figures"]]
    assert ids == ["B1a", "B1b", "B1c", "B2", "B3", "B4", "B5", "B6", "B7", "B8", "B9", "B10"]
    for figure in document["figures"]:
        _check_figure(figure)
    by_id = {f["id"]: f for f in document["figures"]}
    assert [c["name"].split(":")[0].split(" ")[0] for c in by_id["B1a"]["comparisons"]] == [
        "legacy",
        "dlt",
    ]
    agreement = by_id["B2"]["details"]["agreement"]
    assert agreement["close_mismatches"] == agreement["ttm_mismatches"] == 0
    assert agreement["rows_compared"] == agreement["standard_rows"] > 0
    assert by_id["B6"]["details"]["slowest_stage"] in {"extract", "transform", "validate", "load"}
    hot = by_id["B6"]["details"]["profiled_hot_functions"]
    assert hot["outermost"]
    assert hot["own_time"]
    b8 = by_id["B8"]["details"]
    assert b8["files"] >= 1
    assert b8["quarterly_rows"] > 60 * b8["files"]  # every company's quarters, none lost
    b10 = by_id["B10"]
    assert b10["details"] == {"rows": SMOKE.b10_rows, "files": 1}
    assert [c["name"] for c in b10["comparisons"]] == ["export again, same rows"]
    assert 0 < b10["ratio"] < 1  # the export does the COPY and more
    assert document["machine"]["postgresql"].startswith("PostgreSQL")
    results, summary = report.write(document, tmp_path)
    assert json.loads(results.read_text())["figures"][0]["id"] == "B1a"
    text = summary.read_text()
    assert all(f"| {i} " in text for i in ids)


@pytest.mark.postgres
@pytest.mark.spark
def test_spark_scale_figure_runs_at_a_tiny_scale(
    postgres: PostgresServer, spark: SparkSession
) -> None:
    profile = dataclasses.replace(SMOKE, b3_scales=(0.02,), b3_spark_scales=(0.02,))
    document = run_bench(profile, only=["B3"], admin_url=postgres.url(), spark=spark)
    figures = {f["id"]: f for f in document["figures"]}
    assert set(figures) == {"B3", "B3-spark"}
    _check_figure(figures["B3-spark"])
    spark_scales = figures["B3-spark"]["details"]["scales"]
    assert [s["daily_rows"] for s in spark_scales] == [10 * SMOKE.b3_days]
    assert any("crossover" in note for note in figures["B3-spark"]["notes"])
