"""Canonical ``TableSpec`` → Iceberg schema and partition spec, and their evolution.

Every lake column is optional: the database and the quality gates enforce not-null keys,
and files written by any engine (Spark marks most columns nullable) must fit the table.
Field ids are assigned in column order on creation; later columns are added with fresh ids,
so a table written by an earlier release keeps its files readable.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from pyiceberg.partitioning import PartitionField, PartitionSpec
from pyiceberg.schema import Schema
from pyiceberg.transforms import IdentityTransform
from pyiceberg.types import (
    BinaryType,
    BooleanType,
    DateType,
    DoubleType,
    IcebergType,
    LongType,
    NestedField,
    StringType,
    TimestamptzType,
)

from etl_service.errors import IncompatibleSchemaError
from etl_service.src.models.schemas import ColumnType, TableSpec

if TYPE_CHECKING:
    from pyiceberg.table import Transaction

ICEBERG_TYPES: dict[ColumnType, IcebergType] = {
    ColumnType.STRING: StringType(),
    ColumnType.INT64: LongType(),
    ColumnType.FLOAT64: DoubleType(),
    ColumnType.BOOL: BooleanType(),
    ColumnType.DATE: DateType(),
    ColumnType.TIMESTAMP: TimestamptzType(),
    ColumnType.JSON: StringType(),
    ColumnType.BINARY: BinaryType(),
}

FIRST_PARTITION_FIELD_ID = 1000


def iceberg_schema(spec: TableSpec) -> Schema:
    """The Iceberg schema of a canonical table (field ids 1..n in column order)."""
    return Schema(
        *[
            NestedField(i, c.name, ICEBERG_TYPES[c.type], required=False, doc=c.doc or None)
            for i, c in enumerate(spec.columns, start=1)
        ]
    )


def partition_spec(spec: TableSpec, schema: Schema) -> PartitionSpec:
    """Identity partitions on ``spec.partition_by``, resolved against ``schema``'s field ids."""
    return PartitionSpec(
        *[
            PartitionField(schema.find_field(name).field_id, i, IdentityTransform(), name)
            for i, name in enumerate(spec.partition_by, start=FIRST_PARTITION_FIELD_ID)
        ]
    )


def evolve(transaction: Transaction, spec: TableSpec, label: str) -> list[str]:
    """Stage in ``transaction`` what makes its table (named ``label``) take ``spec``.

    New columns are added (additive); partition fields follow ``spec.partition_by``.

    Returns:
        The changes staged, as phrases for the log (empty: the table already fits).

    Raises:
        IncompatibleSchemaError: a column was removed or changed type, which would break the
            table's readers and its earlier snapshots.
    """
    current = transaction.table_metadata.schema()
    _refuse_breaking_changes(label, current, spec)
    added = [c for c in spec.columns if c.name not in current.column_names]
    if added:
        with transaction.update_schema() as update:
            for column in added:
                update.add_column(column.name, ICEBERG_TYPES[column.type], doc=column.doc or None)
    changes = [f"added column {c.name}" for c in added]
    partitioned = [f.name for f in transaction.table_metadata.spec().fields]
    if partitioned != list(spec.partition_by):
        with transaction.update_spec() as update_spec:
            for field in partitioned:
                update_spec.remove_field(field)
            for column_name in spec.partition_by:
                update_spec.add_identity(column_name)
        changes.append(f"partitioned by {', '.join(spec.partition_by) or 'nothing'}")
    return changes


def _refuse_breaking_changes(table: str, current: Schema, spec: TableSpec) -> None:
    wanted = {c.name: ICEBERG_TYPES[c.type] for c in spec.columns}
    for field in current.fields:
        if field.name not in wanted:
            raise IncompatibleSchemaError(
                f"lake table {table}: column {field.name} is no longer in the canonical schema; "
                "dropping a column is a breaking change (migrate the table by hand)"
            )
        if field.field_type != wanted[field.name]:
            raise IncompatibleSchemaError(
                f"lake table {table}: column {field.name} would change type from "
                f"{field.field_type} to {wanted[field.name]}, a breaking change"
            )
