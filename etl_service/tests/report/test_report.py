"""``etl-service report``: the page is self-contained, and each chart has a PNG and the
values of the loaded tables."""

from __future__ import annotations

import json
import re
import sys
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa

from etl_service.cli import main
from etl_service.errors import EXIT_CODES
from etl_service.settings import Settings
from etl_service.src.db.engine import create_engine
from etl_service.tests.conftest import SnapshotRun
from etl_service.tests.report.conftest import assert_not_blank

pytestmark = pytest.mark.unit

CHARTS = [
    f"{level}_{metric}"
    for level in ("sector", "sub_industry")
    for metric in ("revenue", "profit_margin", "eps_diluted", "pe")
] + ["index_changes", "coverage", "data_quality"]


def _specs(report_dir: Path) -> dict[str, Any]:
    page = (report_dir / "report.html").read_text()
    found = re.search(
        r'<script type="application/json" id="report-specs">(.*?)</script>', page, re.S
    )
    assert found is not None
    specs: dict[str, Any] = json.loads(found.group(1))
    return specs


def _values(spec: dict[str, Any]) -> list[dict[str, Any]]:
    """Every data row of a (compound) Vega-Lite spec, inline or in its named datasets."""
    rows: list[dict[str, Any]] = []
    for part in [spec, *spec.get("vconcat", []), *spec.get("layer", [])]:
        data = part.get("data", {})
        rows += data.get("values", spec.get("datasets", {}).get(data.get("name"), []))
    return rows


def _scalar(loaded: Settings, sql: str) -> Any:
    with create_engine(loaded.database_url_value).connect() as conn:
        return conn.execute(sa.text(sql)).scalar_one()


def test_every_chart_has_a_png_and_the_page_loads_nothing(report_dir: Path) -> None:
    assert sorted(p.stem for p in report_dir.glob("*.png")) == sorted(CHARTS)
    for name in CHARTS:
        assert_not_blank((report_dir / f"{name}.png").read_bytes(), name)
    page = (report_dir / "report.html").read_text()
    assert list(_specs(report_dir)) == CHARTS
    assert "vegaEmbed" in page
    # Offline: no script, style or image comes from elsewhere (the browser test checks the
    # requests the page really makes). The scripts' text is left out: it is code.
    markup = re.sub(r"(<script[^>]*>).*?</script>", r"\1</script>", page, flags=re.S)
    assert markup.count("<script") == 3  # the libraries, the specs, the embedding
    assert not re.search(r"<(script|img|iframe)[^>]*\bsrc=", markup)
    assert not re.search(r"<link[^>]*href=\"(?!data:)", markup)


def test_the_sector_charts_show_means_medians_and_counts(
    loaded: Settings, report_dir: Path
) -> None:
    values = _values(_specs(report_dir)["sector_revenue"])
    it_q4 = {
        v["statistic"]: v
        for v in values
        if v["name"] == "Information Technology" and v["quarter_end"] == "2024-12-31"
    }
    where = "level = 'sector' AND name = 'Information Technology' AND quarter_end = '2024-12-31'"
    assert it_q4["mean"]["value"] == _scalar(
        loaded, f"SELECT avg_revenue FROM sector_aggregates WHERE {where}"
    )
    assert it_q4["median"]["value"] == _scalar(
        loaded, f"SELECT median_revenue FROM sector_aggregates WHERE {where}"
    )
    assert it_q4["mean"]["n"] == it_q4["median"]["n"] == 2
    eps = _values(_specs(report_dir)["sub_industry_eps_diluted"])
    assert {v["name"] for v in eps} == {
        "Semiconductors",
        "Technology Hardware, Storage & Peripherals",
    }


def test_changes_coverage_and_quality_charts_hold_the_tables_values(
    loaded: Settings, snapshot_run: SnapshotRun, report_dir: Path
) -> None:
    specs = _specs(report_dir)
    changes = {(v["year"], v["change"]): v["companies"] for v in _values(specs["index_changes"])}
    added_2020 = _scalar(
        loaded,
        "SELECT count(*) FROM index_changes WHERE change_date BETWEEN '2020-01-01' AND "
        "'2020-12-31' AND coalesce(added_ticker, added_name) IS NOT NULL",
    )
    assert changes[("2020", "added")] == added_2020 > 0
    coverage = {(v["quarter_end"], v["series"]): v["companies"] for v in _values(specs["coverage"])}
    assert coverage[("2024-12-31", "with financials")] == 2  # Apple and NVIDIA
    assert 495 <= coverage[("2024-12-31", "members")] <= 510
    run = snapshot_run.summary["run_id"][:6]
    bars = {
        v["outcome"]: v
        for v in _values(specs["data_quality"])
        if "outcome" in v and v["run"].endswith(run)
    }
    assert bars["passed"]["rules"] == len(snapshot_run.summary["data_quality"]) > 0
    assert bars["failed (critical)"]["rules"] == bars["failed (warning)"]["rules"] == 0
    assert bars["passed"]["status"] == "succeeded"


def test_without_the_report_extra_it_names_the_install(
    loaded: Settings,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    monkeypatch.setenv("ETL_DATABASE_URL", loaded.database_url_value)
    monkeypatch.setitem(sys.modules, "vl_convert", None)  # as if not installed
    assert main(["report", "--out", str(tmp_path)]) == EXIT_CODES["missing extra"]
    assert "pip install 'etl-service[report]'" in capsys.readouterr().err
    assert list(tmp_path.iterdir()) == []
