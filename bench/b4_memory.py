"""B4: peak RSS of the standard pipeline at the largest scale against the Arrow size of its input.

The runs are B3's runs at its largest scale, each in a process of its own: the input is
generated first, then the peak-RSS window is reset (Linux ``clear_refs``), so the peak
covers the pipeline run only, with the interpreter, its libraries and the input itself
resident, as in a real run. Each stage's own peak is recorded too, which names the stage
that sets the peak.
"""

from __future__ import annotations

import statistics

from bench.measure import Figure, Goal, Sample
from bench.pipeline_run import ScaleResult

REMEDIES = {
    "transform": "the input closes stay resident while DuckDB's working memory for the "
    "quarter-end lookup, the P/E and the aggregates is allocated (the daily_closes sort is "
    "skipped when the source order is already the key order); streaming the closes per "
    "ticker batch into the lookup instead of holding the whole table would bound it.",
    "validate": "a row rule that fails re-queries its whole table into a filtered copy; "
    "filtering once per table, after all its rules, keeps one copy at most.",
    "load": "the load stage holds the lake writes and the database load together; any "
    "whole-table copy there (casts, CSV encoding, content hashing) must become per batch.",
    "extract": "the sources hold every parsed table at once; yielding closes per ticker "
    "file would bound it.",
}


def figure(largest: ScaleResult) -> Figure:
    """B4 from the standard pipeline's runs at the largest scale."""
    peaks = [float(r.peak_rss) for r in largest.runs]
    measured = Sample("peak RSS of the pipeline run", "bytes", peaks)
    baseline = Sample(
        "Arrow size of the input tables", "bytes", [float(largest.input_bytes)] * len(peaks)
    )
    stage_peaks = {
        name: statistics.median(r.stage_peak_rss.get(name, 0) for r in largest.runs)
        for name in largest.runs[0].stage_peak_rss
    }
    before = statistics.median(r.rss_before for r in largest.runs)
    result = Figure(
        id="B4",
        title="Memory: peak RSS of the standard pipeline",
        workload=(
            f"scale {largest.scale:g}: {largest.daily_rows:,} daily rows, "
            f"{largest.report_rows:,} quarterly reports, input "
            f"{largest.input_bytes / 2**20:,.1f} MiB in Arrow"
        ),
        measured=measured,
        baseline=baseline,
        ratio=measured.median / baseline.median,
        ratio_means="peak RSS / Arrow bytes of the input",
        goal=Goal("<=", 2.0),
        details={
            "rss_before_run_bytes": before,
            "peak_above_rss_before_over_input": (measured.median - before) / largest.input_bytes,
            "stage_peak_rss_bytes_median": stage_peaks,
        },
        notes=[
            f"Before the run the process held {before / 2**30:,.2f} GiB (interpreter, "
            "libraries and the input); the run added "
            f"{(measured.median - before) / 2**30:,.2f} GiB at its peak.",
            "Peak RSS by stage (median): "
            + ", ".join(f"{k} {v / 2**30:,.2f} GiB" for k, v in stage_peaks.items())
            + ".",
        ],
    )
    if result.met is False:
        worst = max(stage_peaks, key=stage_peaks.__getitem__)
        result.reason_unmet = (
            f"The peak is reached in the {worst} stage "
            f"({stage_peaks[worst] / 2**30:,.2f} GiB, "
            f"{stage_peaks[worst] / largest.input_bytes:.1f}× the input): "
            + REMEDIES.get(worst, "that stage holds several whole-table copies at once.")
        )
    return result
