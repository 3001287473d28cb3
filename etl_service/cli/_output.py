"""Writing a result table to stdout or a file as CSV, JSON lines or Parquet."""

from __future__ import annotations

import contextlib
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
    if out is None or str(out) == "-":
        if fmt == "parquet" and sys.stdout.isatty():
            raise click.UsageError("--format parquet is binary: redirect stdout or use --out PATH")
        sys.stdout.buffer.write(data)
        sys.stdout.flush()
        return
    write_file(out, data)


def write_file(out: Path, data: bytes) -> None:
    """Write ``data`` to ``out``: a regular file is replaced atomically (through a symlink,
    which stays a link); a device or pipe is written in place, never replaced."""
    target = out.resolve() if out.is_symlink() else out
    if target.exists() and not target.is_file():
        if target.is_dir():
            raise click.UsageError(f"--out {out}: is a folder")
        with target.open("wb") as stream:  # /dev/stdout, a FIFO: write, never replace
            stream.write(data)
        return
    tmp = target.with_name(f".{target.name}.tmp")
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
        tmp.write_bytes(data)
        tmp.replace(target)
    except OSError as exc:
        with contextlib.suppress(OSError):
            tmp.unlink(missing_ok=True)
        raise click.UsageError(f"--out {out}: cannot write ({exc.strerror or exc})") from None
