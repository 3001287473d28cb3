"""boto3 sessions and the lake's S3 filesystem honour the AWS settings, a profile included."""

from __future__ import annotations

import sys
import uuid
from pathlib import Path

import pyarrow.fs as pafs
import pytest
from pydantic import SecretStr

from etl_service.aws.s3.filesystem import s3_filesystem
from etl_service.aws.session import boto3_session, client
from etl_service.errors import ConfigError, NotInstalledError
from etl_service.settings import Settings
from etl_service.src.db.lake import open_lake
from etl_service.tests.support.services import MotoServer

PROFILE = "etl-test"
ACCOUNT = "111122223333"  # not moto's default account, so listings show whose keys were used


@pytest.fixture(autouse=True)
def _aws_files(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """Empty AWS config and credentials files instead of the developer's, and no AWS_* keys."""
    for name in ("config", "credentials"):
        (tmp_path / f"aws_{name}").write_text("")
    monkeypatch.setenv("AWS_CONFIG_FILE", str(tmp_path / "aws_config"))
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(tmp_path / "aws_credentials"))
    for key in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN", "AWS_PROFILE"):
        monkeypatch.delenv(key, raising=False)


def _buckets(fs: pafs.S3FileSystem) -> list[str]:
    """ListBuckets, which moto answers per account: it shows whose credentials ``fs`` sends."""
    return [info.path for info in fs.get_file_info(pafs.FileSelector("/"))]


@pytest.mark.aws
def test_a_profile_reaches_boto3_clients_and_the_lake_filesystem(
    moto: MotoServer, tmp_path: Path
) -> None:
    keys = moto.settings()
    role = f"arn:aws:iam::{ACCOUNT}:role/etl"
    sts = client(boto3_session(keys), "sts", moto.endpoint_url)
    issued = sts.assume_role(RoleArn=role, RoleSessionName="etl-test")["Credentials"]
    (tmp_path / "aws_credentials").write_text(
        f"[{PROFILE}]\n"
        f"aws_access_key_id = {issued['AccessKeyId']}\n"
        f"aws_secret_access_key = {issued['SecretAccessKey']}\n"
        f"aws_session_token = {issued['SessionToken']}\n"
    )
    settings = Settings(
        aws_endpoint_url=moto.endpoint_url, aws_region=moto.region, aws_profile=PROFILE
    )

    session = boto3_session(settings)
    identity = client(session, "sts", moto.endpoint_url).get_caller_identity()
    assert identity["Account"] == ACCOUNT
    bucket = f"profile-{uuid.uuid4().hex[:8]}"
    client(session, "s3", moto.endpoint_url).create_bucket(Bucket=bucket)

    fs = s3_filesystem(settings)
    assert bucket in _buckets(fs)
    assert bucket not in _buckets(s3_filesystem(keys))
    open_lake(f"s3://{bucket}/sp500", s3=fs).check_writable()


@pytest.mark.unit
def test_an_unknown_profile_is_a_configuration_error() -> None:
    settings = Settings(aws_profile="nope")
    with pytest.raises(ConfigError, match="AWS profile 'nope' not found"):
        boto3_session(settings)
    with pytest.raises(ConfigError, match="AWS profile 'nope' not found"):
        s3_filesystem(settings)


@pytest.mark.unit
def test_boto3_is_needed_for_a_profile_only(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "boto3", None)  # import boto3 fails, as without the extra
    with pytest.raises(NotInstalledError, match=r"pip install 'etl-service\[aws\]'"):
        s3_filesystem(Settings(aws_profile=PROFILE))
    keys = Settings(aws_access_key_id=SecretStr("k"), aws_secret_access_key=SecretStr("s"))
    assert isinstance(s3_filesystem(keys), pafs.S3FileSystem)
