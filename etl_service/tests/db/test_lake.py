"""The Iceberg lake on a local folder (embedded SQLite catalog) and on S3 (moto): commits,
no-op reruns, schema evolution, expiry, time travel and concurrent commits."""

from __future__ import annotations

import os
import stat
import uuid
from collections.abc import Callable
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from pydantic import SecretStr
from pyiceberg.catalog.sql import SqlCatalog

from etl_service.aws.s3.filesystem import iceberg_io_properties, s3_filesystem
from etl_service.aws.session import boto3_session, client
from etl_service.errors import ConfigError, IncompatibleSchemaError, StoreUnavailableError
from etl_service.settings import CatalogSettings
from etl_service.src.db.lake import Lake, content_hash, open_lake
from etl_service.src.db.lake.catalog import CatalogContext, load_catalog
from etl_service.src.db.lake.expiry import reachable_files
from etl_service.src.db.lake.tables import HASH_PROPERTY, RUN_PROPERTY
from etl_service.src.models.schemas import Column, ColumnType, Zone, arrow_schema
from etl_service.tests.support.services import MotoServer
from etl_service.tests.support.tables import REPORTS


def _table(revenue: int) -> pa.Table:
    return pa.table(
        {"cik": ["1", "1", "2"], "fiscal_year": [2023, 2024, 2024], "revenue": [revenue, 2, 3]}
    )


def _revenues(lake: Lake, when: datetime | None = None) -> list[int]:
    return sorted(lake.read(Zone.CURATED, "reports", when).column("revenue").to_pylist())


def _data_files_on_disk(lake: Lake, name: str = "reports") -> set[str]:
    folder = Path(lake.fs_path(Zone.CURATED, name, "data"))
    return {f"file://{p}" for p in folder.rglob("*") if p.is_file()}


def _referenced(lake: Lake, name: str = "reports") -> set[str]:
    table = lake.load(Zone.CURATED, name)
    return {p for p in reachable_files(table.io, table.snapshots()) if p.endswith(".parquet")}


def _no_dangling_files(lake: Lake) -> None:
    """Every data and manifest file on disk is referenced by a snapshot, and every
    referenced one exists."""
    assert _data_files_on_disk(lake) == _referenced(lake)
    table = lake.load(Zone.CURATED, "reports")
    manifests = {p for p in reachable_files(table.io, table.snapshots()) if p.endswith(".avro")}
    folder = Path(lake.fs_path(Zone.CURATED, "reports", "metadata"))
    assert {f"file://{p}" for p in folder.glob("*.avro")} == manifests


def _contract(lake: Lake) -> None:
    first = lake.publish(Zone.CURATED, REPORTS, _table(1), run_id="run-1")
    assert first.changed
    again = lake.publish(Zone.CURATED, REPORTS, _table(1), run_id="run-2")
    assert not again.changed
    table = lake.load(Zone.CURATED, "reports")
    assert [s.snapshot_id for s in table.snapshots()] == [first.snapshot_id]
    second = lake.publish(Zone.CURATED, REPORTS, _table(10), run_id="run-3")
    assert second.changed
    assert _revenues(lake) == [2, 3, 10]
    history = lake.history(Zone.CURATED, "reports")
    assert [(h["run_id"], h["operation"], h["rows"], h["current"]) for h in history] == [
        ("run-1", "append", 3, False),
        ("run-3", "overwrite", 3, True),
    ]
    table = lake.load(Zone.CURATED, "reports")
    canonical = _table(10).cast(arrow_schema(REPORTS))
    assert table.current_snapshot().summary[HASH_PROPERTY] == content_hash(canonical)  # type: ignore[union-attr, index]
    assert [f.name for f in table.spec().fields] == ["fiscal_year"]
    for task in table.scan().plan_files():  # one partition value per file
        years = pq.read_table(table.io.new_input(task.file.file_path).open()).column(1)
        assert len(set(years.to_pylist())) == 1
        assert task.file.partition[0] == years[0].as_py()
    first_at = datetime.fromtimestamp(table.snapshots()[0].timestamp_ms / 1000, UTC)
    assert _revenues(lake, first_at) == [1, 2, 3]
    assert _revenues(lake, first_at - timedelta(seconds=1)) == []


