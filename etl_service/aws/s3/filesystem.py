"""S3 access for any S3-compatible endpoint (AWS, moto, MinIO): a pyarrow filesystem for the
raw zone and staged files, and the same access as pyiceberg FileIO properties."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any
from urllib.parse import urlparse

import pyarrow.fs as pafs

from etl_service.settings import Settings


@dataclass(frozen=True)
class S3Access:
    """Region, endpoint and credentials of S3 (None: AWS's defaults apply)."""

    region: str
    endpoint: str | None = None
    scheme: str = "https"
    access_key: str | None = None
    secret_key: str | None = None
    session_token: str | None = None


def s3_access(settings: Settings, session: Any | None = None) -> S3Access:
    """The settings' region, endpoint and credentials.

    An injected boto3 ``session`` supplies the credentials; otherwise a profile needs boto3
    (the ``aws`` extra), explicit keys are passed as they are, and with neither the default
    AWS credential chain applies.

    Raises:
        NotInstalledError: a profile is set and boto3 is not installed.
        ConfigError: the profile is unknown or yields no credentials.
    """
    endpoint, scheme = None, "https"
    if settings.aws_endpoint_url:
        parsed = urlparse(settings.aws_endpoint_url)
        endpoint = parsed.netloc or settings.aws_endpoint_url
        scheme = parsed.scheme or "https"
    key, secret = settings.aws_access_key_id, settings.aws_secret_access_key
    if session is not None or settings.aws_profile:
        from etl_service.aws.session import boto3_session, frozen_credentials

        # pyarrow cannot read AWS profiles, so boto3 resolves them. The keys are a snapshot:
        # role credentials that expire during a run are not refreshed.
        credentials = frozen_credentials(session or boto3_session(settings))
        return S3Access(
            settings.aws_region,
            endpoint,
            scheme,
            credentials.access_key,
            credentials.secret_key,
            credentials.token,
        )
    if key and secret:
        return S3Access(
            settings.aws_region, endpoint, scheme, key.get_secret_value(), secret.get_secret_value()
        )
    return S3Access(settings.aws_region, endpoint, scheme)


def s3_filesystem(settings: Settings, session: Any | None = None) -> pafs.S3FileSystem:
    """A pyarrow S3 filesystem with the settings' access (see ``s3_access``)."""
    access = s3_access(settings, session)
    options: dict[str, object] = {"region": access.region}
    if access.endpoint:
        options["endpoint_override"] = access.endpoint
        options["scheme"] = access.scheme
    if access.access_key and access.secret_key:
        options["access_key"] = access.access_key
        options["secret_key"] = access.secret_key
        options["session_token"] = access.session_token
    return pafs.S3FileSystem(**options)


def iceberg_io_properties(settings: Settings, session: Any | None = None) -> dict[str, str]:
    """pyiceberg FileIO properties with the settings' access (see ``s3_access``)."""
    access = s3_access(settings, session)
    properties = {"s3.region": access.region}
    if access.endpoint:
        properties["s3.endpoint"] = f"{access.scheme}://{access.endpoint}"
    if access.access_key and access.secret_key:
        properties["s3.access-key-id"] = access.access_key
        properties["s3.secret-access-key"] = access.secret_key
        if access.session_token:
            properties["s3.session-token"] = access.session_token
    return properties
