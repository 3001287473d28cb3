"""The statements of an export: PUT, COPY INTO a staging table, MERGE; and COPY's errors.

The MERGE updates a row only when a value differs (``IS DISTINCT FROM``), so a rerun on the
same data writes nothing. A ``SYNC`` table is a snapshot of the source: its target rows
whose key is no longer staged come into the MERGE's source marked for deletion, so the
upsert and the deletes are one statement (Snowflake's MERGE has no ``NOT MATCHED BY
SOURCE``).
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from pathlib import Path

from etl_service.errors import CopyError
from etl_service.sinks.snowflake.schema import ident
from etl_service.src.models.schemas import LoadMode, TableSpec

DELETE_MARK = ident("_etl_delete")

PARQUET = "TYPE = PARQUET USE_LOGICAL_TYPE = TRUE BINARY_AS_TEXT = FALSE"
"""Parquet's own types (dates, timestamps, binary) decide the values, not text conversion."""


def put_sql(folder: Path, stage_path: str, parallel: int) -> str:
    """Upload every Parquet file of ``folder`` (already compressed) to ``stage_path``."""
    files = str(folder / "*.parquet").replace("'", "\\'")
    return (
        f"PUT 'file://{files}' {stage_path} PARALLEL = {parallel} AUTO_COMPRESS = FALSE "
        "OVERWRITE = TRUE"
    )


def copy_sql(table: str, stage_path: str, *, purge: bool = True) -> str:
    """Load every file under ``stage_path`` into ``table`` by column name, all or nothing."""
    return (
        f"COPY INTO {table} FROM {stage_path} FILE_FORMAT = ({PARQUET}) "
        "MATCH_BY_COLUMN_NAME = CASE_INSENSITIVE ON_ERROR = ABORT_STATEMENT"
        + (" PURGE = TRUE" if purge else "")
    )


def merge_sql(spec: TableSpec, target: str, staging: str) -> str:
    """Upsert ``staging`` into ``target`` on the natural key; a SYNC table also deletes."""
    names = [ident(c) for c in spec.column_names]
    keys = [ident(k) for k in spec.key]
    others = [n for n in names if n not in keys]
    source, whens = staging, []
    if spec.load_mode is LoadMode.SYNC:
        staged = " AND ".join(f"n.{k} = d.{k}" for k in keys)
        source = (
            f"(SELECT {', '.join(names)}, FALSE AS {DELETE_MARK} FROM {staging} UNION ALL "
            f"SELECT {', '.join(f'd.{n}' for n in names)}, TRUE FROM {target} AS d "
            f"WHERE NOT EXISTS (SELECT 1 FROM {staging} AS n WHERE {staged}))"
        )
        whens.append(f"WHEN MATCHED AND s.{DELETE_MARK} THEN DELETE")
    if others:
        differs = " OR ".join(f"t.{n} IS DISTINCT FROM s.{n}" for n in others)
        sets = ", ".join(f"{n} = s.{n}" for n in others)
        whens.append(f"WHEN MATCHED AND ({differs}) THEN UPDATE SET {sets}")
    values = ", ".join(f"s.{n}" for n in names)
    whens.append(f"WHEN NOT MATCHED THEN INSERT ({', '.join(names)}) VALUES ({values})")
    on = " AND ".join(f"t.{k} = s.{k}" for k in keys)
    return f"MERGE INTO {target} AS t USING {source} AS s ON {on} " + " ".join(whens)


_POSITION = re.compile(
    r"File '(?P<file>[^']+)', line \d+, character \d+\s+"
    r"Row (?P<row>\d+)(?: starts at line \d+)?, column (?P<column>\S+)"
)


def copy_error(table: str, message: str, files: Sequence[str]) -> CopyError:
    """The error of a failed COPY INTO ``table``, naming the file and row Snowflake reports.

    Args:
        table: the table loaded.
        message: the server's message, e.g. ``Numeric value 'x' is not recognized  File
            'stage/part-0.parquet', line 3, character 9  Row 3, column "T"["N":2] ...``.
        files: the files staged for the table, named when the message names none.
    """
    found = _POSITION.search(message)
    reason = (message[: found.start()] if found else message).strip().splitlines()
    what = reason[0].strip() if reason else "rejected"
    if found is None:
        return CopyError(
            f"COPY INTO {table} failed: {what} (the endpoint named no file or row; staged "
            f"files: {', '.join(files)})"
        )
    row = int(found["row"])
    return CopyError(
        f"COPY INTO {table} failed at file {found['file']}, row {row}, column "
        f"{found['column']}: {what}",
        file=found["file"],
        row=row,
    )
