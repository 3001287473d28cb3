"""Named fault points for crash tests: a run armed with ``ETL_FAULT_POINT`` kills itself
(SIGKILL, no cleanup) when it reaches that point. Armed once, at the composition root."""

from __future__ import annotations

import logging
import os
import signal

logger = logging.getLogger(__name__)

POINTS = (
    "during-staging",  # the lake has staged some tables, the database none
    "before-db-commit",  # every sink staged, nothing committed
    "after-db-commit",  # the database committed, the lake not yet
    "between-lake-tables",  # the database and one lake table committed
)

_armed: str | None = None


def arm(point: str | None) -> None:
    """Kill the process at ``point`` (None disarms)."""
    global _armed
    if point is not None and point not in POINTS:
        from etl_service.errors import ConfigError

        raise ConfigError(f"ETL_FAULT_POINT={point!r}: expected one of {', '.join(POINTS)}")
    _armed = point


def reach(point: str) -> None:
    """Die here if armed for ``point``."""
    if _armed == point:
        logger.warning("fault point %s reached: killing the process", point)
        os.kill(os.getpid(), signal.SIGKILL)
