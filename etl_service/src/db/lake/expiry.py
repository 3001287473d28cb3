"""Snapshot expiry that also removes the files only the expired snapshots referenced.

pyiceberg's ``expire_snapshots`` drops snapshots from the metadata but leaves their files.
Here a file is deleted only when an expired snapshot's manifests name it and, after the
expiry commit, no remaining snapshot reads it. Staged files of a concurrent run are reached by no
snapshot at all, and a concurrent commit never references a file of an older snapshot than
its own base (the current one, which is never expired), so neither is touched.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from datetime import datetime

from pyiceberg.exceptions import CommitFailedException
from pyiceberg.io import FileIO
from pyiceberg.table import Table
from pyiceberg.table.snapshots import Snapshot

logger = logging.getLogger(__name__)


def expire_older_than(table: Table, cutoff: datetime) -> int:
    """Expire ``table``'s snapshots committed before ``cutoff`` except the current one.

    Returns:
        The number of snapshots expired (0 when a concurrent commit got in the way: the
        next commit expires them).
    """
    current = table.current_snapshot()
    cutoff_ms = int(cutoff.timestamp() * 1000)
    old = [
        s
        for s in table.snapshots()
        if s.timestamp_ms < cutoff_ms and (current is None or s.snapshot_id != current.snapshot_id)
    ]
    if not old:
        return 0
    doomed = reachable_files(table.io, old, live_only=False)
    try:
        table.maintenance.expire_snapshots().by_ids([s.snapshot_id for s in old]).commit()
    except CommitFailedException:
        logger.info("snapshot expiry of %s deferred: a concurrent commit", table.name())
        return 0
    kept = reachable_files(table.io, table.refresh().snapshots())
    for path in sorted(doomed - kept):
        try:
            table.io.delete(path)
        except FileNotFoundError:
            pass  # an older expiry removed it (the manifests still record it as deleted)
        except OSError:
            logger.warning("could not delete %s of an expired snapshot", path)
    logger.info("expired %d snapshot(s) of %s", len(old), ".".join(table.name()))
    return len(old)


def reachable_files(io: FileIO, snapshots: Iterable[Snapshot], live_only: bool = True) -> set[str]:
    """The manifest lists, manifests and data files of ``snapshots``.

    Args:
        live_only: only the data files the snapshots read, not those their manifests
            record as deleted (which an older snapshot read).
    """
    found: set[str] = set()
    for snapshot in snapshots:
        found.add(snapshot.manifest_list)
        for manifest in snapshot.manifests(io):
            found.add(manifest.manifest_path)
            entries = manifest.fetch_manifest_entry(io, discard_deleted=live_only)
            found.update(entry.data_file.file_path for entry in entries)
    return found