@pytest.mark.unit
def test_local_lake_contract_in_the_embedded_catalog(tmp_path: Path) -> None:
    lake = open_lake(str(tmp_path / "lake"))
    _contract(lake)
    _no_dangling_files(lake)
    catalog = SqlCatalog("etl", uri=f"sqlite:///{tmp_path / 'lake' / 'catalog.db'}")
    assert catalog.load_table("sp500.reports").scan().to_arrow().num_rows == 3
    assert lake.tables()[0]["table"] == "sp500.reports"


@pytest.mark.unit
def test_a_staged_table_stays_invisible_until_committed(tmp_path: Path) -> None:
    lake = open_lake(str(tmp_path / "lake"))
    lake.publish(Zone.CURATED, REPORTS, _table(1))
    staged = lake.stage_arrow(Zone.CURATED, REPORTS, _table(5))
    assert staged.folder is not None
    assert staged.files
    assert _revenues(lake) == [1, 2, 3]
    lake.discard(staged)
    assert not Path(staged.folder.removeprefix("file://")).exists()
    lake.commit(lake.stage_arrow(Zone.CURATED, REPORTS, _table(5)))
    assert _revenues(lake) == [2, 3, 5]
    _no_dangling_files(lake)


@pytest.mark.unit
def test_an_added_column_evolves_the_table_and_a_breaking_change_is_refused(
    tmp_path: Path,
) -> None:
    lake = open_lake(str(tmp_path / "lake"))
    lake.publish(Zone.CURATED, REPORTS, _table(1))
    wider = replace(REPORTS, columns=(*REPORTS.columns, Column("note", ColumnType.STRING)))
    lake.publish(Zone.CURATED, wider, _table(7).append_column("note", pa.array(["a", "b", "c"])))
    back = lake.read(Zone.CURATED, "reports")
    assert back.column_names == ["cik", "fiscal_year", "revenue", "note"]
    first_at = datetime.fromtimestamp(
        lake.load(Zone.CURATED, "reports").snapshots()[0].timestamp_ms / 1000, UTC
    )
    assert _revenues(lake, first_at) == [1, 2, 3]  # the old files read under the new schema

    dropped = replace(wider, columns=wider.columns[:3])
    with pytest.raises(IncompatibleSchemaError, match=r"lake table sp500\.reports: column note"):
        lake.publish(Zone.CURATED, dropped, _table(8))
    retyped = replace(
        wider, columns=(*wider.columns[:2], Column("revenue", ColumnType.FLOAT64), wider.columns[3])
    )
    table = _table(9).append_column("note", pa.array(["a", "b", "c"]))
    with pytest.raises(IncompatibleSchemaError, match="column revenue would change type"):
        lake.publish(Zone.CURATED, retyped, table)
    assert _revenues(lake) == [2, 3, 7]
    _no_dangling_files(lake)


@pytest.mark.unit
def test_snapshots_past_the_retention_are_expired_with_their_files(tmp_path: Path) -> None:
    lake = open_lake(str(tmp_path / "lake"), CatalogSettings(snapshot_retention_days=0))
    for revenue in (1, 2, 3):
        lake.publish(Zone.CURATED, REPORTS, _table(revenue))
    table = lake.load(Zone.CURATED, "reports")
    assert len(table.snapshots()) == 1
    assert _revenues(lake) == [2, 3, 3]
    _no_dangling_files(lake)
    assert len(_data_files_on_disk(lake)) == 2  # the current snapshot's two partitions


class _InterleavingCatalog:
    """A catalog that, once armed, lets another run commit right after this one loaded
    its base table."""

    def __init__(self, catalog: Any) -> None:
        self._catalog = catalog
        self.meanwhile: Callable[[], object] | None = None

    def __getattr__(self, name: str) -> Any:
        return getattr(self._catalog, name)

    def load_table(self, identifier: Any) -> Any:
        table = self._catalog.load_table(identifier)
        if self.meanwhile is not None:
            meanwhile, self.meanwhile = self.meanwhile, None
            meanwhile()
        return table


