"""The report in a real headless Chromium: it loads offline without a console error, and
every chart renders."""

from __future__ import annotations

from pathlib import Path

import pytest

from etl_service.tests.conftest import require
from etl_service.tests.report.conftest import assert_not_blank
from etl_service.tests.report.test_report import CHARTS
from etl_service.tests.support.browser import chromium_binary, open_page

pytestmark = pytest.mark.browser


def test_the_page_renders_every_chart_offline_without_errors(report_dir: Path) -> None:
    require(chromium_binary() is not None, "Debian's chromium not installed")
    page_url = (report_dir / "report.html").as_uri()
    with open_page(page_url) as page:
        views = page.evaluate("window.reportCharts.then(views => views.length)", timeout_s=60)
        assert views == len(CHARTS)
        rendered = page.evaluate(
            "Object.fromEntries(Array.from(document.querySelectorAll('.chart'), chart => "
            "[chart.id.slice(6), chart.querySelectorAll('svg g.role-mark > *').length]))"
        )
        assert list(rendered) == CHARTS
        for name, marks in rendered.items():
            assert marks > 0, f"{name}: nothing drawn"
            assert_not_blank(page.screenshot(f"#chart-{name}"), name)
        assert page.errors == []
        assert page.requests == [page_url]  # the page alone: nothing fetched, offline
    for name in CHARTS:
        assert (report_dir / f"{name}.png").is_file()
