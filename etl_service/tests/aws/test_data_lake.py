"""The lake on S3 with the Glue Data Catalog, on the moto server: ``lake setup`` brings the
bucket to its intended configuration once, and a run writes Iceberg tables Glue knows."""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterator
from typing import Any

import pytest
import sqlalchemy as sa
from pydantic import SecretStr
from pyiceberg.catalog.glue import GlueCatalog

from etl_service.aws.s3.data_lake import (
    PUBLIC_ACCESS_BLOCK,
    DataLakeBucket,
    encryption_rules,
    lifecycle_rules,
    replication_configuration,
    setup_data_lake,
)
from etl_service.aws.s3.filesystem import iceberg_io_properties
from etl_service.aws.session import boto3_session, client
from etl_service.cli import main
from etl_service.errors import ConfigError
from etl_service.settings import BucketSettings, CatalogSettings, Settings
from etl_service.src.models.schemas import CURATED_TABLES
from etl_service.tests.aws.lake_formation_support import aws_env
from etl_service.tests.pipelines.conftest import run_cli, snapshot_settings
from etl_service.tests.support.env import cli_env
from etl_service.tests.support.services import MotoServer

pytestmark = pytest.mark.aws


def _clients(moto: MotoServer) -> tuple[Any, Any]:
    session = boto3_session(moto.settings())
    return client(session, "s3", moto.endpoint_url), client(session, "glue", moto.endpoint_url)


def test_setup_configures_the_bucket_as_intended_once(moto: MotoServer) -> None:
    s3, glue = _clients(moto)
    replica = f"replica-{uuid.uuid4().hex[:8]}"
    s3.create_bucket(Bucket=replica)
    lake = DataLakeBucket(
        bucket=f"lake-{uuid.uuid4().hex[:8]}",
        prefix="sp500",
        region=moto.region,
        kms_key_id="alias/etl-lake",
        raw_infrequent_access_days=45,
        raw_archive_days=180,
        noncurrent_version_expiry_days=14,
        replication_bucket_arn=f"arn:aws:s3:::{replica}",
        replication_role_arn="arn:aws:iam::123456789012:role/etl-replication",
        databases={"sp500_t": "s3://x/sp500/curated"},
    )
    changes = setup_data_lake(s3, glue, lake)
    assert len(changes) == 7
    assert changes[0] == f"created bucket {lake.bucket} in us-east-1"
    bucket = lake.bucket
    assert s3.get_bucket_versioning(Bucket=bucket)["Status"] == "Enabled"
    encryption = s3.get_bucket_encryption(Bucket=bucket)["ServerSideEncryptionConfiguration"]
    assert encryption["Rules"] == encryption_rules(lake)
    assert encryption["Rules"][0]["ApplyServerSideEncryptionByDefault"] == {
        "SSEAlgorithm": "aws:kms",
        "KMSMasterKeyID": "alias/etl-lake",
    }
    block = s3.get_public_access_block(Bucket=bucket)["PublicAccessBlockConfiguration"]
    assert block == PUBLIC_ACCESS_BLOCK
    rules = s3.get_bucket_lifecycle_configuration(Bucket=bucket)["Rules"]
    assert rules == lifecycle_rules(lake)
    assert rules[0]["Filter"] == {"Prefix": "sp500/raw/"}
    assert rules[0]["Transitions"] == [
        {"Days": 45, "StorageClass": "STANDARD_IA"},
        {"Days": 180, "StorageClass": "GLACIER"},
    ]
    assert rules[1]["NoncurrentVersionExpiration"] == {"NoncurrentDays": 14}
    replication = s3.get_bucket_replication(Bucket=bucket)["ReplicationConfiguration"]
    assert replication == replication_configuration(lake)
    assert glue.get_database(Name="sp500_t")["Database"]["LocationUri"] == "s3://x/sp500/curated"

    assert setup_data_lake(s3, glue, lake) == []  # idempotent: nothing left to change
    s3.put_bucket_versioning(Bucket=bucket, VersioningConfiguration={"Status": "Suspended"})
    assert setup_data_lake(s3, glue, lake) == ["enabled versioning"]


