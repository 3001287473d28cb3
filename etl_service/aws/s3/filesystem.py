"""A pyarrow S3 filesystem for any S3-compatible endpoint (AWS, moto, MinIO)."""

from __future__ import annotations

from urllib.parse import urlparse

import pyarrow.fs as pafs
from pydantic import SecretStr


def s3_filesystem(
    region: str,
    endpoint_url: str | None = None,
    access_key_id: SecretStr | None = None,
    secret_access_key: SecretStr | None = None,
) -> pafs.S3FileSystem:
    """Build the filesystem; without explicit keys the default AWS credential chain applies."""
    options: dict[str, object] = {"region": region}
    if endpoint_url:
        parsed = urlparse(endpoint_url)
        options["endpoint_override"] = parsed.netloc or endpoint_url
        options["scheme"] = parsed.scheme or "https"
    if access_key_id and secret_access_key:
        options["access_key"] = access_key_id.get_secret_value()
        options["secret_key"] = secret_access_key.get_secret_value()
    return pafs.S3FileSystem(**options)
