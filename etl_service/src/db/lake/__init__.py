"""The data lake: a raw zone of plain objects, and processed and curated Iceberg tables.

``open_lake`` builds it from a URI (a local folder or ``s3://bucket/prefix``), the catalog
settings and the injected S3 filesystem, FileIO properties and Glue client; see ``tables``
for the commit protocol and ``catalog`` for the catalogs.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import timedelta
from functools import partial
from pathlib import Path
from typing import Any

import pyarrow.fs as pafs

from etl_service.errors import ConfigError
from etl_service.settings import CatalogSettings
from etl_service.src.db.lake.catalog import CatalogContext, load_catalog
from etl_service.src.db.lake.digest import content_hash
from etl_service.src.db.lake.tables import (
    AsOf,
    Committed,
    Lake,
    StagedTable,
    staged_from_intent,
    staged_intent,
)

__all__ = [
    "AsOf",
    "Committed",
    "Lake",
    "StagedTable",
    "content_hash",
    "open_lake",
    "staged_from_intent",
    "staged_intent",
]


def open_lake(
    uri: str,
    catalog: CatalogSettings | None = None,
    *,
    s3: pafs.FileSystem | None = None,
    io_properties: Mapping[str, str] | None = None,
    glue_client: Any | None = None,
) -> Lake:
    """The lake at a local path or an ``s3://bucket/prefix`` URI.

    Args:
        catalog: the catalog settings (default: the embedded SQLite catalog, ``sp500``).
        s3: the S3 filesystem of an ``s3://`` lake (raw zone and staged files).
        io_properties: pyiceberg FileIO properties for S3 (endpoint, credentials).
        glue_client: the Glue client of ``ETL_CATALOG__TYPE=glue``.

    Raises:
        ConfigError: an unsupported URI, or an ``s3://`` lake without a filesystem.
    """
    settings = catalog or CatalogSettings()
    if uri.startswith("s3://"):
        if s3 is None:
            raise ConfigError("an s3:// lake needs an S3 filesystem (see ETL_AWS_* settings)")
        root, filesystem = uri.rstrip("/"), s3
    elif "://" in uri and not uri.startswith("file://"):
        raise ConfigError(f"unsupported lake URI {uri!r}: use a local path or s3://bucket/prefix")
    else:
        root = f"file://{Path(uri.removeprefix('file://')).absolute()}"
        filesystem = pafs.LocalFileSystem()
    context = CatalogContext(settings, root, dict(io_properties or {}), glue_client)
    return Lake(
        uri,
        root,
        filesystem,
        partial(load_catalog, context),
        settings.namespace,
        timedelta(days=settings.snapshot_retention_days),
    )
