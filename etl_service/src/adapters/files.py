"""Reading local input files safely: regular files only, bounded size, clear errors.

Every input file (saved pages, companyfacts, price and member-list CSVs, FSDS files) is
read through here, so that a FIFO, a device, a folder, an oversized or corrupt file, a fake
gzip, bytes that are not UTF-8, an overlong CSV line or JSON nested too deeply is a
``BadInputError`` naming the file, never a hang, a ``MemoryError`` or a traceback.
"""

from __future__ import annotations

import csv
import gzip
import io
import json
import os
import stat
import zlib
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from pathlib import Path
from typing import Any, Protocol

from etl_service.errors import BadInputError

MAX_INPUT_BYTES = 512 * 1024 * 1024
"""Default bound on an input file, and on what a gzip file decompresses to."""

_limit: ContextVar[int] = ContextVar("max_input_bytes", default=MAX_INPUT_BYTES)


def set_input_limit(max_bytes: int) -> None:
    """Bound every input read in this context (``ETL_MAX_INPUT_BYTES``, set at the entry
    point once, like the rest of the settings)."""
    _limit.set(max_bytes)


def input_limit() -> int:
    """The bound in force: ``set_input_limit``'s, else ``MAX_INPUT_BYTES``."""
    return _limit.get()


GZIP_MAGIC = b"\x1f\x8b"

_LONGEST_EXACT_INT = 100
"""JSON integers with more digits become floats: Python refuses to parse over 4300 digits,
and no figure this long is real; callers bound the value like any other number."""

_KINDS = (
    (stat.S_ISDIR, "a folder"),
    (stat.S_ISFIFO, "a FIFO (named pipe)"),
    (stat.S_ISCHR, "a character device"),
    (stat.S_ISBLK, "a block device"),
    (stat.S_ISSOCK, "a socket"),
)


def _size(n: int) -> str:
    return f"{n / 2**20:g} MiB" if n >= 2**20 else f"{n} bytes"


def _not_regular(mode: int) -> str | None:
    """What a non-regular file is, or None for a regular file."""
    if stat.S_ISREG(mode):
        return None
    return next((kind for test, kind in _KINDS if test(mode)), "not a regular file")


def check_regular_file(path: Path, max_bytes: int | None = -1) -> int:
    """The size of ``path``; BadInputError unless it is a regular file within ``max_bytes``
    (None: any size; default: ``input_limit()``). Nothing is opened, so a FIFO cannot block
    and a device is never read."""
    if max_bytes == -1:
        max_bytes = input_limit()
    try:
        info = path.stat()
    except FileNotFoundError as exc:
        raise BadInputError("no such file", source=str(path)) from exc
    except OSError as exc:
        raise BadInputError(f"cannot read: {exc.strerror}", source=str(path)) from exc
    kind = _not_regular(info.st_mode)
    if kind is not None:
        raise BadInputError(f"is {kind}, expected a regular file", source=str(path))
    if max_bytes is not None and info.st_size > max_bytes:
        raise BadInputError(
            f"is {_size(info.st_size)}, over the {_size(max_bytes)} limit for an input file",
            source=str(path),
        )
    return info.st_size


def read_bytes(path: Path, max_bytes: int | None = None, *, gunzip: bool = True) -> bytes:
    """The content of the regular file ``path``, gunzipped when it is gzip (by its ``.gz``
    name or its magic bytes), at most ``max_bytes`` (default ``input_limit()``) either way."""
    max_bytes = input_limit() if max_bytes is None else max_bytes
    check_regular_file(path, max_bytes)
    try:
        # O_NONBLOCK: should the path become a FIFO after the check, opening it cannot block
        fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK | os.O_CLOEXEC)
    except OSError as exc:
        raise BadInputError(f"cannot read: {exc.strerror}", source=str(path)) from exc
    with os.fdopen(fd, "rb") as fh:
        kind = _not_regular(os.fstat(fd).st_mode)
        if kind is not None:
            raise BadInputError(f"is {kind}, expected a regular file", source=str(path))
        try:
            data = fh.read(max_bytes + 1)
        except OSError as exc:
            raise BadInputError(f"cannot read: {exc.strerror}", source=str(path)) from exc
    if len(data) > max_bytes:
        raise BadInputError(f"grew over the {_size(max_bytes)} limit", source=str(path))
    if gunzip and (path.suffix.lower() == ".gz" or data.startswith(GZIP_MAGIC)):
        return gunzip_bytes(data, str(path), max_bytes)
    return data


