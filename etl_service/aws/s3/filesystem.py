"""A pyarrow S3 filesystem for any S3-compatible endpoint (AWS, moto, MinIO)."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlparse

import pyarrow.fs as pafs

from etl_service.settings import Settings


def s3_filesystem(settings: Settings, session: Any | None = None) -> pafs.S3FileSystem:
    """The filesystem of the settings' region, endpoint and credentials.

    An injected boto3 ``session`` supplies the credentials; otherwise a profile needs boto3
    (the ``aws`` extra), explicit keys are passed as they are, and with neither pyarrow's
    default AWS credential chain applies.

    Raises:
        NotInstalledError: a profile is set and boto3 is not installed.
        ConfigError: the profile is unknown or yields no credentials.
    """
    options: dict[str, object] = {"region": settings.aws_region}
    if settings.aws_endpoint_url:
        parsed = urlparse(settings.aws_endpoint_url)
        options["endpoint_override"] = parsed.netloc or settings.aws_endpoint_url
        options["scheme"] = parsed.scheme or "https"
    key, secret = settings.aws_access_key_id, settings.aws_secret_access_key
    if session is not None or settings.aws_profile:
        from etl_service.aws.session import boto3_session, frozen_credentials

        # pyarrow cannot read AWS profiles, so boto3 resolves them. The keys are a snapshot:
        # role credentials that expire during a run are not refreshed.
        credentials = frozen_credentials(session or boto3_session(settings))
        options["access_key"] = credentials.access_key
        options["secret_key"] = credentials.secret_key
        options["session_token"] = credentials.token
    elif key and secret:
        options["access_key"] = key.get_secret_value()
        options["secret_key"] = secret.get_secret_value()
    return pafs.S3FileSystem(**options)
