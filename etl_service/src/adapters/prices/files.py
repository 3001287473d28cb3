"""Reading price files of any registered layout, detected from the header."""

from __future__ import annotations

from collections.abc import Collection, Iterable
from pathlib import Path

from etl_service.errors import InputError, SchemaError
from etl_service.src.adapters.prices import daily_csv, ishares
from etl_service.src.adapters.prices.base import (
    FileLayout,
    PriceValidator,
    layouts,
    price_lines,
    read_header,
)
from etl_service.src.models.records import Extracted

_FILE_SUFFIXES = (".txt", ".csv", ".txt.gz", ".csv.gz")
_KNOWN = (daily_csv.DAILY_CSV, ishares.HOLDINGS)  # importing them registers the layouts


def detect_layout(path: Path, validator: PriceValidator) -> tuple[FileLayout, Iterable[str]]:
    """The registered layout whose header matches the first line of ``path``, and the
    file's lines."""
    header, lines = read_header(price_lines(path, validator), str(path))
    for layout in layouts():
        if layout.matches(header):
            return layout, lines
    raise SchemaError(
        "unknown price file layout (expected Stooq/Yahoo daily or iShares holdings)",
        source=str(path),
        field="header",
        value=",".join(header),
    )


def read_prices(path: Path, tickers: Collection[str] | None = None) -> Extracted:
    """Daily closes from a file or from every price file of a folder, any registered layout."""
    if path.is_dir():
        files = sorted(p for p in path.iterdir() if p.name.lower().endswith(_FILE_SUFFIXES))
        if not files:
            raise InputError("no price files in folder", source=str(path))
    else:
        files = [path]  # read_bytes refuses a missing path, a FIFO or a device by name
    validator = PriceValidator()
    for file in files:
        layout, lines = detect_layout(file, validator)
        layout.read(file, lines, tickers, validator)
    return validator.extract()
