"""What a sink is, and how a run writes to all of its sinks or to none.

A sink is two-phase. ``stage`` writes everything it can without making it visible (lake
files no Iceberg snapshot references yet, database rows in an open transaction) and returns a
``Staged`` handle; ``Staged.commit`` makes it visible, ``Staged.discard`` removes it.

``write_all`` stages the sinks in their configured order, then commits them in the reverse
order: the sink staged last commits first. The database is configured last, so its open
transaction lasts only while nothing slow happens, and it is the first to commit: it is
the system of record, and once it has committed the run has happened. The lake then
commits each table, one atomic Iceberg commit each. What the lake will commit is written in
the database's own transaction (``Journal``), so if the process dies in between, the next
run, or ``etl-service recover``, rolls the lake forward to the committed database; a run
whose database load never committed leaves only staged files, which recovery removes. A
failure before the first commit discards
every staged sink, so nothing is visible anywhere; a SIGTERM during the commits waits until
they are done.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Protocol, runtime_checkable

import pyarrow as pa

from etl_service import faults
from etl_service.errors import LoadError
from etl_service.shutdown import sigterm_deferred

logger = logging.getLogger(__name__)


@dataclass
class RunOutputs:
    """What a run hands its sinks.

    ``curated`` holds the curated tables as frames of the run's engine, in their canonical
    schemas; ``processed`` the processed zone's source tables (Arrow, as extracted);
    ``quarantine`` the run's rejected rows (a frame of the engine too).
    """

    curated: dict[str, Any]
    processed: dict[str, pa.Table]
    quarantine: Any


class Staged(Protocol):
    """A sink's written but not yet visible change."""

    def commit(self) -> None:
        """Make the change visible.

        Raises:
            LoadError: it could not be made visible; the previous state is kept.
        """

    def discard(self) -> None:
        """Remove the change; never raises for what is already gone."""


@runtime_checkable
class JournaledChange(Protocol):
    """A staged change that can say what its commit will do, so it can be finished later."""

    def intents(self) -> list[dict[str, Any]]:
        """One row per commit still to make (``commit_journal`` columns)."""


@runtime_checkable
class Journal(Protocol):
    """A staged change that records the other sinks' intents in its own commit."""

    def record(self, intents: Sequence[dict[str, Any]]) -> None:
        """Write ``intents`` so that they become durable exactly when this change commits."""

    def settle(self) -> None:
        """Mark the recorded intents done (every sink has committed)."""


class Sink(Protocol):
    """A destination of a run's tables."""

    name: str

    def describe(self) -> str:
        """Where the data goes, for the run summary (never with a secret)."""

    def stage(self, outputs: RunOutputs) -> Staged:
        """Write ``outputs`` without making them visible.

        Raises:
            LoadError, StoreUnavailableError: nothing of this sink is kept.
        """


def write_all(sinks: Sequence[Sink], outputs: RunOutputs) -> None:
    """Stage every sink in order, then commit in reverse order; all or nothing until then.

    The sink that commits first (the database) records, in its own commit, what the others
    will commit (``Journal``), so a process killed between the commits is finished by the
    next run's recovery instead of leaving the stores apart.
    """
    staged: list[tuple[Sink, Staged]] = []
    try:
        for sink in sinks:
            logger.info("staging %s", sink.name)
            staged.append((sink, sink.stage(outputs)))
        ordered = list(reversed(staged))
        first = ordered[0][1] if ordered else None
        if isinstance(first, Journal):
            first.record(
                [i for _s, p in ordered[1:] if isinstance(p, JournaledChange) for i in p.intents()]
            )
        faults.reach("before-db-commit")
    except BaseException:
        for _sink, pending in reversed(staged):
            pending.discard()
        raise
    with sigterm_deferred():  # once the first sink commits, the others follow it
        _commit_in_order(ordered)
    if isinstance(first, Journal):
        first.settle()


def _commit_in_order(ordered: Sequence[tuple[Sink, Staged]]) -> None:
    journaled = bool(ordered) and isinstance(ordered[0][1], Journal)
    for index, (sink, pending) in enumerate(ordered):
        try:
            pending.commit()
            if index == 0:
                faults.reach("after-db-commit")
        except BaseException as exc:
            for _later, later_pending in ordered[index + 1 :]:
                recoverable = index > 0 and journaled and isinstance(later_pending, JournaledChange)
                if not recoverable:  # a journaled change waits for recovery instead
                    later_pending.discard()
            if index == 0:
                raise
            done = ", ".join(s.name for s, _p in ordered[:index])
            raise LoadError(
                f"{sink.name} could not commit after {done} did: {exc}; the next run (or "
                "etl-service recover) finishes it from the journal"
            ) from exc
