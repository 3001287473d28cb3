"""Writing ``results.json`` (everything measured) and ``RESULTS.md`` (the readable summary)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from bench.measure import Figure, figure_family, figure_number


def _number(value: float, unit: str) -> str:
    if unit == "bytes":
        return f"{value / 2**30:,.2f} GiB" if value >= 2**30 else f"{value / 2**20:,.1f} MiB"
    if unit == "rows/s":
        return f"{value:,.0f} rows/s"
    if unit == "MB/s":
        return f"{value:,.1f} MB/s"
    if unit == "s" and value < 10:
        return f"{value:.2f} s"
    return f"{value:,.1f} {unit}"


def spread(sample: dict[str, Any]) -> str:
    """``median (min–max)`` of a sample, in its unit."""
    unit = sample["unit"]
    text = _number(sample["median"], unit)
    if sample["runs"] > 1:
        text += f" ({_number(sample['min'], unit)} – {_number(sample['max'], unit)})"
    return text


def _met(value: bool | None) -> str:
    return "report only" if value is None else ("**met**" if value else "**not met**")


def _scale_table(scales: list[dict[str, Any]]) -> list[str]:
    if not scales:
        return []
    stages = list(scales[0]["stage_seconds_median"])
    lines = [
        "",
        "| scale | daily rows | seconds per run | s per M rows (median) | "
        + " | ".join(f"{s} (median s)" for s in stages)
        + " |",
        "|---" * (4 + len(stages)) + "|",
    ]
    for row in scales:
        runs = ", ".join(f"{s:.1f}" for s in row["seconds"])
        per = row["seconds_per_million_rows"]["median"]
        stage = " | ".join(f"{row['stage_seconds_median'].get(s, 0):.2f}" for s in stages)
        lines.append(f"| {row['scale']:g} | {row['daily_rows']:,} | {runs} | {per:.2f} | {stage} |")
    return lines


def results_document(
    figures: list[Figure], machine: dict[str, Any], run: dict[str, Any]
) -> dict[str, Any]:
    """The content of ``results.json``."""
    return {"run": run, "machine": machine, "figures": [f.as_dict() for f in figures]}


def markdown(document: dict[str, Any]) -> str:
    """RESULTS.md from the results document."""
    run, machine, figures = document["run"], document["machine"], document["figures"]
    packages = ", ".join(f"{k} {v}" for k, v in machine["packages"].items() if v)
    lines = [
        "# Benchmark results",
        "",
        f"Written by `make bench` (`python -m bench --profile {run['profile']}`) on "
        f"{run['started_at']}; the whole run took {run['wall_seconds']:,.0f} s.",
        "",
        f"Machine: {machine['cpu']}, {machine['cores']} cores, {machine['memory_gib']} GiB, "
        f"load average (1, 5, 15 min) {machine['load_average_at_start']} at the start and "
        f"{run.get('load_average_at_end')} at the end; Python "
        f"{machine['python']}; {machine['postgresql'] or 'no PostgreSQL'}; "
        f"{machine['java'] or 'no Java'}; {packages}.",
        "",
        "Every figure is a ratio against a baseline measured in the same run on the same "
        "data (absolute times drift on a shared machine; ratios much less). Values are the "
        f"median of {run['runs']} run(s) with min – max; `results.json` has every run.",
        "",
        "| figure | workload | measured | baseline | ratio | goal | |",
        "|---|---|---|---|---|---|---|",
    ]
    for f in figures:
        lines.append(
            f"| {f['id']} {f['title']} | {f['workload']} | {f['measured']['name']}: "
            f"{spread(f['measured'])} | {f['baseline']['name']}: {spread(f['baseline'])} | "
            f"{f['ratio']:.2f} | {f['goal_text']} | {_met(f['met'])} |"
        )
    lines += ["", "Ratios: " + "; ".join(f"{f['id']}: {f['ratio_means']}" for f in figures)]
    compared = [f for f in figures if f["comparisons"]]
    if compared:
        lines += [
            "",
            "## Comparisons on the same rows",
            "",
            "| figure | design | median (min – max) | ratio to the baseline | note |",
            "|---|---|---|---|---|",
        ]
        for f in compared:
            rows = [{**f["measured"], "ratio": f["ratio"], "note": ""}]
            rows += [
                {**c, "note": "; ".join(n for n in (c["comparison_note"], c["note"]) if n)}
                for c in f["comparisons"]
            ]
            lines += [
                f"| {f['id']} | {r['name']} | {spread(r)} | {r['ratio']:.3f} | {r['note']} |"
                for r in rows
            ]
    lines += ["", "## Figures", ""]
    for f in figures:
        lines += [f"### {f['id']}: {f['title']}", ""]
        lines += [f"- {note}" for note in f["notes"]]
        lines += _scale_table(f["details"].get("scales", []))
        if f["reason_unmet"]:
            lines.append(
                f"- **Why the goal is not met, and what it would take:** {f['reason_unmet']}"
            )
        lines.append("")
    unmet = [f for f in figures if f["met"] is False]
    lines += ["## Goals", ""]
    met = [f["id"] for f in figures if f["met"]]
    lines.append(
        f"Met: {', '.join(met) or 'none'}. Not met: {', '.join(f['id'] for f in unmet) or 'none'}."
    )
    if unmet:
        lines += ["", "## What the unmet goals would take", ""]
        lines += [f"- {f['id']} ({f['goal_text']}): {f['reason_unmet']}" for f in unmet]
    if run.get("scaled_down"):
        lines += ["", "## What was scaled down, and why", ""]
        lines += [f"- {item}" for item in run["scaled_down"]]
    lines += [
        "",
        "## How it was measured",
        "",
        "- Data: `bench/synthetic.py`, seeded; scale factor s = 500·s companies × 10,000 "
        "trading days of closes and 158 fiscal quarters each; `bench/companyfacts.py` writes "
        "companyfacts files shaped like the real ones.",
        "- PostgreSQL: the system PostgreSQL started by "
        "`etl_service.tests.support.services.postgres_server()` (fsync and synchronous "
        "commit off, as in the tests), one fresh database per figure or pipeline run.",
        "- Pipeline runs (B3, B4): each scale in a process of its own (full profile); each run "
        "loads a fresh database and lake; the peak RSS window is reset just before the run.",
        "- `python -m bench --profile smoke` runs everything at a tiny scale; the smoke test "
        "`etl_service/tests/bench/test_bench_smoke.py` does so in `make test`.",
        "",
    ]
    return "\n".join(lines)


def write(document: dict[str, Any], folder: Path) -> tuple[Path, Path]:
    """Write ``results.json`` and ``RESULTS.md`` into ``folder``."""
    folder.mkdir(parents=True, exist_ok=True)
    results, summary = folder / "results.json", folder / "RESULTS.md"
    results.write_text(json.dumps(document, indent=1, default=str) + "\n")
    summary.write_text(markdown(document))
    return results, summary


def add_missing(
    existing: dict[str, Any], extra: dict[str, Any], replace: bool = False
) -> dict[str, Any]:
    """``existing`` with the figures of ``extra`` it lacks (e.g. B3-spark when the full run's
    budget left Spark no time), each said to come from that separate run; with ``replace``,
    the figures it has are replaced by ``extra``'s too."""
    have = {f["id"] for f in existing["figures"]}
    added = [f for f in extra["figures"] if replace or f["id"] not in have]
    replaced = {f["id"] for f in added}
    kept = [f for f in existing["figures"] if f["id"] not in replaced]
    run = dict(existing["run"])
    prefixes = tuple(f"{figure_family(f['id'])} Spark" for f in added if f["id"].endswith("-spark"))
    separate = tuple(f"{f['id']}: measured in a separate run" for f in added)
    notes = [
        n
        for n in run["scaled_down"]
        if not (prefixes and n.startswith(prefixes)) and not n.startswith(separate)
    ]
    notes += [
        f"{f['id']}: measured in a separate run (profile {extra['run']['profile']}, started "
        f"{extra['run']['started_at']}, {extra['run']['wall_seconds']:.0f} s) with its own "
        "baseline from that run"
        for f in added
    ]
    run["scaled_down"] = notes
    figures = sorted([*kept, *added], key=lambda f: (figure_number(f["id"]), f["id"]))
    return {**existing, "run": run, "figures": figures}