def gunzip_bytes(data: bytes, source: str, max_bytes: int | None = None) -> bytes:
    """Decompressed gzip ``data``; BadInputError for a fake, truncated or corrupt gzip, or
    one that decompresses to more than ``max_bytes`` (a gzip bomb)."""
    max_bytes = input_limit() if max_bytes is None else max_bytes
    if not data.startswith(GZIP_MAGIC):
        raise BadInputError("not a gzip file (no gzip header), though named .gz", source=source)
    try:
        with gzip.GzipFile(fileobj=io.BytesIO(data)) as stream:
            out = stream.read(max_bytes + 1)
    except EOFError as exc:
        raise BadInputError("truncated gzip file", source=source) from exc
    except (OSError, zlib.error) as exc:  # gzip.BadGzipFile is an OSError
        raise BadInputError(f"corrupt gzip file: {exc}", source=source) from exc
    if len(out) > max_bytes:
        raise BadInputError(f"decompresses to over the {_size(max_bytes)} limit", source=source)
    return out


def decode_text(data: bytes, source: str) -> str:
    """``data`` as UTF-8 text (a BOM is dropped); BadInputError naming the first bad byte's
    offset and line, or the first NUL byte of binary content."""
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = data.count(b"\n", 0, exc.start) + 1
        raise BadInputError(
            f"not UTF-8 text: byte {data[exc.start : exc.start + 1]!r} at offset {exc.start}",
            source=source,
            line=line,
        ) from exc
    nul = text.find("\x00")
    if nul >= 0:
        raise BadInputError(
            f"binary content, not text: NUL character at offset {nul}",
            source=source,
            line=text.count("\n", 0, nul) + 1,
        )
    return text


def read_text(path: Path, max_bytes: int | None = None) -> str:
    """A regular (possibly gzipped) UTF-8 text file; see ``read_bytes`` and ``decode_text``."""
    return decode_text(read_bytes(path, max_bytes), str(path))


def _int(text: str) -> int | float:
    return int(text) if len(text) <= _LONGEST_EXACT_INT else float(text)


def parse_json(data: bytes | str, source: str) -> Any:
    """Decode a JSON document; BadInputError for non-UTF-8, malformed (with line and
    column) or too deeply nested input.

    ``NaN``, ``Infinity`` and numbers out of float range (``1e400``) decode to non-finite
    floats, which the caller rejects per value with its own reason.
    """
    text = decode_text(data, source) if isinstance(data, bytes) else data
    try:
        return json.loads(text, parse_int=_int)
    except json.JSONDecodeError as exc:
        raise BadInputError(
            f"malformed JSON: {exc.msg} at column {exc.colno}", source=source, line=exc.lineno
        ) from exc
    except RecursionError as exc:
        raise BadInputError("JSON nested too deeply", source=source) from exc


def read_json(path: Path, max_bytes: int | None = None) -> Any:
    """A regular (possibly gzipped) JSON file; see ``read_bytes`` and ``parse_json``."""
    return parse_json(read_bytes(path, max_bytes), str(path))


class _LineReader(Protocol):
    @property
    def line_num(self) -> int: ...


@contextmanager
def csv_errors(reader: _LineReader, source: str) -> Iterator[None]:
    """Turn a ``csv.Error`` (e.g. a field over the field-size limit) raised while reading
    ``reader`` into a BadInputError naming ``source`` and the line."""
    try:
        yield
    except csv.Error as exc:
        raise BadInputError(f"unreadable CSV: {exc}", source=source, line=reader.line_num) from exc


def csv_text(text: str) -> io.StringIO:
    """``text`` as a stream for ``csv.reader`` (no newline translation, as csv requires)."""
    return io.StringIO(text, newline="")
