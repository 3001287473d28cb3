"""Canonical column types as Glue types, in one place: the ApplyMapping and ResolveChoice
specs of a ``TableSpec``."""

from __future__ import annotations

from etl_service.src.models.schemas import ColumnType, TableSpec

GLUE_TYPES: dict[ColumnType, str] = {
    ColumnType.STRING: "string",
    ColumnType.INT64: "long",
    ColumnType.FLOAT64: "double",
    ColumnType.BOOL: "boolean",
    ColumnType.DATE: "date",
    ColumnType.TIMESTAMP: "timestamp",
    ColumnType.JSON: "string",
    ColumnType.BINARY: "binary",
}
"""The Glue (DynamicFrame) type of each canonical type."""

Mapping = tuple[str, str, str, str]


def apply_mapping(spec: TableSpec, source_types: dict[str, str] | None = None) -> list[Mapping]:
    """``ApplyMapping`` tuples (source, source type, target, target type) onto ``spec``.

    Args:
        spec: the canonical table.
        source_types: the source columns' Glue types when they differ from the target's
            (e.g. a timestamp read from JSON as ``string``).
    """
    given = source_types or {}
    return [
        (c.name, given.get(c.name, GLUE_TYPES[c.type]), c.name, GLUE_TYPES[c.type])
        for c in spec.columns
    ]


def resolve_choice(spec: TableSpec) -> list[tuple[str, str]]:
    """``ResolveChoice`` specs casting every column of ``spec`` to its canonical type, so a
    column read with mixed types (a choice) becomes one."""
    return [(c.name, f"cast:{GLUE_TYPES[c.type]}") for c in spec.columns]
