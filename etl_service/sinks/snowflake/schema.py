"""Canonical tables in Snowflake: the one type mapping, the DDL, and schema evolution.

Additive changes are applied: a new nullable column (``ALTER TABLE … ADD COLUMN``), a NOT
NULL column the spec makes nullable, a nullable column the spec no longer has (kept, left
null in new rows). Any other difference (a changed type, a new NOT NULL column) is breaking
and stops the export before anything is written, naming the table and the column.

Identifiers are upper case and quoted, so they read unquoted in Snowflake (``SELECT ticker
FROM companies``) and match the Parquet columns case-insensitively.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from etl_service.errors import SchemaError
from etl_service.src.models.schemas import Column, ColumnType, TableSpec


@dataclass(frozen=True)
class SnowflakeType:
    """How one canonical type is declared, and how INFORMATION_SCHEMA.COLUMNS reports it."""

    ddl: str
    reported: str
    scale: int | None = None


SNOWFLAKE_TYPES: dict[ColumnType, SnowflakeType] = {
    ColumnType.STRING: SnowflakeType("VARCHAR", "TEXT"),
    ColumnType.INT64: SnowflakeType("NUMBER(38,0)", "NUMBER", 0),
    ColumnType.FLOAT64: SnowflakeType("FLOAT", "FLOAT"),
    ColumnType.BOOL: SnowflakeType("BOOLEAN", "BOOLEAN"),
    ColumnType.DATE: SnowflakeType("DATE", "DATE"),
    ColumnType.TIMESTAMP: SnowflakeType("TIMESTAMP_TZ", "TIMESTAMP_TZ"),
    # JSON stays text: COPY with MATCH_BY_COLUMN_NAME cannot PARSE_JSON into a VARIANT.
    ColumnType.JSON: SnowflakeType("VARCHAR", "TEXT"),
    ColumnType.BINARY: SnowflakeType("BINARY", "BINARY"),
}
"""The Snowflake type of every canonical column type."""


@dataclass(frozen=True)
class ExistingColumn:
    """A column of a table in Snowflake, as INFORMATION_SCHEMA.COLUMNS reports it."""

    name: str
    data_type: str
    nullable: bool
    scale: int | None = None

    def declared(self) -> str:
        return f"{self.data_type}(scale {self.scale})" if self.scale else self.data_type


def ident(name: str) -> str:
    """The quoted upper-case identifier of a canonical name."""
    return '"' + name.upper().replace('"', '""') + '"'


def column_ddl(column: Column) -> str:
    """``"NAME" TYPE [NOT NULL]`` of a canonical column."""
    not_null = "" if column.nullable else " NOT NULL"
    return f"{ident(column.name)} {SNOWFLAKE_TYPES[column.type].ddl}{not_null}"


def create_table_sql(spec: TableSpec, table: str, *, transient: bool = False) -> str:
    """CREATE TABLE for ``spec`` named ``table``: the target (with its natural key) or staging."""
    columns = [column_ddl(c) for c in spec.columns]
    if transient:  # staging: no constraints, no Fail-safe, no Time Travel
        columns = [f"{ident(c.name)} {SNOWFLAKE_TYPES[c.type].ddl}" for c in spec.columns]
        return (
            f"CREATE TRANSIENT TABLE {table} ({', '.join(columns)}) DATA_RETENTION_TIME_IN_DAYS = 0"
        )
    key = ", ".join(ident(k) for k in spec.key)
    return f"CREATE TABLE IF NOT EXISTS {table} ({', '.join(columns)}, PRIMARY KEY ({key}))"


def evolve_sql(spec: TableSpec, table: str, existing: Iterable[ExistingColumn]) -> list[str]:
    """The DDL that brings an existing ``table`` to ``spec``; SchemaError on a breaking change.

    A new nullable column is added; a NOT NULL column the spec makes nullable is relaxed.

    Args:
        spec: the canonical table.
        table: the table's full name, for the statements and the error.
        existing: its columns in Snowflake (none: the table does not exist yet).

    Raises:
        SchemaError: a column's type differs, a new column is NOT NULL, or a NOT NULL
            column of the table is no longer in the spec.
    """
    have = {c.name.upper(): c for c in existing}
    if not have:
        return []
    wanted = {c.name.upper(): c for c in spec.columns}
    for name, column in have.items():
        if name not in wanted and not column.nullable:
            raise SchemaError(
                "a NOT NULL column is no longer in the table's spec, so new rows could not be "
                "merged: drop the column in Snowflake or restore it",
                source=table,
                field=name,
            )
    statements = []
    for name, spec_column in wanted.items():
        target = SNOWFLAKE_TYPES[spec_column.type]
        found = have.get(name)
        if found is None:
            if not spec_column.nullable:
                raise SchemaError(
                    "a new NOT NULL column cannot be added to existing rows: add it in "
                    f"Snowflake with a default, or make it nullable ({target.ddl})",
                    source=table,
                    field=name,
                )
            statements.append(f"ALTER TABLE {table} ADD COLUMN {column_ddl(spec_column)}")
        elif found.data_type != target.reported or (found.scale or 0) != (target.scale or 0):
            raise SchemaError(
                f"type changed from {found.declared()} in Snowflake to {target.ddl} "
                f"({spec_column.type}); a type change is not applied automatically: migrate "
                "or drop the table in Snowflake",
                source=table,
                field=name,
            )
        elif spec_column.nullable and not found.nullable:
            statements.append(f"ALTER TABLE {table} ALTER COLUMN {ident(name)} DROP NOT NULL")
    return statements
