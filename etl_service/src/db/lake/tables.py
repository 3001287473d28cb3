"""The lake's processed and curated zones as Iceberg tables: stage, commit, read, history.

A table lives at ``<root>/<zone>/<name>`` and is registered in the catalog as
``<namespace>.<name>`` (curated) or ``<namespace>_processed.<name>``. ``stage`` writes the
run's Parquet files into a new folder under the table's ``data/`` that no snapshot
references; ``commit`` makes them the table's content in one Iceberg commit (an
``overwrite`` snapshot that removes the previous files and adds these), with the content
hash and run id in the snapshot summary. A table whose current snapshot already has the
content hash gets no new snapshot.

Commits are optimistic: the catalog swaps the metadata pointer only if nobody committed
since the base was loaded. On a conflict the table is loaded again and the replacement is
built anew on the new base (pyiceberg's own retry is off: it would keep rows a concurrent
run added); if that run committed the same content, there is nothing left to do. Files are
deleted only when no snapshot references them: a failed or discarded stage's own folder,
and those of snapshots expired after ``ETL_CATALOG__SNAPSHOT_RETENTION_DAYS``.
"""

from __future__ import annotations

import logging
import re
import uuid
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from functools import cached_property
from typing import TYPE_CHECKING, Any

import pyarrow as pa
import pyarrow.fs as pafs
from pyiceberg.exceptions import (
    CommitFailedException,
    NamespaceAlreadyExistsError,
    NoSuchNamespaceError,
    NoSuchTableError,
    TableAlreadyExistsError,
    ValidationException,
)

from etl_service.errors import (
    EtlError,
    IncompatibleSchemaError,
    InputError,
    LoadError,
    StoreUnavailableError,
)
from etl_service.src.db.lake import files
from etl_service.src.db.lake.digest import content_hash
from etl_service.src.db.lake.expiry import expire_older_than
from etl_service.src.db.lake.schema import evolve, iceberg_schema, partition_spec
from etl_service.src.models.schemas import (
    CURATED_TABLES,
    PROCESSED_TABLES,
    TableSpec,
    Zone,
    arrow_schema,
)

if TYPE_CHECKING:
    from pyiceberg.manifest import DataFile
    from pyiceberg.catalog import Catalog
    from pyiceberg.table import Table
    from pyiceberg.table.snapshots import Snapshot

logger = logging.getLogger(__name__)

HASH_PROPERTY = "etl.content-hash"
RUN_PROPERTY = "etl.run-id"
COMMIT_ATTEMPTS = 5
LAKE_ZONES = (Zone.CURATED, Zone.PROCESSED)
TABLE_PROPERTIES = {
    "commit.retry.num-retries": "0",  # conflicts are retried in Lake.commit, on a new base
    "write.metadata.delete-after-commit.enabled": "true",
}


@dataclass(frozen=True)
class StagedTable:
    """A table's new content, written but referenced by no snapshot yet."""

    zone: Zone
    spec: TableSpec
    digest: str
    rows: int
    run_id: str
    folder: str | None = None
    """The staged folder's URI; None when the content is already the current one."""
    files: tuple[str, ...] = ()

    @property
    def changed(self) -> bool:
        return self.folder is not None


def staged_intent(staged: StagedTable) -> dict[str, Any]:
    """A staged table as a ``lake_commits`` row (what its commit will do)."""
    return {
        "zone": str(staged.zone),
        "table_name": staged.spec.name,
        "digest": staged.digest,
        "rows": staged.rows,
        "folder": staged.folder,
        "files": list(staged.files),
    }


def staged_from_intent(row: Mapping[str, Any], run_id: str) -> StagedTable:
    """The staged table a ``lake_commits`` row describes."""
    zone = Zone(row["zone"])
    specs = CURATED_TABLES if zone == Zone.CURATED else PROCESSED_TABLES
    spec = next(s for s in specs if s.name == row["table_name"])
    return StagedTable(
        zone,
        spec,
        row["digest"],
        int(row["rows"] or 0),
        run_id,
        row["folder"],
        tuple(row["files"] or ()),
    )


_STAGED_FOLDER = re.compile(r"^\d{8}T\d{6}-[0-9a-f]{12}$")


@dataclass(frozen=True)
class Committed:
    """The result of committing one table."""

    table: str
    snapshot_id: int | None
    rows: int
    changed: bool


