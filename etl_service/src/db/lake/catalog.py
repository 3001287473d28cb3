"""The lake's Iceberg catalogs behind one code path: embedded SQL (SQLite) or AWS Glue.

``load_catalog`` resolves ``ETL_CATALOG__TYPE`` through ``AVAILABLE_CATALOGS``, the way
pyiceberg's own ``load_catalog`` does, and builds the catalog with the injected clients.
Both are named ``etl``; the embedded one is the file ``catalog.db`` at the lake root.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from etl_service.errors import ConfigError, NotInstalledError
from etl_service.plugins import resolve
from etl_service.settings import CatalogSettings

if TYPE_CHECKING:
    from pyiceberg.catalog import Catalog

CATALOG_NAME = "etl"
CATALOG_FILE = "catalog.db"


@dataclass(frozen=True)
class CatalogContext:
    """What a catalog is built with: its settings, the lake root and the injected clients."""

    settings: CatalogSettings
    root_uri: str
    """``file:///…`` or ``s3://bucket/prefix``."""
    io_properties: Mapping[str, str] = field(default_factory=dict)
    """pyiceberg FileIO properties (S3 endpoint, region, credentials)."""
    glue_client: Any | None = None


AVAILABLE_CATALOGS: dict[str, str] = {
    "sql": "etl_service.src.db.lake.catalog:sql_catalog",
    "glue": "etl_service.src.db.lake.catalog:glue_catalog",
}
"""Every catalog type by name, as ``module:function`` taking a ``CatalogContext``."""


def load_catalog(context: CatalogContext) -> Catalog:
    """The catalog of ``context.settings.type``.

    Raises:
        ConfigError: an unknown type, or a setting the type needs is missing.
        NotInstalledError: the type's backend is not installed.
    """
    loader: Callable[[CatalogContext], Catalog] = resolve(
        AVAILABLE_CATALOGS, context.settings.type, "catalog type in ETL_CATALOG__TYPE"
    )
    return loader(context)


def sql_catalog(context: CatalogContext) -> Catalog:
    """The SQL catalog: ``ETL_CATALOG__URI``, or SQLite in ``catalog.db`` at a local lake root."""
    from pyiceberg.catalog.sql import SqlCatalog

    if context.settings.uri is not None:
        uri = context.settings.uri.get_secret_value()
    elif context.root_uri.startswith("file://"):
        root = Path(context.root_uri.removeprefix("file://"))
        root.mkdir(parents=True, exist_ok=True)
        uri = f"sqlite:///{root / CATALOG_FILE}"
    else:
        raise ConfigError(
            f"the lake {context.root_uri} is not a local folder, so its SQL catalog needs "
            "ETL_CATALOG__URI (a database URL), or use ETL_CATALOG__TYPE=glue"
        )
    return SqlCatalog(CATALOG_NAME, uri=uri, warehouse=context.root_uri, **context.io_properties)


def glue_catalog(context: CatalogContext) -> Catalog:
    """The AWS Glue Data Catalog through the injected Glue client."""
    try:
        from pyiceberg.catalog.glue import GlueCatalog
    except ImportError as exc:
        raise NotInstalledError("the Glue catalog (boto3)", "aws") from exc
    if context.glue_client is None:
        raise ConfigError("ETL_CATALOG__TYPE=glue needs a Glue client (see ETL_AWS_* settings)")
    return GlueCatalog(
        CATALOG_NAME,
        client=context.glue_client,
        warehouse=context.root_uri,
        **context.io_properties,
    )
