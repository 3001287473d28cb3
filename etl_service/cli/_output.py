"""Writing a result table to stdout or a file as CSV, JSON lines or Parquet."""

from __future__ import annotations

import sys
from pathlib import Path

import click
import pyarrow as pa
import pyarrow.csv as pacsv
import pyarrow.parquet as pq

FORMATS = ("csv", "json", "parquet")


def _json_lines(table: pa.Table) -> bytes:
    import json

    rows = table.to_pylist()
    return "".join(json.dumps(row, default=str) + "\n" for row in rows).encode()


def write_table(table: pa.Table, fmt: str, out: Path | None) -> None:
    """Write ``table`` in ``fmt`` to ``out`` atomically, or to stdout when ``out`` is None."""
    if fmt == "parquet" and out is None:
        raise click.UsageError("--format parquet needs --out PATH")
    if fmt == "csv":
        sink = pa.BufferOutputStream()
        pacsv.write_csv(table, sink, pacsv.WriteOptions(quoting_style="needed"))
        data = sink.getvalue().to_pybytes()
    elif fmt == "json":
        data = _json_lines(table)
    else:
        sink = pa.BufferOutputStream()
        pq.write_table(table, sink)
        data = sink.getvalue().to_pybytes()
    if out is None:
        sys.stdout.buffer.write(data)
        sys.stdout.flush()
        return
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = out.with_name(f".{out.name}.tmp")
    tmp.write_bytes(data)
    tmp.replace(out)
