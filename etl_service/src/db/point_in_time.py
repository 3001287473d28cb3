"""The curated tables as the lake held them at a past moment, as a database to query.

Time travel reads each Iceberg table at the snapshot that was current at that moment
(through the catalog) into an in-memory SQLite database with the same tables, so every
analytical query in ``queries`` runs on the past unchanged.
"""

from __future__ import annotations

import logging
from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.pool import StaticPool

from etl_service.errors import InputError
from etl_service.src.db.lake import Lake
from etl_service.src.db.tables import TABLES, metadata
from etl_service.src.models.schemas import CURATED_TABLES, Zone

logger = logging.getLogger(__name__)


def database_as_of(lake: Lake, when: datetime) -> sa.Engine:
    """An in-memory database holding the lake's curated tables as of ``when``."""
    engine = sa.create_engine("sqlite://", poolclass=StaticPool)
    tables = [TABLES[spec.name] for spec in CURATED_TABLES]
    metadata.create_all(engine, tables=tables)
    with engine.begin() as conn:
        for spec in CURATED_TABLES:
            try:
                past = lake.read(Zone.CURATED, spec.name, when)
            except InputError:
                continue  # not in the lake (a lake-less or older run): no rows
            # A snapshot older than a column added since has no such column: null there.
            rows = past.select([c for c in spec.column_names if c in past.column_names]).to_pylist()
            if rows:
                conn.execute(TABLES[spec.name].insert(), rows)
    logger.info("querying the lake %s as of %s", lake.uri, when.isoformat())
    return engine
