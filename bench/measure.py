"""Samples of repeated measurements, the figures built from them, and peak-RSS probes."""

from __future__ import annotations

import gc
import re
import statistics
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

_STATUS = Path("/proc/self/status")
_CLEAR_REFS = Path("/proc/self/clear_refs")


@dataclass
class Sample:
    """Repeated measurements of one thing, in one unit (seconds, bytes, ...)."""

    name: str
    unit: str
    values: list[float]
    note: str = ""

    @property
    def median(self) -> float:
        return float(statistics.median(self.values))

    @property
    def low(self) -> float:
        return min(self.values)

    @property
    def high(self) -> float:
        return max(self.values)

    def as_dict(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "unit": self.unit,
            "runs": len(self.values),
            "median": self.median,
            "min": self.low,
            "max": self.high,
            "values": self.values,
            "note": self.note,
        }


@dataclass(frozen=True)
class Goal:
    """``ratio op value``, e.g. ratio >= 0.7."""

    op: str
    value: float

    def met(self, ratio: float) -> bool:
        return ratio >= self.value if self.op == ">=" else ratio <= self.value

    def __str__(self) -> str:
        return f"{'≥' if self.op == '>=' else '≤'} {self.value:g}"


@dataclass
class Comparison:
    """A peer or an older design measured on the same data, with its ratio to the baseline."""

    sample: Sample
    ratio: float
    note: str = ""


@dataclass
class Figure:
    """One benchmark figure: the measured thing, its baseline, their ratio and the goal."""

    id: str
    title: str
    workload: str
    measured: Sample
    baseline: Sample
    ratio: float
    ratio_means: str
    goal: Goal | None
    comparisons: list[Comparison] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    details: dict[str, Any] = field(default_factory=dict)
    reason_unmet: str = ""

    @property
    def met(self) -> bool | None:
        return None if self.goal is None else self.goal.met(self.ratio)

    def as_dict(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "title": self.title,
            "workload": self.workload,
            "measured": self.measured.as_dict(),
            "baseline": self.baseline.as_dict(),
            "ratio": self.ratio,
            "ratio_means": self.ratio_means,
            "goal": None if self.goal is None else asdict(self.goal),
            "goal_text": "report" if self.goal is None else f"ratio {self.goal}",
            "met": self.met,
            "comparisons": [
                {**c.sample.as_dict(), "ratio": c.ratio, "comparison_note": c.note}
                for c in self.comparisons
            ],
            "notes": self.notes,
            "details": self.details,
            "reason_unmet": self.reason_unmet if self.met is False else "",
        }


def figure_family(figure_id: str) -> str:
    """``B1`` of ``B1a``, ``B10`` of ``B10``, ``B3`` of ``B3-spark``."""
    found = re.match(r"B\d+", figure_id)
    if found is None:
        raise ValueError(f"not a figure id: {figure_id!r}")
    return found.group()


def figure_number(figure_id: str) -> int:
    """10 of ``B10``: figures are listed by number, a variant after its figure."""
    return int(figure_family(figure_id)[1:])


def timed(fn: Callable[[], object]) -> float:
    """Seconds ``fn()`` takes on the wall clock (after a garbage collection outside the timing)."""
    gc.collect()
    start = time.perf_counter()
    fn()
    return time.perf_counter() - start


def reset_peak_rss(collect: bool = True) -> None:
    """Start a new peak-RSS window for this process (Linux ``clear_refs`` 5)."""
    if collect:
        gc.collect()
    _CLEAR_REFS.write_text("5")


def peak_rss_bytes() -> int:
    """The peak resident set size of this process since the last reset (VmHWM)."""
    found = re.search(r"VmHWM:\s+(\d+) kB", _STATUS.read_text())
    if found is None:
        raise RuntimeError("no VmHWM in /proc/self/status")
    return int(found.group(1)) * 1024


def rss_bytes() -> int:
    """The current resident set size of this process (VmRSS)."""
    found = re.search(r"VmRSS:\s+(\d+) kB", _STATUS.read_text())
    if found is None:
        raise RuntimeError("no VmRSS in /proc/self/status")
    return int(found.group(1)) * 1024
