"""SQLAlchemy Core tables mapped from the canonical schemas (the only SQL type mapping)."""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa

from etl_service.src.models.schemas import ALL_TABLES, ColumnType, TableSpec

metadata = sa.MetaData()

_SQL_TYPES: dict[ColumnType, sa.types.TypeEngine[Any]] = {
    ColumnType.STRING: sa.Text(),
    ColumnType.INT64: sa.BigInteger(),
    ColumnType.FLOAT64: sa.Double(),
    ColumnType.BOOL: sa.Boolean(),
    ColumnType.DATE: sa.Date(),
    ColumnType.TIMESTAMP: sa.DateTime(timezone=True),
    ColumnType.JSON: sa.JSON(),
    ColumnType.BINARY: sa.LargeBinary(),
}


def sql_type(column_type: ColumnType) -> sa.types.TypeEngine[Any]:
    """The SQLAlchemy type of a canonical column type."""
    return _SQL_TYPES[column_type]


def _table(spec: TableSpec) -> sa.Table:
    return sa.Table(
        spec.name,
        metadata,
        *(sa.Column(c.name, sql_type(c.type), nullable=c.nullable) for c in spec.columns),
        sa.PrimaryKeyConstraint(*spec.key, name=f"pk_{spec.name}"),
    )


TABLES: dict[str, sa.Table] = {spec.name: _table(spec) for spec in ALL_TABLES}
