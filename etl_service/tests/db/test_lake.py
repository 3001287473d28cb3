"""The Parquet lake on a local folder and on S3 (moto): atomic publish, no-op reruns."""

from __future__ import annotations

import os
import stat
import uuid
from pathlib import Path

import pyarrow as pa
import pytest
from pydantic import SecretStr

from etl_service.aws.s3.filesystem import s3_filesystem
from etl_service.aws.session import boto3_session, client
from etl_service.errors import ConfigError, LoadError, StoreUnavailableError
from etl_service.settings import Settings
from etl_service.src.db.lake import MANIFEST, Lake, open_lake
from etl_service.src.models.schemas import Zone
from etl_service.tests.support.services import MotoServer


def _table(revenue: int) -> pa.Table:
    return pa.table(
        {
            "cik": ["1", "1", "2"],
            "fiscal_year": [2023, 2024, 2024],
            "revenue": [revenue, 2, 3],
        }
    )


def _contract(lake: Lake) -> None:
    first = lake.publish(Zone.CURATED, "quarterly_reports", _table(1), ["fiscal_year"])
    assert first.changed
    again = lake.publish(Zone.CURATED, "quarterly_reports", _table(1), ["fiscal_year"])
    assert (again.changed, again.version) == (False, first.version)
    second = lake.publish(Zone.CURATED, "quarterly_reports", _table(10), ["fiscal_year"])
    assert second.changed
    assert second.version != first.version
    back = lake.read(Zone.CURATED, "quarterly_reports").sort_by("revenue")
    assert back.column("revenue").to_pylist() == [2, 3, 10]
    assert sorted(set(back.column("fiscal_year").to_pylist())) == [2023, 2024]
    third = lake.publish(Zone.CURATED, "quarterly_reports", _table(20), ["fiscal_year"])
    manifest = lake.manifest(Zone.CURATED, "quarterly_reports")
    assert manifest is not None
    assert (manifest["version"], manifest["previous"]) == (third.version, second.version)


@pytest.mark.unit
def test_local_lake_contract(tmp_path: Path) -> None:
    lake = open_lake(str(tmp_path / "lake"))
    _contract(lake)
    versions = sorted(p.name for p in (tmp_path / "lake/curated/quarterly_reports").iterdir())
    assert len(versions) == 3  # two versions kept (current and previous) plus the manifest
    assert MANIFEST in versions


@pytest.mark.unit
def test_a_staged_version_stays_invisible_until_committed(tmp_path: Path) -> None:
    lake = open_lake(str(tmp_path / "lake"))
    lake.publish(Zone.CURATED, "t", _table(1))
    staged = lake.stage(Zone.CURATED, "t", _table(5))
    assert lake.read(Zone.CURATED, "t").column("revenue").to_pylist() == [1, 2, 3]
    lake.discard(staged)
    assert not Path(staged.path).exists()
    lake.commit(lake.stage(Zone.CURATED, "t", _table(5)))
    assert lake.read(Zone.CURATED, "t").column("revenue").to_pylist() == [5, 2, 3]


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
def test_unsupported_uris_are_configuration_errors() -> None:
    with pytest.raises(ConfigError, match="unsupported lake URI"):
        open_lake("gs://bucket/x")
    with pytest.raises(ConfigError, match="needs an S3 filesystem"):
        open_lake("s3://bucket/x")


@pytest.mark.aws
def test_s3_lake_contract_on_moto(moto: MotoServer) -> None:
    settings = Settings(
        aws_endpoint_url=moto.endpoint_url,
        aws_region=moto.region,
        aws_access_key_id=SecretStr(moto.access_key),
        aws_secret_access_key=SecretStr(moto.secret_key),
    )
    bucket = f"lake-{uuid.uuid4().hex[:8]}"
    client(boto3_session(settings), "s3", moto.endpoint_url).create_bucket(Bucket=bucket)
    fs = s3_filesystem(settings)
    lake = open_lake(f"s3://{bucket}/sp500", fs)
    lake.check_writable()
    _contract(lake)
    with pytest.raises(LoadError, match="lake s3://nope-missing/x"):
        open_lake("s3://nope-missing/x", fs).publish(Zone.CURATED, "t", _table(1))


@pytest.mark.unit
def test_content_hash_ignores_chunking_but_not_content() -> None:
    from etl_service.src.db.lake import content_hash

    n = 150_000  # spans several hashing slices
    table = pa.table({"x": list(range(n)), "s": [None if i % 3 else str(i) for i in range(n)]})
    rechunked = pa.concat_tables([table.slice(0, 10), table.slice(10, 70_000), table.slice(70_010)])
    assert content_hash(rechunked) == content_hash(table)
    assert content_hash(table.slice(1)) != content_hash(table)