@dataclass(frozen=True)
class AsOf:
    """A point in the lake's past: a snapshot id (of any table) or a time."""

    snapshot_id: int | None = None
    at: datetime | None = None


class Lake:
    """The lake at ``root`` (``file:///…`` or ``s3://bucket/prefix``) and its catalog."""

    def __init__(
        self,
        uri: str,
        root: str,
        filesystem: pafs.FileSystem,
        catalog: Callable[[], Catalog],
        namespace: str = "sp500",
        retention: timedelta = timedelta(days=30),
    ) -> None:
        self.uri = uri
        self.root = root.rstrip("/")
        self.fs = filesystem
        self.namespace = namespace
        self.retention = retention
        self._catalog_factory = catalog

    @cached_property
    def catalog(self) -> Catalog:
        """The catalog, built on first use (after ``check_writable``)."""
        with _store_errors(f"the lake catalog of {self.uri}"):
            return self._catalog_factory()

    def path(self, zone: Zone, *parts: str) -> str:
        """The URI of ``parts`` under ``zone``."""
        return "/".join([self.root, str(zone), *parts])

    def fs_path(self, zone: Zone, *parts: str) -> str:
        """``path`` on ``fs`` (the raw zone's archive writes there)."""
        return files.fs_path(self.path(zone, *parts))

    def namespace_of(self, zone: Zone) -> str:
        return self.namespace if zone == Zone.CURATED else f"{self.namespace}_{zone}"

    def namespaces(self) -> dict[str, str]:
        """The namespace (Glue database) of each zone, by the zone's name."""
        return {str(zone): self.namespace_of(zone) for zone in LAKE_ZONES}

    def identifier(self, zone: Zone, name: str) -> tuple[str, str]:
        return (self.namespace_of(zone), name)

    def check_writable(self) -> None:
        """Fail early, before anything is loaded, when the lake root cannot be written."""
        folder = self.fs_path(Zone.PROCESSED)
        probe = f"{folder}/.probe-{uuid.uuid4().hex}"
        try:
            self.fs.create_dir(folder, recursive=True)
            with self.fs.open_output_stream(probe) as out:
                out.write(b"ok")
            self.fs.delete_file(probe)
        except OSError as exc:
            raise StoreUnavailableError(f"the lake {self.uri} is not writable: {exc}") from exc

    def ensure_namespaces(self) -> list[str]:
        """Create the zones' namespaces that are missing; the ones created."""
        created = []
        for zone in LAKE_ZONES:
            name = self.namespace_of(zone)
            with _store_errors(f"creating namespace {name}"):
                try:
                    self.catalog.create_namespace(name, {"location": self.path(zone)})
                    created.append(name)
                except NamespaceAlreadyExistsError:
                    pass
        return created

    def table(self, zone: Zone, spec: TableSpec) -> Table:
        """The table of ``spec`` in ``zone``, created empty (schema, partitions) if missing."""
        identifier = self.identifier(zone, spec.name)
        try:
            return self.catalog.load_table(identifier)
        except NoSuchTableError:
            pass
        self.ensure_namespaces()
        schema = iceberg_schema(spec)
        properties = TABLE_PROPERTIES | {
            "schema.name-mapping.default": schema.name_mapping.model_dump_json(),
        }
        try:
            return self.catalog.create_table(
                identifier,
                schema,
                location=self.path(zone, spec.name),
                partition_spec=partition_spec(spec, schema),
                properties=properties,
            )
        except TableAlreadyExistsError:
            return self.catalog.load_table(identifier)

    def load(self, zone: Zone, name: str) -> Table:
        """An existing table.

        Raises:
            InputError: the lake has no such table.
        """
        with _store_errors(f"loading {name}"):
            try:
                return self.catalog.load_table(self.identifier(zone, name))
            except (NoSuchTableError, NoSuchNamespaceError):
                raise InputError(
                    f"the lake {self.uri} has no {zone} table {name} (run etl-service run first)",
                    field="table",
                    value=name,
                ) from None

    def stage(
        self,
        zone: Zone,
        spec: TableSpec,
        digest: str,
        rows: int,
        write: Callable[[str], None],
        run_id: str = "",
    ) -> StagedTable:
        """Stage the content that ``write(folder_uri)`` writes, unless ``digest`` is current.

        Args:
            digest: the content hash of the table (``Engine.content_hash``).
            rows: the table's row count.
            write: writes Parquet files in the table's columns into the new folder; a
                failure removes whatever it left there.
            run_id: recorded in the snapshot summary.

        Raises:
            IncompatibleSchemaError: the table's schema cannot take ``spec``.
            LoadError: the files or the table could not be written.
        """
        label = ".".join(self.identifier(zone, spec.name))
        with _store_errors(f"staging {label}"):
            table = self.table(zone, spec)
            if _content_hash(table.current_snapshot()) == digest:
                return StagedTable(zone, spec, digest, rows, run_id)
            evolve(table.transaction(), spec, label)  # refuse a breaking change before writing
            stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%S")
            folder = self.path(zone, spec.name, "data", f"{stamp}-{uuid.uuid4().hex[:12]}")
        try:
            write(folder)
            staged = files.data_files(self.fs, files.fs_path(folder))
        except BaseException as exc:
            self._remove(folder)
            if isinstance(exc, OSError):
                raise LoadError(f"writing {label} to the lake {self.uri} failed: {exc}") from exc
            raise
        uris = tuple(files.to_uri(self.root, path) for path in staged)
        return StagedTable(zone, spec, digest, rows, run_id, folder, uris)

    def stage_arrow(self, zone: Zone, spec: TableSpec, table: pa.Table, run_id: str = "") -> StagedTable:
        """Stage an Arrow table, cast to the canonical columns of ``spec``."""
        table = table.select(spec.column_names).cast(arrow_schema(spec))
        return self.stage(
            zone,
            spec,
            content_hash(table),
            table.num_rows,
            lambda folder: self.write_arrow(table, folder, spec.partition_by),
            run_id,
        )

    def write_arrow(self, table: pa.Table, folder: str, partition_by: Sequence[str]) -> None:
        """Write ``table`` as Parquet into the new folder URI ``folder``."""
        files.write_arrow(self.fs, table, files.fs_path(folder), partition_by)

    def upload(self, local_folder: str, folder: str) -> None:
        """Copy the Parquet files of a local folder into the folder URI ``folder``."""
        local = pafs.LocalFileSystem()
        files.data_files(local, local_folder)
        pafs.copy_files(
            local_folder,
            files.fs_path(folder),
            source_filesystem=local,
            destination_filesystem=self.fs,
        )

    def commit(self, staged: StagedTable) -> Committed:
        """Make the staged files the table's content in one Iceberg commit.

        Raises:
            IncompatibleSchemaError: the table changed into a schema ``spec`` cannot take.
            LoadError: the commit kept conflicting, or the catalog refused it; the table
                keeps its previous content.
        """
        name = staged.spec.name
        if not staged.changed:
            return Committed(name, None, staged.rows, changed=False)
        label = ".".join(self.identifier(staged.zone, name))
        for attempt in range(1, COMMIT_ATTEMPTS + 1):
            with _store_errors(f"committing {label}"):
                table = self.catalog.load_table(self.identifier(staged.zone, name))
                if _content_hash(table.current_snapshot()) == staged.digest:
                    logger.info("%s: a concurrent run committed the same content", label)
                    self.discard(staged)
                    return Committed(name, None, staged.rows, changed=False)
                try:
                    committed = self._replace(table, staged, label)
                except IncompatibleSchemaError:
                    self.discard(staged)
                    raise
                except (CommitFailedException, ValidationException) as exc:
                    logger.info("%s: commit conflict (%s), attempt %d", label, exc, attempt)
                    continue
                self._expire(committed)
            snapshot = committed.current_snapshot()
            return Committed(name, snapshot.snapshot_id if snapshot else None, staged.rows, True)
        self.discard(staged)
        raise LoadError(f"{label} kept changing under concurrent commits; nothing was committed")

    def discard(self, staged: StagedTable) -> None:
        """Remove a staged folder that no snapshot references."""
        if staged.folder is not None:
            self._remove(staged.folder)

    def publish(self, zone: Zone, spec: TableSpec, table: pa.Table, run_id: str = "") -> Committed:
        """Stage and commit an Arrow table in one step."""
        return self.commit(self.stage_arrow(zone, spec, table, run_id))

    def _replace(self, table: Table, staged: StagedTable, label: str) -> Table:
        transaction = table.transaction()
        changes = evolve(transaction, staged.spec, label)
        if changes:
            logger.info("%s: %s", label, "; ".join(changes))
        metadata = transaction.table_metadata
        # pyiceberg's pyarrow IO takes half a second to import: only a commit needs it.
        from pyiceberg.io.pyarrow import parquet_file_to_data_file

        added = [parquet_file_to_data_file(table.io, metadata, uri) for uri in staged.files]
        properties = {HASH_PROPERTY: staged.digest, RUN_PROPERTY: staged.run_id}
        with transaction.update_snapshot(snapshot_properties=properties).overwrite() as overwrite:
            for data_file in _live_files(table):
                overwrite.delete_data_file(data_file)
            for data_file in added:
                overwrite.append_data_file(data_file)
        return transaction.commit_transaction()

    def _expire(self, table: Table) -> None:
        try:
            expire_older_than(table, datetime.now(UTC) - self.retention)
        except Exception:  # the data is committed; the next commit expires again
            logger.warning("snapshot expiry of %s failed", table.name(), exc_info=True)

    def _remove(self, folder: str) -> None:
        try:
            files.remove_folder(self.fs, files.fs_path(folder))
        except OSError:
            logger.warning("could not remove the staged lake folder %s", folder)

    def committed_by(self, zone: Zone, name: str, run_id: str) -> bool:
        """Whether the table's current snapshot is ``run_id``'s commit."""
        table = self.load(zone, name)
        snapshot = table.current_snapshot()
        return bool(snapshot and snapshot.summary and snapshot.summary.get(RUN_PROPERTY) == run_id)

    def staged_files_exist(self, staged: StagedTable) -> bool:
        """Whether every staged data file is still there (``recovery``)."""
        paths = [files.fs_path(uri) for uri in staged.files]
        try:
            return all(i.type == pafs.FileType.File for i in self.fs.get_file_info(paths))
        except OSError:
            return False

    def unreferenced_folders(self) -> list[str]:
        """Staged folders of every lake table that no snapshot references (a run that
        staged and never committed, or was killed before its database load committed)."""
        found = []
        for table in self._tables():
            zone = Zone.CURATED if table.name()[-2] == self.namespace else Zone.PROCESSED
            name = table.name()[-1]
            referenced = {
                uri.rsplit("/data/", 1)[-1].split("/", 1)[0]
                for snapshot in table.snapshots()
                for manifest in snapshot.manifests(table.io)
                for entry in manifest.fetch_manifest_entry(table.io, discard_deleted=True)
                for uri in [entry.data_file.file_path]
            }
            data = files.fs_path(self.path(zone, name, "data"))
            try:
                listed = self.fs.get_file_info(pafs.FileSelector(data, allow_not_found=True))
            except OSError:
                continue
            for info in listed:
                if info.type == pafs.FileType.Directory and _STAGED_FOLDER.match(info.base_name):
                    if info.base_name not in referenced:
                        found.append(self.path(zone, name, "data", info.base_name))
        return found

    def remove_folder(self, folder: str) -> None:
        """Remove a staged folder (``unreferenced_folders``)."""
        self._remove(folder)

    def snapshot_at(self, table: Table, when: datetime | None) -> Snapshot | None:
        """The snapshot of ``table`` current at ``when`` (now when None)."""
        if when is None:
            return table.current_snapshot()
        return table.snapshot_as_of_timestamp(int(when.timestamp() * 1000))

    def read(self, zone: Zone, name: str, when: datetime | None = None) -> pa.Table:
        """A table's rows as of ``when`` (now when None); no rows before its first commit."""
        table = self.load(zone, name)
        snapshot = self.snapshot_at(table, when)
        with _store_errors(f"reading {name}"):
            if snapshot is None:
                return table.schema().as_arrow().empty_table()
            return table.scan(snapshot_id=snapshot.snapshot_id).to_arrow()

    def data_file_uris(self, zone: Zone, name: str, when: datetime | None = None) -> list[str]:
        """The data files of a table as of ``when``, for engines that read Parquet."""
        table = self.load(zone, name)
        snapshot = self.snapshot_at(table, when)
        if snapshot is None:
            return []
        with _store_errors(f"planning {name}"):
            scan = table.scan(snapshot_id=snapshot.snapshot_id)
            return sorted(task.file.file_path for task in scan.plan_files())

    def resolve(self, as_of: AsOf) -> datetime:
        """The time ``as_of`` stands for: its time, or the end of its snapshot's run.

        A snapshot id names one table's commit; the other tables are read as of the last
        commit of the same run, so a query sees that run's lake as a whole.

        Raises:
            InputError: no lake table has that snapshot.
        """
        if as_of.at is not None:
            return as_of.at if as_of.at.tzinfo else as_of.at.replace(tzinfo=UTC)
        snapshots = [s for t in self._tables() for s in t.snapshots()]
        match = next((s for s in snapshots if s.snapshot_id == as_of.snapshot_id), None)
        if match is None:
            raise InputError(
                f"no table of the lake {self.uri} has that snapshot (see etl-service lake "
                "history TABLE)",
                field="--as-of-snapshot",
                value=as_of.snapshot_id,
            )
        run = match.summary.get(RUN_PROPERTY) if match.summary else None
        same_run = [s for s in snapshots if run and s.summary and s.summary.get(RUN_PROPERTY) == run]
        last = max(s.timestamp_ms for s in [match, *same_run])
        return datetime.fromtimestamp(last / 1000, UTC)

    def tables(self) -> list[dict[str, Any]]:
        """One row per lake table: its current snapshot, rows, files and location."""
        rows = []
        for table in self._tables():
            snapshot = table.current_snapshot()
            summary: Mapping[str, Any] = snapshot.summary if snapshot and snapshot.summary else {}
            rows.append(
                {
                    "table": ".".join(table.name()[-2:]),
                    "snapshot_id": snapshot.snapshot_id if snapshot else None,
                    "committed_at": _time(snapshot.timestamp_ms) if snapshot else None,
                    "rows": int(summary.get("total-records", 0)),
                    "files": int(summary.get("total-data-files", 0)),
                    "snapshots": len(table.snapshots()),
                    "location": table.location(),
                }
            )
        return rows

    def history(self, zone: Zone, name: str) -> list[dict[str, Any]]:
        """One row per snapshot of a table, oldest first."""
        table = self.load(zone, name)
        current = table.current_snapshot()
        rows = []
        for snapshot in sorted(table.snapshots(), key=lambda s: s.timestamp_ms):
            summary: Mapping[str, Any] = snapshot.summary or {}
            rows.append(
                {
                    "snapshot_id": snapshot.snapshot_id,
                    "committed_at": _time(snapshot.timestamp_ms),
                    "operation": snapshot.summary.operation.value if snapshot.summary else None,
                    "rows": int(summary.get("total-records", 0)),
                    "added_rows": int(summary.get("added-records", 0)),
                    "run_id": summary.get(RUN_PROPERTY),
                    "content_hash": (summary.get(HASH_PROPERTY) or "")[:16],
                    "current": current is not None and snapshot.snapshot_id == current.snapshot_id,
                }
            )
        return rows

    def _tables(self) -> Iterator[Table]:
        for zone in LAKE_ZONES:
            with _store_errors("listing the lake's tables"):
                try:
                    identifiers = self.catalog.list_tables(self.namespace_of(zone))
                except NoSuchNamespaceError:
                    continue
                for identifier in sorted(identifiers):
                    yield self.catalog.load_table(identifier)


def _content_hash(snapshot: Snapshot | None) -> str | None:
    if snapshot is None or snapshot.summary is None:
        return None
    return snapshot.summary.get(HASH_PROPERTY)


def _live_files(table: Table) -> list[DataFile]:
    snapshot = table.current_snapshot()
    if snapshot is None:
        return []
    return [
        entry.data_file
        for manifest in snapshot.manifests(table.io)
        for entry in manifest.fetch_manifest_entry(table.io, discard_deleted=True)
    ]


def _time(timestamp_ms: int) -> str:
    return datetime.fromtimestamp(timestamp_ms / 1000, UTC).isoformat(timespec="milliseconds")


@contextmanager
def _store_errors(what: str) -> Iterator[None]:
    """Turn a catalog's or a file system's own failures into a LoadError naming ``what``."""
    try:
        yield
    except (EtlError, CommitFailedException, ValidationException):
        raise
    except Exception as exc:
        raise LoadError(f"{what} failed: {type(exc).__name__}: {exc}") from exc
