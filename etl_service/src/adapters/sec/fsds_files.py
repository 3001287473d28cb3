"""Locating the sub.txt and num.txt files of SEC Financial Statement Data Sets quarters.

A quarter is given as the SEC's zip (``2009q3.zip``) or as a folder holding ``sub.txt`` and
``num.txt`` (each possibly gzip-compressed as ``.txt.gz``, which Spark reads directly). Zip
members are extracted on the driver into a staging folder, because Spark cannot read inside
a zip; on a multi-node cluster that folder must be on storage every executor can read.
Headers are checked on the driver so that a wrong file fails before any Spark job runs.
"""

from __future__ import annotations

import gzip
import shutil
import zipfile
import zlib
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

from etl_service.errors import InputError, SchemaError
from etl_service.src.adapters import files

SUB = "sub.txt"
NUM = "num.txt"
SUB_COLUMNS: tuple[str, ...] = ("adsh", "cik", "name", "form", "filed", "fye", "fy", "fp")
NUM_COLUMNS: tuple[str, ...] = ("adsh", "tag", "version", "ddate", "qtrs", "uom", "coreg", "value")
"""The columns the extraction reads from sub.txt and num.txt."""
MAX_HEADER_CHARS = 64 * 1024
"""A header line is a few hundred characters; one this long is not a header."""

_UNREADABLE = (OSError, EOFError, zlib.error, zipfile.BadZipFile, UnicodeDecodeError)


@dataclass(frozen=True)
class QuarterFiles:
    """The two files of one quarter, their names for messages, and their header columns."""

    name: str
    sub: Path
    num: Path
    sub_source: str
    num_source: str
    sub_columns: tuple[str, ...]
    num_columns: tuple[str, ...]


def locate_quarter(
    path: Path,
    staging: Path,
    sub_required: Sequence[str],
    num_required: Sequence[str],
) -> QuarterFiles:
    """Find (or extract) one quarter's files and check that their headers hold the columns.

    Args:
        path: a quarter folder or an SEC quarter zip.
        staging: where zip members are extracted (a subfolder per zip).
        sub_required: columns sub.txt must have.
        num_required: columns num.txt must have.

    Returns:
        The files and their header columns; a zip member is named ``<zip>/<member>`` in
        messages, not by its staging path.
    """
    if path.is_dir():
        sub, num = _member(path, SUB), _member(path, NUM)
        sub_source, num_source = str(sub), str(num)
    else:
        _check_zip(path)
        sub, num = _extract(path, staging / path.stem)
        sub_source, num_source = f"{path}/{SUB}", f"{path}/{NUM}"
    return QuarterFiles(
        name=path.stem if path.is_file() else path.name,
        sub=sub,
        num=num,
        sub_source=sub_source,
        num_source=num_source,
        sub_columns=check_header(sub, sub_required, sub_source),
        num_columns=check_header(num, num_required, num_source),
    )


def check_quarter(path: Path) -> None:
    """Check one quarter's files and headers without extracting anything (before a Spark
    start): BadInputError or SchemaError naming the file when they cannot be read."""
    if path.is_dir():
        for name, required in ((SUB, SUB_COLUMNS), (NUM, NUM_COLUMNS)):
            check_header(_member(path, name), required)
        return
    _check_zip(path)
    try:
        with zipfile.ZipFile(path) as zf:
            names = set(zf.namelist())
            for name, required in ((SUB, SUB_COLUMNS), (NUM, NUM_COLUMNS)):
                if name not in names:
                    raise InputError(f"missing member {name}", source=str(path), field=name)
                source = f"{path}/{name}"
                with zf.open(name) as member:
                    _check_columns(_first_line(member, source), required, source)
    except _UNREADABLE as exc:
        raise InputError(f"not a readable zip file: {exc}", source=str(path)) from exc


def _check_zip(path: Path) -> None:
    """A regular file named .zip (any size: Spark reads what it holds), else BadInputError."""
    files.check_regular_file(path, max_bytes=None)
    if path.suffix.lower() != ".zip":
        raise InputError("expected a quarter folder or an SEC quarter .zip", source=str(path))


def _member(folder: Path, name: str) -> Path:
    for candidate in (folder / name, folder / f"{name}.gz"):
        if candidate.exists():
            files.check_regular_file(candidate, max_bytes=None)
            return candidate
    raise InputError(f"missing file {name} (or {name}.gz)", source=str(folder), field=name)


def _extract(archive: Path, target: Path) -> tuple[Path, Path]:
    try:
        with zipfile.ZipFile(archive) as zf:
            names = set(zf.namelist())
            for name in (SUB, NUM):
                if name not in names:
                    raise InputError(f"missing member {name}", source=str(archive), field=name)
            target.mkdir(parents=True, exist_ok=True)
            for name in (SUB, NUM):
                with zf.open(name) as src, (target / name).open("wb") as dst:
                    shutil.copyfileobj(src, dst)
    except (zipfile.BadZipFile, zlib.error, EOFError) as exc:
        raise InputError(f"not a readable zip file: {exc}", source=str(archive)) from exc
    return target / SUB, target / NUM


def check_header(path: Path, required: Sequence[str], source: str | None = None) -> tuple[str, ...]:
    """The tab-separated header of ``path``; SchemaError if it lacks a required column."""
    source = source or str(path)
    files.check_regular_file(path, max_bytes=None)  # never open a FIFO: it would block
    try:
        with path.open("rb") as raw, gzip.open(raw) if path.suffix == ".gz" else raw as fh:
            line = _first_line(fh, source)
    except _UNREADABLE as exc:
        raise InputError(f"cannot read the header: {exc}", source=source) from exc
    return _check_columns(line, required, source)


class _Lines(Protocol):
    def readline(self, size: int = -1, /) -> bytes: ...


def _first_line(stream: _Lines, source: str) -> str:
    """The first line of a binary stream as text, bounded by ``MAX_HEADER_CHARS``."""
    data = stream.readline(MAX_HEADER_CHARS + 1)
    if len(data) > MAX_HEADER_CHARS:
        raise InputError(f"the header line is over {MAX_HEADER_CHARS} bytes", source=source)
    return files.decode_text(data, source)


def _check_columns(line: str, required: Sequence[str], source: str) -> tuple[str, ...]:
    columns = tuple(line.rstrip("\r\n").split("\t"))
    if not line or columns == ("",):
        raise SchemaError("empty file: no header line", source=source, line=1)
    duplicated = sorted({c for c in columns if columns.count(c) > 1})
    if duplicated:
        raise SchemaError(
            "duplicate column in the header", source=source, field=duplicated[0], line=1
        )
    for column in required:
        if column not in columns:
            found = ", ".join(columns)
            raise SchemaError(
                f"missing column in the header (found: {found[:200]})",
                source=source,
                field=column,
                line=1,
            )
    return columns