def test_inconsistent_bucket_settings_are_configuration_errors(moto: MotoServer) -> None:
    s3, glue = _clients(moto)
    half = DataLakeBucket("b", "p", "us-east-1", replication_role_arn="arn:aws:iam::1:role/r")
    with pytest.raises(ConfigError, match="REPLICATION_BUCKET_ARN"):
        setup_data_lake(s3, glue, half)
    backwards = DataLakeBucket(
        "b", "p", "us-east-1", raw_infrequent_access_days=60, raw_archive_days=30
    )
    with pytest.raises(ConfigError, match="RAW_ARCHIVE_DAYS"):
        setup_data_lake(s3, glue, backwards)


@pytest.fixture(scope="module")
def glue_lake(moto: MotoServer, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Settings]:
    """``lake setup`` and a snapshot run into an s3:// lake with the Glue catalog."""
    namespace = f"sp500_{uuid.uuid4().hex[:6]}"
    settings = snapshot_settings(tmp_path_factory.mktemp("glue")).model_copy(
        update={"lake_uri": f"s3://lake-{uuid.uuid4().hex[:8]}/sp500"}
    )
    settings = settings.model_copy(
        update=dict(
            catalog=CatalogSettings(type="glue", namespace=namespace),
            bucket=BucketSettings(),
            aws_endpoint_url=moto.endpoint_url,
            aws_region=moto.region,
            aws_access_key_id=SecretStr(moto.access_key),
            aws_secret_access_key=SecretStr(moto.secret_key),
        )
    )
    with pytest.MonkeyPatch.context() as patch:
        for key, value in (cli_env(settings) | aws_env(settings)).items():
            patch.setenv(key, value)
        assert main(["lake", "setup"]) == 0
        assert run_cli(settings) == 0
        yield settings


def test_a_run_writes_iceberg_tables_registered_in_glue(
    glue_lake: Settings, moto: MotoServer
) -> None:
    _s3, glue = _clients(moto)
    namespace = glue_lake.catalog.namespace
    database = sa.create_engine(glue_lake.database_url_value)
    catalog = GlueCatalog("etl", client=glue, **iceberg_io_properties(moto.settings()))
    for spec in CURATED_TABLES:
        parameters = glue.get_table(DatabaseName=namespace, Name=spec.name)["Table"]["Parameters"]
        assert parameters["table_type"] == "ICEBERG"
        assert parameters["metadata_location"].startswith(f"{glue_lake.lake_uri}/curated/")
        with database.connect() as conn:
            rows: int = conn.execute(sa.text(f"SELECT count(*) FROM {spec.name}")).scalar_one()
        assert catalog.load_table((namespace, spec.name)).scan().count() == rows, spec.name
    processed = f"{namespace}_processed"
    assert glue.get_database(Name=processed)["Database"]["LocationUri"].endswith("/processed")


def test_the_glue_lake_lists_its_tables_and_its_bucket_is_set_up(
    glue_lake: Settings, moto: MotoServer, capsys: pytest.CaptureFixture[str]
) -> None:
    s3, _glue = _clients(moto)
    bucket = glue_lake.lake_uri.removeprefix("s3://").split("/")[0]
    assert s3.get_bucket_versioning(Bucket=bucket)["Status"] == "Enabled"
    with pytest.MonkeyPatch.context() as patch:
        for key, value in (cli_env(glue_lake) | aws_env(glue_lake)).items():
            patch.setenv(key, value)
        capsys.readouterr()
        assert main(["lake", "tables", "--format", "json"]) == 0
        tables = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
        assert main(["lake", "setup"]) == 0
    assert f"{glue_lake.catalog.namespace}.companies" in {t["table"] for t in tables}
    assert "nothing to change" in capsys.readouterr().out
