"""A daily price file read whole with pyarrow's CSV reader, when it is clean.

Most files have no bad row, and checking their rows one at a time in Python is most of the
snapshot run's extract stage. Here a file is parsed and checked column-wise; it is accepted
only when every row would pass ``PriceValidator.add`` (strict ISO dates within range and
strictly increasing, plain decimal numbers, a positive close, one row per line). Anything
else, including what would merely need a closer look, returns None and the file goes
through the row path, which gives every rejected row its file:line reason.
"""

from __future__ import annotations

import io
from dataclasses import dataclass
from datetime import date

import pyarrow as pa
import pyarrow.compute as pc
from pyarrow import csv as pa_csv

ISO_DATE = r"^\d{4}-\d{2}-\d{2}$"
PLAIN_NUMBER = r"^-?\d+(\.\d+)?([eE][-+]?\d+)?$"
"""Numbers ``float`` reads exactly as Arrow does; other spellings take the row path."""


@dataclass(frozen=True)
class CleanSeries:
    """One ticker's rows from one file, all valid: the raw text by field, and the values."""

    ticker: str
    source: str
    file: str
    text: dict[str, pa.Array]
    """Raw cells per field (``Date`` and the number fields), for a row to be re-read later."""
    dates: pa.Array
    closes: pa.Array
    first_line: int = 2
    split_adjusted: bool = True


def read_clean(
    text: str,
    header: list[str],
    fields: dict[str, int],
    earliest: date,
    latest: date,
) -> tuple[pa.Array, pa.Array, dict[str, pa.Array]] | None:
    """(dates, closes, raw cells by field) of ``text`` when every row is valid, else None.

    ``fields`` maps ``Date`` and each number field to its column; ``Close`` must be one.
    """
    if '"' in text or "\n\n" in text or text.count("\r") != text.count("\r\n"):
        return None  # quotes, blank lines and bare CRs shift lines: the row path counts them
    names = [f"c{i}" for i in range(len(header))]
    try:
        table = pa_csv.read_csv(
            io.BytesIO(text.encode()),
            read_options=pa_csv.ReadOptions(skip_rows=1, column_names=names),
            convert_options=pa_csv.ConvertOptions(
                column_types=dict.fromkeys(names, pa.string()),
                strings_can_be_null=False,
            ),
        )
    except pa.ArrowInvalid:
        return None  # e.g. a row with another number of fields
    if table.num_rows == 0:
        return None
    cells = {name: table.column(index).combine_chunks() for name, index in fields.items()}
    numbers = {k: v for k, v in cells.items() if k != "Date"}
    patterns = [(cells["Date"], ISO_DATE), *((v, PLAIN_NUMBER) for v in numbers.values())]
    if not all(pc.all(pc.match_substring_regex(v, p)).as_py() for v, p in patterns):
        return None
    try:
        stamps = pc.strptime(cells["Date"], format="%Y-%m-%d", unit="s")
        values = {k: pc.cast(v, pa.float64()) for k, v in numbers.items()}
    except pa.ArrowInvalid:
        return None  # e.g. 2024-02-30
    dates = pc.cast(stamps, pa.date32())
    if not pc.all(pc.equal(pc.cast(dates, pa.string()), cells["Date"])).as_py():
        return None  # strptime rolls 2024-02-30 over to March; fromisoformat refuses it
    closes = values["Close"]
    if not _valid(dates, closes, list(values.values()), earliest, latest):
        return None
    return dates, closes, cells


def _valid(
    dates: pa.Array, closes: pa.Array, numbers: list[pa.Array], earliest: date, latest: date
) -> bool:
    finite = all(pc.all(pc.is_finite(v)).as_py() for v in numbers)
    increasing = len(dates) < 2 or pc.all(pc.greater(dates[1:], dates[:-1])).as_py()
    return bool(
        finite
        and increasing
        and pc.all(pc.greater(closes, 0)).as_py()
        and pc.min(dates).as_py() >= earliest
        and pc.max(dates).as_py() <= latest
    )
