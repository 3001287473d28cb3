"""Migrations go up and down on SQLite and the real PostgreSQL and match the declared schema."""

from __future__ import annotations

from pathlib import Path

import pytest
import sqlalchemy as sa
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext

from etl_service.src.db import migrate
from etl_service.src.db.engine import create_engine
from etl_service.src.db.tables import metadata
from etl_service.src.models.schemas import ALL_TABLES


def _roundtrip(url: str) -> None:
    engine = create_engine(url)
    assert migrate.current(engine) is None
    migrate.upgrade(engine)
    assert migrate.current(engine) == migrate.head()
    names = set(sa.inspect(engine).get_table_names())
    assert {t.name for t in ALL_TABLES} <= names
    with engine.connect() as conn:
        diff = compare_metadata(
            MigrationContext.configure(conn, opts={"compare_type": True}), metadata
        )
    # Indexes exist only in the migration (they are physical design, not the canonical schema).
    assert [d for d in diff if d[0] != "remove_index"] == []
    for spec in ALL_TABLES:
        pk = sa.inspect(engine).get_pk_constraint(spec.name)["constrained_columns"]
        assert tuple(pk) == spec.key, spec.name
    migrate.downgrade(engine)
    assert migrate.current(engine) is None
    assert set(sa.inspect(engine).get_table_names()) <= {"alembic_version"}
    migrate.upgrade(engine)  # and up again: downgrade left nothing behind that blocks it
    assert migrate.current(engine) == migrate.head()
    engine.dispose()


@pytest.mark.unit
def test_migrations_roundtrip_on_sqlite(tmp_path: Path) -> None:
    _roundtrip(f"sqlite:///{tmp_path / 'nested' / 'etl.db'}")


@pytest.mark.postgres
def test_migrations_roundtrip_on_postgres(postgres_url: str) -> None:
    _roundtrip(postgres_url)


@pytest.mark.unit
def test_unique_natural_keys_are_enforced(tmp_path: Path) -> None:
    engine = create_engine(f"sqlite:///{tmp_path / 'etl.db'}")
    migrate.upgrade(engine)
    row = {"sub_industry": "Semiconductors", "sector": "Information Technology"}
    with engine.begin() as conn:
        conn.execute(sa.insert(metadata.tables["sub_industries"]), [row])
    with pytest.raises(sa.exc.IntegrityError), engine.begin() as conn:
        conn.execute(sa.insert(metadata.tables["sub_industries"]), [row])