@pytest.mark.unit
def test_interleaved_commits_of_two_runs_lose_nothing_and_leave_no_dangling_files(
    tmp_path: Path,
) -> None:
    root = tmp_path / "lake"
    run_a = open_lake(str(root))
    run_a.publish(Zone.CURATED, REPORTS, _table(1), run_id="a0")
    staged_a = run_a.stage_arrow(Zone.CURATED, REPORTS, _table(20), run_id="a1")
    # Run B has its own connection to the same catalog.
    context = CatalogContext(CatalogSettings(), run_a.root)
    interleaving = _InterleavingCatalog(load_catalog(context))
    run_b = Lake(str(root), run_a.root, run_a.fs, lambda: interleaving)  # type: ignore[arg-type, return-value]
    staged_b = run_b.stage_arrow(Zone.CURATED, REPORTS, _table(30), run_id="b1")
    # B loads its base, then A commits before B does: B's commit conflicts, is built again
    # on A's snapshot and lands after it.
    interleaving.meanwhile = lambda: run_a.commit(staged_a)
    assert run_b.commit(staged_b).changed
    assert interleaving.meanwhile is None
    history = run_a.history(Zone.CURATED, "reports")
    assert [h["run_id"] for h in history] == ["a0", "a1", "b1"]
    assert [h["rows"] for h in history] == [3, 3, 3]  # B replaced A's rows, kept none twice
    assert _revenues(run_a) == [2, 3, 30]
    times = [datetime.fromisoformat(h["committed_at"]) for h in history]
    assert _revenues(run_a, times[1]) == [2, 3, 20]  # A's commit is not lost
    _no_dangling_files(run_a)


@pytest.mark.unit
def test_a_concurrent_run_with_the_same_content_commits_nothing(tmp_path: Path) -> None:
    root = tmp_path / "lake"
    run_a = open_lake(str(root))
    run_a.publish(Zone.CURATED, REPORTS, _table(1))
    staged_a = run_a.stage_arrow(Zone.CURATED, REPORTS, _table(5))
    run_b = open_lake(str(root))
    staged_b = run_b.stage_arrow(Zone.CURATED, REPORTS, _table(5))
    assert run_a.commit(staged_a).changed
    assert not run_b.commit(staged_b).changed
    assert len(run_a.load(Zone.CURATED, "reports").snapshots()) == 2
    _no_dangling_files(run_a)


@pytest.mark.unit
def test_unwritable_lake_is_reported_before_any_write(tmp_path: Path) -> None:
    if os.geteuid() == 0:
        target: Path | str = "/proc/etl-lake"  # root ignores permission bits
    else:
        target = tmp_path / "ro"
        target.mkdir()
        target.chmod(stat.S_IRUSR | stat.S_IXUSR)
    with pytest.raises(StoreUnavailableError, match="is not writable"):
        open_lake(str(target)).check_writable()


@pytest.mark.unit
def test_unsupported_uris_and_catalogs_are_configuration_errors(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="unsupported lake URI"):
        open_lake("gs://bucket/x")
    with pytest.raises(ConfigError, match="needs an S3 filesystem"):
        open_lake("s3://bucket/x")
    s3_lake = open_lake("s3://bucket/x", s3=open_lake(str(tmp_path)).fs)
    with pytest.raises(ConfigError, match="needs ETL_CATALOG__URI"):
        s3_lake.load(Zone.CURATED, "reports")
    with pytest.raises(ConfigError, match="unknown catalog type in ETL_CATALOG__TYPE 'hive'"):
        open_lake(str(tmp_path), CatalogSettings(type="hive")).load(Zone.CURATED, "x")


@pytest.mark.aws
def test_s3_lake_contract_on_moto(moto: MotoServer, tmp_path: Path) -> None:
    settings = moto.settings()
    bucket = f"lake-{uuid.uuid4().hex[:8]}"
    client(boto3_session(settings), "s3", moto.endpoint_url).create_bucket(Bucket=bucket)
    catalog = CatalogSettings(uri=SecretStr(f"sqlite:///{tmp_path / 'catalog.db'}"))
    lake = open_lake(
        f"s3://{bucket}/sp500",
        catalog,
        s3=s3_filesystem(settings),
        io_properties=iceberg_io_properties(settings),
    )
    lake.check_writable()
    _contract(lake)
    table = lake.load(Zone.CURATED, "reports")
    assert table.location() == f"s3://{bucket}/sp500/curated/reports"
    assert table.current_snapshot().summary[RUN_PROPERTY] == "run-3"  # type: ignore[union-attr, index]


@pytest.mark.unit
def test_content_hash_ignores_chunking_but_not_content() -> None:
    n = 150_000  # spans several hashing slices
    table = pa.table({"x": list(range(n)), "s": [None if i % 3 else str(i) for i in range(n)]})
    rechunked = pa.concat_tables([table.slice(0, 10), table.slice(10, 70_000), table.slice(70_010)])
    assert content_hash(rechunked) == content_hash(table)
    assert content_hash(table.slice(1)) != content_hash(table)
