"""The Parquet data lake: zones raw/, processed/ and curated/, published atomically.

Each table lives in ``<root>/<zone>/<table>/``. A write goes to a new version folder
``v=<version>/`` (optionally hive-partitioned) and becomes visible only when the manifest
``_current.json`` is replaced, which is atomic on a local disk (rename) and on S3 (one PUT).
Readers follow the manifest, so they never see half a table. A table whose content hash
equals the published one is not written again, so a rerun changes nothing.
"""

from __future__ import annotations

import hashlib
import json
import logging
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import pyarrow as pa
import pyarrow.dataset as pads
import pyarrow.fs as pafs
import pyarrow.parquet as pq

from etl_service.errors import ConfigError, LoadError, StoreUnavailableError
from etl_service.src.models.schemas import Zone

logger = logging.getLogger(__name__)

MANIFEST = "_current.json"


@dataclass(frozen=True)
class Published:
    """The result of publishing one table."""

    table: str
    version: str
    path: str
    rows: int
    changed: bool


@dataclass(frozen=True)
class Staged:
    """A written but not yet visible table version."""

    zone: Zone
    name: str
    version: str
    path: str
    rows: int
    sha256: str
    partition_by: list[str]
    previous: str | None
    changed: bool


HASH_SLICE_ROWS = 65_536


class _HashingSink:
    """A write-only file that feeds everything written to it into SHA-256."""

    def __init__(self) -> None:
        self.digest = hashlib.sha256()
        self.closed = False

    def write(self, data: bytes) -> int:
        self.digest.update(data)
        return len(data)

    def flush(self) -> None:
        return None

    def close(self) -> None:
        self.closed = True


def content_hash(table: pa.Table) -> str:
    """A hash of the table's schema and rows (Arrow IPC bytes), stable across runs.

    The rows are serialised in fixed slices, each made contiguous on its own, so the hash
    does not depend on how the table happens to be chunked and never needs a second copy
    of the whole table in memory.
    """
    sink = _HashingSink()
    with pa.PythonFile(sink, mode="w") as stream, pa.ipc.new_stream(stream, table.schema) as w:
        for start in range(0, table.num_rows, HASH_SLICE_ROWS):
            part = table.slice(start, HASH_SLICE_ROWS)
            # concat_arrays copies into fresh buffers: no slice offsets reach the bytes
            columns = [pa.concat_arrays(column.chunks) for column in part.columns]
            w.write_batch(pa.RecordBatch.from_arrays(columns, schema=table.schema))
    return sink.digest.hexdigest()


