"""The one place that builds boto3 sessions and clients from the settings."""

from __future__ import annotations

from typing import TYPE_CHECKING, Literal, overload

from etl_service.errors import ConfigError, NotInstalledError
from etl_service.settings import Settings

if TYPE_CHECKING:
    import boto3
    from botocore.client import BaseClient
    from botocore.credentials import ReadOnlyCredentials
    from mypy_boto3_ecs import ECSClient
    from mypy_boto3_glue import GlueClient
    from mypy_boto3_lakeformation import LakeFormationClient
    from mypy_boto3_rds import RDSClient
    from mypy_boto3_s3 import S3Client
    from mypy_boto3_sts import STSClient


def boto3_session(settings: Settings) -> boto3.Session:
    """A session with the settings' profile, region and keys; unset ones use AWS's defaults.

    Raises:
        NotInstalledError: boto3 (the ``aws`` extra) is not installed.
        ConfigError: the profile is not in the AWS config or credentials files.
    """
    try:
        import boto3
        from botocore.exceptions import ProfileNotFound
    except ImportError as exc:
        raise NotInstalledError("boto3", "aws") from exc
    key, secret = settings.aws_access_key_id, settings.aws_secret_access_key
    try:
        return boto3.Session(
            profile_name=settings.aws_profile,
            region_name=settings.aws_region,
            aws_access_key_id=key.get_secret_value() if key else None,
            aws_secret_access_key=secret.get_secret_value() if secret else None,
        )
    except ProfileNotFound as exc:
        raise ConfigError(f"AWS profile {settings.aws_profile!r} not found") from exc


def frozen_credentials(session: boto3.Session) -> ReadOnlyCredentials:
    """The session's credentials now, for clients that cannot take a boto3 session.

    Raises:
        ConfigError: no credentials could be found for the session.
    """
    credentials = session.get_credentials()
    if credentials is None:
        raise ConfigError(f"no AWS credentials found for profile {session.profile_name!r}")
    return credentials.get_frozen_credentials()


@overload
def client(
    session: boto3.Session, service: Literal["s3"], endpoint_url: str | None
) -> S3Client: ...
@overload
def client(
    session: boto3.Session, service: Literal["glue"], endpoint_url: str | None
) -> GlueClient: ...
@overload
def client(
    session: boto3.Session, service: Literal["lakeformation"], endpoint_url: str | None
) -> LakeFormationClient: ...
@overload
def client(
    session: boto3.Session, service: Literal["sts"], endpoint_url: str | None
) -> STSClient: ...
@overload
def client(
    session: boto3.Session, service: Literal["ecs"], endpoint_url: str | None
) -> ECSClient: ...
@overload
def client(
    session: boto3.Session, service: Literal["rds"], endpoint_url: str | None
) -> RDSClient: ...
def client(session: boto3.Session, service: str, endpoint_url: str | None) -> BaseClient:
    """A client of ``service``, at ``endpoint_url`` (moto, MinIO, LocalStack) when given."""
    made: BaseClient = session.client(service, endpoint_url=endpoint_url)  # type: ignore[call-overload]
    return made
