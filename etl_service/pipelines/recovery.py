"""Bringing the database and the lake back together after a run was killed between them.

Runs under the run lock, before a run's own work (``build_pipeline``) or on its own
(``etl-service recover``). A killed run whose database load had committed left its lake
commits in the journal (``src.db.commit_journal``): each table the lake does not have yet is
committed from the staged files, so the lake matches the database (rolled forward). A run
whose load never committed left only staged files that no snapshot references: they are
removed (discarded). Either way the killed run's row in ``pipeline_runs`` says what happened.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import sqlalchemy as sa

from etl_service.src.db import commit_journal
from etl_service.src.db.run_lock import mark_abandoned
from etl_service.src.models.schemas import Zone

if TYPE_CHECKING:
    from etl_service.src.db.lake import Lake

logger = logging.getLogger(__name__)


@dataclass
class Recovery:
    """What recovery found and did."""

    killed_runs: list[str] = field(default_factory=list)
    loaded_runs: list[str] = field(default_factory=list)
    rolled_forward: list[str] = field(default_factory=list)
    """``run_id: zone.table`` committed to the lake from the journal."""
    discarded: list[str] = field(default_factory=list)
    """Staged folders of uncommitted runs that were removed."""
    lost: list[str] = field(default_factory=list)
    """Journaled commits whose staged files were gone (the lake keeps its content)."""

    def describe(self) -> str:
        """One line: which runs were killed and what was done for each store."""
        if not (self.killed_runs or self.rolled_forward or self.discarded or self.lost):
            return "nothing to recover: the database and the lake agree"
        parts = []
        if self.killed_runs:
            rolled_back = [r for r in self.killed_runs if r not in self.loaded_runs]
            if self.loaded_runs:
                parts.append(
                    f"run(s) {', '.join(self.loaded_runs)} were killed after their database "
                    "load committed"
                )
            if rolled_back:
                parts.append(
                    f"run(s) {', '.join(rolled_back)} were killed before their database load "
                    "committed (nothing of them is visible)"
                )
        if self.rolled_forward:
            parts.append(
                f"rolled the lake forward to the database: {', '.join(self.rolled_forward)}"
            )
        if self.discarded:
            parts.append(f"discarded {len(self.discarded)} staged folder(s) no run committed")
        if self.lost:
            parts.append(
                f"could not roll forward {', '.join(self.lost)} (staged files gone; the next "
                "run rewrites them)"
            )
        return "; ".join(parts)


def recover(database: sa.Engine, lake: Lake, *, scan: bool = False) -> Recovery:
    """Finish or clean up after killed runs; call under the run lock.

    Args:
        scan: look for staged folders nobody committed even when no killed run is known
            (``etl-service recover``); a run does it only after finding a killed run.
    """
    from etl_service.src.db.lake import staged_from_intent

    outcome = Recovery()
    marked = mark_abandoned(database, lambda runs: commit_journal.loaded_runs(database, runs))
    outcome.killed_runs = sorted(marked)
    outcome.loaded_runs = sorted(r for r, status in marked.items() if status == "committed")
    pending = commit_journal.pending(database)
    finished: set[str] = set()
    for row in pending:
        run_id, zone, name = row["run_id"], Zone(row["zone"]), row["table_name"]
        label = f"{run_id}: {lake.namespace_of(zone)}.{name}"
        finished.add(run_id)
        if lake.committed_by(zone, name, run_id):
            continue  # the run got this far itself
        staged = staged_from_intent(row, run_id)
        if not lake.staged_files_exist(staged):
            outcome.lost.append(label)  # the run's commit failed and removed them
            logger.warning("recovery: staged files of %s are gone; the next run rewrites it", label)
            continue
        lake.commit(staged)
        outcome.rolled_forward.append(label)
        logger.warning("recovery: committed %s to the lake from the journal", label)
    for run_id in sorted(finished):
        commit_journal.settle(database, run_id)
    if scan or outcome.killed_runs:
        keep = {row["folder"] for row in pending if row["folder"]}
        for folder in lake.unreferenced_folders():
            if folder not in keep:
                lake.remove_folder(folder)
                outcome.discarded.append(folder)
    if outcome.killed_runs or outcome.rolled_forward or outcome.discarded:
        logger.warning("recovery: %s", outcome.describe())
    return outcome
