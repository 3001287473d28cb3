"""Data-quality check results."""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any


class Severity(StrEnum):
    """What a failing check does: abort the load, or only get recorded."""

    CRITICAL = "critical"
    WARNING = "warning"


@dataclass(frozen=True)
class CheckResult:
    """The outcome of one data-quality rule on one table."""

    rule: str
    table: str
    severity: Severity
    failed: int
    checked: int
    samples: list[dict[str, Any]] = field(default_factory=list)

    @property
    def passed(self) -> bool:
        return self.failed == 0

    def as_dict(self) -> dict[str, Any]:
        return {
            "rule": self.rule,
            "table": self.table,
            "severity": str(self.severity),
            "failed": self.failed,
            "checked": self.checked,
            "samples": self.samples[:5],
        }
