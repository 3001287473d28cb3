"""Small builders of good and bad input files for the bad-input corpus.

Every input the corpus feeds the CLI is made here, from a few bytes, at test time: the
repository keeps no bad files. ``Make`` functions write under a folder and return the path
to give the command.
"""

from __future__ import annotations

import gzip
import io
import json
import os
import zipfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

from etl_service.tests.sec import builders as sec
from etl_service.tests.sec_fsds.quarters import NUM_HEADER_2009, SUB_HEADER
from etl_service.tests.wikipedia.pages import constituents_table, good_page, page

Make = Callable[[Path], Path]
"""Writes one input under the given folder and returns the path to pass to the command."""

LONG_LINE = 200 * 1024
"""Over the csv module's 128 KiB field limit."""


def file(name: str, data: bytes) -> Make:
    """A regular file ``name`` holding ``data``."""

    def make(folder: Path) -> Path:
        path = folder / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(data)
        return path

    return make


def fifo(name: str) -> Make:
    """A named pipe: opening it for reading would block until a writer comes."""

    def make(folder: Path) -> Path:
        path = folder / name
        path.parent.mkdir(parents=True, exist_ok=True)
        os.mkfifo(path)
        return path

    return make


def folder(name: str, *members: Make) -> Make:
    """A folder ``name`` holding ``members``."""

    def make(parent: Path) -> Path:
        path = parent / name
        path.mkdir(parents=True, exist_ok=True)
        for member in members:
            member(path)
        return path

    return make


def symlink(name: str, target: str) -> Make:
    """A symbolic link to ``target`` (absolute, or missing)."""

    def make(parent: Path) -> Path:
        path = parent / name
        path.symlink_to(target)
        return path

    return make


def sparse(name: str, size: int = 600 * 1024 * 1024) -> Make:
    """A file of ``size`` bytes that takes no disk space: a hole, as a huge download looks."""

    def make(parent: Path) -> Path:
        path = parent / name
        path.parent.mkdir(parents=True, exist_ok=True)
        with path.open("wb") as fh:
            fh.truncate(size)
        return path

    return make


def symlink_loop(name: str) -> Make:
    """A link that points at itself: resolving it never ends."""

    def make(parent: Path) -> Path:
        path = parent / name
        path.symlink_to(path)
        return path

    return make


def existing(path: str) -> Make:
    """A path that already exists on every Linux machine (``/dev/zero``)."""
    return lambda _folder: Path(path)


def gz(data: bytes) -> bytes:
    return gzip.compress(data, mtime=0)


def truncated_gz(data: bytes) -> bytes:
    packed = gz(data)
    return packed[: len(packed) // 2]


def zipped(members: dict[str, bytes], *, corrupt: str | None = None) -> bytes:
    """A zip of ``members``; ``corrupt`` names one whose stored bytes are damaged."""
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as zf:
        for name, data in members.items():
            zf.writestr(name, data)
    raw = bytearray(out.getvalue())
    if corrupt is not None:
        start = raw.find(corrupt.encode()) + len(corrupt) + 10  # inside the deflated data
        raw[start : start + 16] = b"\xff" * 16
    return bytes(raw)


BINARY = bytes(range(256)) * 8
"""Every byte value: not UTF-8, holds NULs."""
PNG = b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" + bytes(64)
UTF16 = "\ufeffDate,Close\n2024-01-02,10\n".encode("utf-16")


# --- Wikipedia pages ----------------------------------------------------------------------

GOOD_PAGE = good_page()
OTHER_PAGE = page("<p>Apple Inc. is an American multinational technology company.</p>")
WRONG_COLUMNS_PAGE = page(constituents_table(headers=("Ticker", "Company", "Industry")))
NO_CHANGES_PAGE = page(constituents_table())


# --- companyfacts -------------------------------------------------------------------------

QUARTERS = (("2013-07-01", "2013-09-30"), ("2013-10-01", "2013-12-31"))
YEAR = ("2013-07-01", "2014-06-30")


def companyfacts(revenue: Any = 1_000_000, *, raw: str | None = None) -> bytes:
    """A company with revenue for two quarters and a fiscal year; ``revenue`` is each
    quarter's value, or ``raw`` the JSON text written in its place (``NaN``, ``1e400``)."""
    facts = [sec.fact(*q, 1) for q in QUARTERS]
    facts.append(sec.fact(*YEAR, 4, form="10-K", fp="FY"))
    doc = sec.body(sec.companyfacts({"Revenues": facts})).decode()
    doc = doc.replace('"val": 4,', '"val": 4000000,')
    shown = raw if raw is not None else json.dumps(revenue)
    return doc.replace('"val": 1,', f'"val": {shown},').encode()


def deep_json(depth: int = 100_000, inside_facts: bool = False) -> bytes:
    nested = "[" * depth + "]" * depth
    if inside_facts:
        return f'{{"cik": 80424, "facts": {{"us-gaap": {nested}}}}}'.encode()
    return nested.encode()


# --- price files --------------------------------------------------------------------------


def daily(
    *rows: str, header: str = "Date,Open,High,Low,Close,Volume", encoding: str = "utf-8"
) -> bytes:
    return ("\n".join((header, *rows)) + "\n").encode(encoding)


def holdings(*rows: str) -> bytes:
    header = "symbol,name,asset_class,price,exchange,date"
    return ("\n".join((header, *rows)) + "\n").encode()


GOOD_DAY = "2024-01-02,10,11,9,10.5,100"


# --- FSDS ---------------------------------------------------------------------------------


def tsv(header: tuple[str, ...], *rows: tuple[str, ...]) -> bytes:
    return "".join("\t".join(line) + "\n" for line in (header, *rows)).encode()


SUB = tsv(SUB_HEADER)
NUM = tsv(NUM_HEADER_2009)
