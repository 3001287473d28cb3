"""Writing small FSDS quarter folders for tests."""

from __future__ import annotations

import gzip
from collections.abc import Sequence
from pathlib import Path

SUB_HEADER = ("adsh", "cik", "name", "form", "filed", "fye", "fy", "fp")
NUM_HEADER_2009 = ("adsh", "tag", "version", "coreg", "ddate", "qtrs", "uom", "value", "footnote")
"""The num.txt layout SEC published before its 2024 re-issue: no segments column."""


def write_table(path: Path, header: Sequence[str], rows: Sequence[Sequence[str]]) -> Path:
    """A tab-separated file with a header line, gzip-compressed when the name ends .gz."""
    text = "".join("\t".join(line) + "\n" for line in (header, *rows))
    if path.suffix == ".gz":
        path.write_bytes(gzip.compress(text.encode()))
    else:
        path.write_text(text, encoding="utf-8")
    return path


def write_quarter(
    folder: Path,
    sub_rows: Sequence[Sequence[str]],
    num_rows: Sequence[Sequence[str]],
    *,
    sub_header: Sequence[str] = SUB_HEADER,
    num_header: Sequence[str] = NUM_HEADER_2009,
) -> Path:
    """A quarter folder with sub.txt and num.txt."""
    folder.mkdir(parents=True, exist_ok=True)
    write_table(folder / "sub.txt", sub_header, sub_rows)
    write_table(folder / "num.txt", num_header, num_rows)
    return folder
