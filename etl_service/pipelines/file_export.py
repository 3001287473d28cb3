"""Exporting the curated tables as files: one Parquet or CSV file per table in a folder.

Each file is written beside its target and renamed over it, so a reader sees the previous
file or the new one, never a part; the Parquet files keep the canonical Arrow schema.
"""

from __future__ import annotations

import contextlib
import time
from collections.abc import Sequence
from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.csv as pacsv
import pyarrow.parquet as pq
import sqlalchemy as sa

from etl_service.errors import ConfigError
from etl_service.pipelines.curated_tables import ExportSource, choose_tables, read_curated
from etl_service.settings import Settings
from etl_service.src.db.lake import Lake


class FileFormat(StrEnum):
    """The file formats of ``etl-service export``."""

    PARQUET = "parquet"
    CSV = "csv"


@dataclass(frozen=True)
class FileExportReport:
    """What an export to files wrote: the file and its rows per table."""

    source: ExportSource
    files: dict[str, tuple[Path, int]]
    duration_s: float


def export_files(
    settings: Settings,
    out: Path,
    fmt: FileFormat,
    tables: Sequence[str] = (),
    source: ExportSource = ExportSource.DATABASE,
    *,
    database: sa.Engine | None = None,
    lake: Lake | None = None,
    boto3_session: Any | None = None,
) -> FileExportReport:
    """Write the curated ``tables`` (default: all) from ``source`` to ``out/<table>.<fmt>``.

    Raises:
        ConfigError: an unknown table, nothing loaded yet, or ``out`` cannot be written.
        StoreUnavailableError: the store cannot be reached.
    """
    started = time.monotonic()
    specs = choose_tables(tables)
    frames = read_curated(settings, specs, source, database, lake, boto3_session)
    try:
        out.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise ConfigError(f"--out {out}: cannot create the folder ({exc.strerror})") from None
    files = {}
    for name, frame in frames.items():
        path = out / f"{name}.{fmt.value}"
        write_atomically(path, _encode(frame, fmt))  # the curated tables are small
        files[name] = (path, frame.num_rows)
    return FileExportReport(source, files, time.monotonic() - started)


def _encode(frame: pa.Table, fmt: FileFormat) -> bytes:
    sink = pa.BufferOutputStream()
    if fmt is FileFormat.PARQUET:
        pq.write_table(frame, sink)
    else:
        pacsv.write_csv(frame, sink, pacsv.WriteOptions(quoting_style="needed"))
    return bytes(sink.getvalue().to_pybytes())


def write_atomically(path: Path, data: bytes) -> None:
    """Write ``data`` to a temporary file beside ``path`` and rename it over ``path``.

    Raises:
        ConfigError: the folder cannot be written.
    """
    tmp = path.with_name(f".{path.name}.tmp")
    try:
        tmp.write_bytes(data)
        tmp.replace(path)
    except OSError as exc:
        with contextlib.suppress(OSError):
            tmp.unlink(missing_ok=True)
        raise ConfigError(f"{path}: cannot write ({exc.strerror or exc})") from None
