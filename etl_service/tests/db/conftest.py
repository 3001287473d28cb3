"""Store tests run on SQLite and on the real PostgreSQL server alike."""

from __future__ import annotations

from pathlib import Path

import pytest
import sqlalchemy as sa

from etl_service.src.db import migrate
from etl_service.src.db.engine import create_engine


@pytest.fixture(
    params=[
        pytest.param("sqlite", marks=pytest.mark.unit),
        pytest.param("postgres", marks=pytest.mark.postgres),
    ]
)
def engine(request: pytest.FixtureRequest, tmp_path: Path) -> sa.Engine:
    """A migrated database: a SQLite file, or a fresh database on the PostgreSQL server."""
    url = (
        f"sqlite:///{tmp_path / 'etl.db'}"
        if request.param == "sqlite"
        else request.getfixturevalue("postgres_url")
    )
    engine = create_engine(url)
    migrate.upgrade(engine)
    return engine
