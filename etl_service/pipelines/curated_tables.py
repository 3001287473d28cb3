"""Reading the curated tables back from a store, for the exports: the database or the lake."""

from __future__ import annotations

from collections.abc import Sequence
from enum import StrEnum
from typing import TYPE_CHECKING, Any

import pyarrow as pa
import sqlalchemy as sa

from etl_service.errors import ConfigError
from etl_service.pipelines.compose import build_lake
from etl_service.settings import Settings
from etl_service.src.db import migrate
from etl_service.src.db.reader import read_tables
from etl_service.src.models.schemas import CURATED_TABLES, TableSpec, Zone

if TYPE_CHECKING:
    from etl_service.src.db.lake import Lake


class ExportSource(StrEnum):
    """Where an export reads the curated tables."""

    DATABASE = "database"
    LAKE = "lake"


def choose_tables(names: Sequence[str]) -> list[TableSpec]:
    """The curated tables named (all when none is); ConfigError lists the known names."""
    known = {spec.name: spec for spec in CURATED_TABLES}
    unknown = sorted(set(names) - set(known))
    if unknown:
        raise ConfigError(f"unknown tables {unknown}: choose from {', '.join(known)}")
    return [spec for spec in CURATED_TABLES if not names or spec.name in names]


def read_lake_tables(lake: Lake, specs: Sequence[TableSpec]) -> dict[str, pa.Table]:
    """The curated tables as the lake publishes them: an export's one read of the lake."""
    return {spec.name: lake.read(Zone.CURATED, spec.name) for spec in specs}


def read_curated(
    settings: Settings,
    specs: Sequence[TableSpec],
    source: ExportSource,
    database: sa.Engine | None = None,
    lake: Lake | None = None,
    boto3_session: Any | None = None,
) -> dict[str, pa.Table]:
    """The ``specs`` tables from ``source`` (the injected store, else the configured one).

    Raises:
        ConfigError: the database holds no tables yet.
        StoreUnavailableError: the store cannot be reached.
    """
    if source is ExportSource.LAKE:
        return read_lake_tables(lake or build_lake(settings, boto3_session), specs)
    from etl_service.pipelines.compose import build_database

    database = database or build_database(settings, create=False)
    if migrate.current(database) is None:
        where = database.url.render_as_string(hide_password=True)
        raise ConfigError(f"{where} holds no tables yet: run `etl-service run` first")
    return read_tables(database, specs)
