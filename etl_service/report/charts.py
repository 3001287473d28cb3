"""The report's charts as Vega-Lite specifications, built with Altair from query rows.

Each function takes the rows a query in ``src/db`` returned and gives one chart (a
compound chart counts as one: it is one PNG and one embedded view on the page).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import altair as alt

Row = dict[str, Any]

WIDTH = 640
STATISTICS = ("mean", "median")


@dataclass(frozen=True)
class Metric:
    """A metric of ``sector_aggregates`` as the report shows it."""

    column: str  # the stem of its avg_/median_/n_ columns
    label: str
    axis_format: str  # a d3-format string


REPORT_METRICS: tuple[Metric, ...] = (
    Metric("revenue", "Revenue (USD)", "$,.3s"),
    Metric("profit_margin", "Net margin", ".1%"),
    Metric("eps_diluted", "Diluted EPS (USD)", "$,.2f"),
    Metric("pe", "P/E", ",.1f"),
)


def _long(rows: Sequence[Row], metric: Metric) -> list[Row]:
    """One row per group, quarter and statistic: its value and the companies it is over."""
    return [
        {
            "name": row["name"],
            "quarter_end": row["quarter_end"].isoformat(),
            "statistic": statistic,
            "value": row[f"{'avg' if statistic == 'mean' else statistic}_{metric.column}"],
            "n": row[f"n_{metric.column}"],
        }
        for row in rows
        for statistic in STATISTICS
        if row[f"n_{metric.column}"]
    ]


# Counts are whole: no label between integers (Vega still puts a tick at 0.5 when the top is 1).
COUNT_AXIS = alt.Axis(format="d", tickMinStep=1, labelExpr="datum.value % 1 ? '' : datum.label")


def _tooltip(metric: Metric, group: str) -> list[alt.Tooltip]:
    return [
        alt.Tooltip("name:N", title=group),
        alt.Tooltip("quarter_end:T", title="quarter", format="%Y Q%q"),
        alt.Tooltip("statistic:N"),
        alt.Tooltip("value:Q", title=metric.label, format=metric.axis_format),
        alt.Tooltip("n:Q", title="companies"),
    ]


def sector_metric(rows: Sequence[Row], metric: Metric) -> alt.VConcatChart:
    """Every sector's mean (solid) and median (dashed) per quarter, above their counts;
    clicking a sector in the legend highlights it."""
    data = alt.InlineData(values=_long(rows, metric))
    pick = alt.selection_point(fields=["name"], bind="legend")
    color = alt.Color("name:N", title="sector", scale=alt.Scale(scheme="tableau20"))
    x = alt.X("quarter_end:T", title=None)
    lines = (
        alt.Chart(data)
        .mark_line(point=True)
        .encode(
            x=x,
            y=alt.Y("value:Q", title=metric.label, axis=alt.Axis(format=metric.axis_format)),
            color=color,
            strokeDash=alt.StrokeDash("statistic:N", sort=list(STATISTICS)),
            opacity=alt.condition(pick, alt.value(1.0), alt.value(0.15)),
            tooltip=_tooltip(metric, "sector"),
        )
        .add_params(pick)
        .properties(width=WIDTH, height=260)
    )
    counts = (
        alt.Chart(data)
        .transform_filter(alt.datum.statistic == "mean")
        .mark_bar()
        .encode(
            x=x,
            y=alt.Y("n:Q", title="companies", axis=COUNT_AXIS),
            color=color,
            opacity=alt.condition(pick, alt.value(1.0), alt.value(0.15)),
            tooltip=_tooltip(metric, "sector"),
        )
        .properties(width=WIDTH, height=90)
    )
    return alt.vconcat(lines, counts).properties(title=f"{metric.label} by sector")


def sub_industry_metric(rows: Sequence[Row], metric: Metric) -> alt.VConcatChart:
    """One sub-industry at a time (a drop-down picks it): mean and median per quarter above
    the counts; the default is the sub-industry with the most companies reporting."""
    values = _long(rows, metric)
    names = sorted({v["name"] for v in values})
    default = max(names, key=lambda n: sum(v["n"] for v in values if v["name"] == n), default="")
    pick = alt.param(
        name=f"sub_industry_{metric.column}",
        value=default,
        bind=alt.binding_select(options=names or [""], name="Sub-industry "),
    )
    data = alt.InlineData(values=values)
    x = alt.X("quarter_end:T", title=None)
    lines = (
        alt.Chart(data)
        .transform_filter(alt.datum.name == pick)
        .mark_line(point=True)
        .encode(
            x=x,
            y=alt.Y("value:Q", title=metric.label, axis=alt.Axis(format=metric.axis_format)),
            color=alt.Color("statistic:N", sort=list(STATISTICS)),
            strokeDash=alt.StrokeDash("statistic:N", sort=list(STATISTICS)),
            tooltip=_tooltip(metric, "sub-industry"),
        )
        .properties(width=WIDTH, height=240)
    )
    counts = (
        alt.Chart(data)
        .transform_filter((alt.datum.name == pick) & (alt.datum.statistic == "mean"))
        .mark_bar(color="#888")
        .encode(
            x=x,
            y=alt.Y("n:Q", title="companies", axis=COUNT_AXIS),
            tooltip=_tooltip(metric, "sub-industry"),
        )
        .properties(width=WIDTH, height=80)
    )
    title = alt.TitleParams(alt.ExprRef(f"'{metric.label} by sub-industry: ' + {pick.name}"))
    return alt.vconcat(lines, counts).add_params(pick).properties(title=title)


def index_changes(rows: Sequence[Row]) -> alt.Chart:
    """Additions to and removals from the index per year, side by side."""
    values = [
        {"year": str(row["year"]), "change": change, "companies": row[column]}
        for row in rows
        for change, column in (("added", "additions"), ("removed", "removals"))
    ]
    chart: alt.Chart = (
        alt.Chart(alt.InlineData(values=values), title="Index additions and removals per year")
        .mark_bar()
        .encode(
            x=alt.X("year:O", title=None),
            xOffset=alt.XOffset("change:N"),
            y=alt.Y("companies:Q", title="companies"),
            color=alt.Color(
                "change:N",
                scale=alt.Scale(domain=["added", "removed"], range=["#4c78a8", "#e45756"]),
            ),
            tooltip=["year:O", "change:N", "companies:Q"],
        )
        .properties(width=WIDTH, height=260)
    )
    return chart


def coverage(rows: Sequence[Row]) -> alt.Chart:
    """Per quarter: the index members on its last day, and how many of them have financials."""
    values = [
        {
            "quarter_end": row["quarter_end"].isoformat(),
            "series": series,
            "companies": row[column],
            "share": row["with_financials"] / row["members"] if row["members"] else None,
        }
        for row in rows
        for series, column in (("members", "members"), ("with financials", "with_financials"))
    ]
    chart: alt.Chart = (
        alt.Chart(
            alt.InlineData(values=values), title="Coverage: members with financials per quarter"
        )
        .mark_line(point=True)
        .encode(
            x=alt.X("quarter_end:T", title=None),
            y=alt.Y("companies:Q", title="companies"),
            color=alt.Color("series:N", title=None),
            tooltip=[
                alt.Tooltip("quarter_end:T", title="quarter", format="%Y Q%q"),
                "series:N",
                "companies:Q",
                alt.Tooltip("share:Q", title="with financials", format=".1%"),
            ],
        )
        .properties(width=WIDTH, height=260)
    )
    return chart


QUALITY_OUTCOMES = {
    "passed": "#54a24b",
    "failed (warning)": "#f58518",
    "failed (critical)": "#e45756",
}


def data_quality(runs: Sequence[Row]) -> alt.LayerChart:
    """The data-quality rules of the latest runs (oldest left): passed, failed as warnings,
    failed as critical; the run's status above each bar."""
    values, labels = [], []
    for run in reversed(runs):
        label = f"{run['started_at']:%Y-%m-%d %H:%M} {run['run_id'][:6]}"
        labels.append(
            {
                "run": label,
                "status": run["status"],
                "rules": run["rules_passed"] + run["rules_failed"],
            }
        )
        counts = {
            "passed": run["rules_passed"],
            "failed (warning)": run["rules_failed"] - run["critical_failed"],
            "failed (critical)": run["critical_failed"],
        }
        values += [
            {
                "run": label,
                "outcome": outcome,
                "rules": count,
                "status": run["status"],
                "warnings": len(run["warnings"]),
                "error": run["error"] or "",
            }
            for outcome, count in counts.items()
        ]
    x = alt.X("run:N", title=None, sort=None, axis=alt.Axis(labelAngle=-30))
    bars = (
        alt.Chart(alt.InlineData(values=values))
        .mark_bar()
        .encode(
            x=x,
            y=alt.Y("rules:Q", title="data-quality rules"),
            color=alt.Color(
                "outcome:N",
                sort=list(QUALITY_OUTCOMES),
                scale=alt.Scale(
                    domain=list(QUALITY_OUTCOMES), range=list(QUALITY_OUTCOMES.values())
                ),
            ),
            tooltip=["run:N", "status:N", "outcome:N", "rules:Q", "warnings:Q", "error:N"],
        )
    )
    status = (
        alt.Chart(alt.InlineData(values=labels))
        .mark_text(dy=-8)
        .encode(x=x, y=alt.Y("rules:Q"), text="status:N")
    )
    return alt.LayerChart(
        layer=[bars, status], title="Data quality of the latest runs", width=WIDTH, height=260
    )