class Lake:
    """A lake rooted at ``root`` on ``filesystem`` (local folder or S3 bucket/prefix)."""

    def __init__(self, filesystem: pafs.FileSystem, root: str, uri: str | None = None) -> None:
        self.fs = filesystem
        self.root = root.rstrip("/")
        self.uri = uri or root

    def path(self, zone: Zone, *parts: str) -> str:
        return "/".join([self.root, str(zone), *parts])

    def check_writable(self) -> None:
        """Fail early, before anything is loaded, when the lake root cannot be written."""
        probe = self.path(Zone.PROCESSED, f".probe-{uuid.uuid4().hex}")
        try:
            self.fs.create_dir(self.path(Zone.PROCESSED), recursive=True)
            with self.fs.open_output_stream(probe) as out:
                out.write(b"ok")
            self.fs.delete_file(probe)
        except OSError as exc:
            raise StoreUnavailableError(f"the lake {self.uri} is not writable: {exc}") from exc

    def manifest(self, zone: Zone, table: str) -> dict[str, Any] | None:
        """The published manifest of a table, or None when it was never published."""
        try:
            with self.fs.open_input_stream(self.path(zone, table, MANIFEST)) as stream:
                loaded: dict[str, Any] = json.loads(stream.read())
                return loaded
        except FileNotFoundError:
            return None

    def stage(
        self,
        zone: Zone,
        name: str,
        table: pa.Table,
        partition_by: Sequence[str] = (),
        version: str | None = None,
    ) -> Staged:
        """Write ``table`` as a new, not yet visible version (nothing if it is unchanged)."""
        return self.stage_written(
            zone,
            name,
            content_hash(table),
            table.num_rows,
            lambda folder: self.write_arrow(table, folder, partition_by),
            partition_by,
            version,
        )

    def write_arrow(self, table: pa.Table, folder: str, partition_by: Sequence[str] = ()) -> None:
        """Write ``table`` as Parquet into ``folder``, hive-partitioned by ``partition_by``."""
        self.fs.create_dir(folder, recursive=True)
        if partition_by:
            pq.write_to_dataset(
                table,
                folder,
                partition_cols=list(partition_by),
                filesystem=self.fs,
                basename_template="part-{i}.parquet",
                existing_data_behavior="error",
            )
        else:
            pq.write_table(table, f"{folder}/part-0.parquet", filesystem=self.fs)

    def stage_written(
        self,
        zone: Zone,
        name: str,
        digest: str,
        rows: int,
        write: Callable[[str], None],
        partition_by: Sequence[str] = (),
        version: str | None = None,
    ) -> Staged:
        """Stage a version that ``write(folder)`` writes (e.g. Spark), unless ``digest`` is current.

        Args:
            digest: the content hash of the table (``content_hash``), compared with the
                published one so an unchanged table is not written again.
            rows: the table's row count, for the manifest.
            write: writes the Parquet files into the new, not yet existing, version folder;
                a failure removes whatever it left there.

        Returns:
            The staged version, published by ``commit`` or removed by ``discard``.
        """
        current = self.manifest(zone, name)
        if current and current.get("sha256") == digest:
            return Staged(
                zone,
                name,
                current["version"],
                current["path"],
                rows,
                digest,
                list(partition_by),
                current.get("previous"),
                changed=False,
            )
        version = version or datetime.now(UTC).strftime("%Y%m%dT%H%M%S") + uuid.uuid4().hex[:6]
        folder = self.path(zone, name, f"v={version}")
        try:
            write(folder)
        except BaseException as exc:
            self._remove(folder)
            if isinstance(exc, OSError):
                raise LoadError(f"writing {name} to the lake {self.uri} failed: {exc}") from exc
            raise
        previous = current["version"] if current else None
        return Staged(
            zone, name, version, folder, rows, digest, list(partition_by), previous, changed=True
        )

    def commit(self, staged: Staged) -> Published:
        """Make a staged version the current one by replacing the manifest."""
        if staged.changed:
            manifest = {
                "table": staged.name,
                "version": staged.version,
                "path": staged.path,
                "rows": staged.rows,
                "sha256": staged.sha256,
                "partition_by": staged.partition_by,
                "published_at": datetime.now(UTC).isoformat(),
                "previous": staged.previous,
            }
            target = self.path(staged.zone, staged.name, MANIFEST)
            try:
                self._write_atomically(target, json.dumps(manifest, indent=1))
            except OSError as exc:
                raise LoadError(f"publishing {staged.name} to {self.uri} failed: {exc}") from exc
            self._drop_old_versions(staged.zone, staged.name, {staged.version, staged.previous})
        return Published(staged.name, staged.version, staged.path, staged.rows, staged.changed)

    def discard(self, staged: Staged) -> None:
        """Remove a staged version that will not be committed."""
        if staged.changed:
            self.fs.delete_dir(staged.path)

    def publish(
        self,
        zone: Zone,
        name: str,
        table: pa.Table,
        partition_by: Sequence[str] = (),
        version: str | None = None,
    ) -> Published:
        """Stage and commit ``table`` in one step."""
        return self.commit(self.stage(zone, name, table, partition_by, version))

    def read(self, zone: Zone, name: str) -> pa.Table:
        """Read the published version of a table."""
        manifest = self.manifest(zone, name)
        if manifest is None:
            raise ConfigError(f"{name} has not been published to {self.uri}/{zone}")
        dataset = pads.dataset(
            manifest["path"],
            filesystem=self.fs,
            format="parquet",
            partitioning="hive" if manifest["partition_by"] else None,
        )
        return dataset.to_table()

    def _remove(self, folder: str) -> None:
        try:
            self.fs.delete_dir(folder)
        except FileNotFoundError:
            pass
        except OSError:
            logger.warning("could not remove the failed lake version %s", folder)

    def _write_atomically(self, path: str, text: str) -> None:
        if isinstance(self.fs, pafs.LocalFileSystem):
            tmp = f"{path}.{uuid.uuid4().hex}.tmp"
            with self.fs.open_output_stream(tmp) as out:
                out.write(text.encode())
            self.fs.move(tmp, path)  # rename(2): atomic on one filesystem
        else:
            with self.fs.open_output_stream(path) as out:  # one PUT: atomic on S3
                out.write(text.encode())

    def _drop_old_versions(self, zone: Zone, name: str, keep: set[str | None]) -> None:
        selector = pafs.FileSelector(self.path(zone, name), allow_not_found=True)
        for info in self.fs.get_file_info(selector):
            version = info.base_name.removeprefix("v=")
            if info.type == pafs.FileType.Directory and version not in keep:
                try:
                    self.fs.delete_dir(info.path)
                except OSError:
                    logger.warning("could not remove old lake version %s", info.path)


def open_lake(uri: str, s3: pafs.FileSystem | None = None) -> Lake:
    """A Lake for a local path or an ``s3://bucket/prefix`` URI (``s3`` is the injected FS)."""
    if uri.startswith("s3://"):
        if s3 is None:
            raise ConfigError("an s3:// lake needs an S3 filesystem (see ETL_AWS_* settings)")
        return Lake(s3, uri.removeprefix("s3://"), uri)
    if "://" in uri and not uri.startswith("file://"):
        raise ConfigError(f"unsupported lake URI {uri!r}: use a local path or s3://bucket/prefix")
    local = uri.removeprefix("file://")
    from pathlib import Path

    return Lake(pafs.LocalFileSystem(), str(Path(local).absolute()), uri)
