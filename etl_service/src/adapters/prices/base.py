"""The price-source interface, the canonical daily-close table and row validation."""

from __future__ import annotations

import csv
import io
import itertools
import math
from collections.abc import Callable, Collection, Iterable, Iterator
from dataclasses import dataclass, field
from datetime import date, timedelta
from pathlib import Path
from typing import Protocol, TypeVar

import pyarrow as pa
import pyarrow.compute as pc

from etl_service.errors import BadInputError
from etl_service.src.adapters import files
from etl_service.src.adapters.prices.whole_file import CleanSeries
from etl_service.src.models.records import Extracted, Rejected
from etl_service.src.models.schemas import DAILY_CLOSES, arrow_schema

CLOSES_TABLE = DAILY_CLOSES.name
"""Name of the daily-close table in rejections (the quarantine's ``table_name``)."""

EARLIEST_DATE = date(1900, 1, 1)
"""Rows dated before this are rejected: no source here has prices that old."""
DAYS_AHEAD = 3
"""Rows dated more than this many days after today are rejected (time zones need a day)."""

T = TypeVar("T")
T_co = TypeVar("T_co", covariant=True)

CLOSES_SCHEMA = arrow_schema(DAILY_CLOSES)
"""Daily closes: canonical ticker (BRK.B), trading day, close, where the close came from, and
for a split-adjusted close the day whose share count it is in (``adjusted_as_of``)."""


class PriceSource(Protocol):
    """Anything that yields daily closes in the canonical layout."""

    name: str

    def closes(self, tickers: Collection[str] | None = None) -> Extracted:
        """Daily closes for ``tickers`` (canonical), or for every ticker the source holds."""
        ...


@dataclass(frozen=True)
class RawPrice:
    """One price row as read, before validation; ``numbers`` maps field name to raw text.

    ``split_adjusted``: the close is adjusted for the splits up to the date the series was
    retrieved, taken to be the last date of its ``source`` (see ``adjusted_as_of``).
    """

    ticker: str
    date_text: str
    numbers: dict[str, str]
    source: str
    file: str
    line: int
    close_field: str = "Close"
    check_order: bool = True
    split_adjusted: bool = False


@dataclass
class PriceValidator:
    """Validates price rows, across files, and keeps the good ones.

    A row is rejected when a number does not parse or is not finite, the close is zero or
    negative, its date is before 1900 or after ``latest``, its (ticker, date) occurs more
    than once (every copy is rejected: which one is right is unknowable), or, for rows of
    ordered series, its date is before the previous date of the same ticker. A line that
    cannot be read at all (not UTF-8, over the CSV field limit) is rejected by its number.
    """

    latest: date = field(default_factory=lambda: date.today() + timedelta(days=DAYS_AHEAD))

    _kept: dict[tuple[str, date], tuple[RawPrice, float]] = field(default_factory=dict)
    _last: dict[str, date] = field(default_factory=dict)
    _duplicated: set[tuple[str, date]] = field(default_factory=set)
    _series: dict[str, CleanSeries] = field(default_factory=dict)
    rejected: list[Rejected] = field(default_factory=list)

    def takes_series(self, ticker: str) -> bool:
        """Whether a whole clean file of ``ticker`` may be added at once: no row of it yet."""
        return ticker not in self._last and ticker not in self._series

    def add_series(self, series: CleanSeries) -> None:
        """Keep every row of a file checked whole (``whole_file.read_clean``)."""
        self._series[series.ticker] = series

    def _unpack(self, ticker: str) -> None:
        """Turn a whole-file series back into rows, for a later row of its ticker to be
        checked against them (a duplicate rejects both, with their lines)."""
        series = self._series.pop(ticker)
        numbers = {k: v.to_pylist() for k, v in series.text.items() if k != "Date"}
        for index, day in enumerate(series.text["Date"].to_pylist()):
            self.add(
                RawPrice(
                    ticker,
                    day,
                    {k: v[index] for k, v in numbers.items()},
                    series.source,
                    series.file,
                    series.first_line + index,
                    split_adjusted=series.split_adjusted,
                )
            )

    def reject(self, row: RawPrice, reason: str, field_name: str | None = None) -> None:
        """Record ``row`` as rejected with ``reason`` (file and line are added)."""
        record: dict[str, object] = {
            "file": row.file,
            "line": row.line,
            "ticker": row.ticker,
            "date": row.date_text,
            **row.numbers,
        }
        if field_name is not None:
            record["field"] = field_name
        self.rejected.append(
            Rejected(
                table=CLOSES_TABLE,
                record_key=f"{row.ticker}|{row.date_text}",
                reason=f"{row.file}:{row.line}: {reason}",
                source=row.file,
                record=record,
            )
        )

    def reject_line(self, file: str, line: int, reason: str) -> None:
        """Record line ``line`` of ``file``, unreadable as a row, as rejected with ``reason``."""
        self.rejected.append(
            Rejected(
                table=CLOSES_TABLE,
                record_key=f"{file}:{line}",
                reason=f"{file}:{line}: {reason}",
                source=file,
                record={"file": file, "line": line},
            )
        )

    def add(self, row: RawPrice) -> None:
        """Validate one row; keep it or record why it was rejected."""
        if row.ticker in self._series:
            self._unpack(row.ticker)
        try:
            day = date.fromisoformat(row.date_text.strip())
        except ValueError:
            self.reject(row, f"date {row.date_text!r} is not an ISO date", "date")
            return
        if not EARLIEST_DATE <= day <= self.latest:
            when = "before 1900" if day < EARLIEST_DATE else f"in the future (after {self.latest})"
            self.reject(row, f"date {day} is {when}", "date")
            return
        if row.close_field not in row.numbers:
            self.reject(row, f"no {row.close_field} value", row.close_field)
            return
        values: dict[str, float] = {}
        for name, text in row.numbers.items():
            try:
                value = float(text)
            except ValueError:
                self.reject(row, f"{name} {text!r} is not a number", name)
                return
            if not math.isfinite(value):
                self.reject(row, f"{name} {text!r} is not a finite number", name)
                return
            values[name] = value
        close = values[row.close_field]
        if close <= 0:
            self.reject(row, f"{row.close_field} {close!r} is not positive", row.close_field)
            return
        key = (row.ticker, day)
        if key in self._duplicated or key in self._kept:
            first = self._kept.pop(key, None)
            if first is not None:
                self._duplicated.add(key)
                self.reject(
                    first[0],
                    f"duplicate date {day} for {row.ticker} (also {row.file}:{row.line})",
                    "date",
                )
            self.reject(row, f"duplicate date {day} for {row.ticker}", "date")
            return
        last = self._last.get(row.ticker)
        if row.check_order and last is not None and day < last:
            self.reject(row, f"date {day} is out of order (after {last})", "date")
            return
        self._last[row.ticker] = day if last is None else max(day, last)
        self._kept[key] = (row, close)

    def extract(self) -> Extracted:
        """The kept rows as a CLOSES_SCHEMA table (rows checked one by one in input order,
        then the files checked whole, in input order) and the rejections.

        An adjusted close is dated ``adjusted_as_of`` the last day of its ticker and source:
        a vendor adjusts the whole history when it is retrieved, which for a live series
        is its last trading day (a series retrieved after a ticker stopped trading, or
        fetched with an end date, is dated too early).
        """
        rows = list(self._kept.items())
        last: dict[tuple[str, str], date] = {}
        for (ticker, day), (raw, _) in rows:
            series = (ticker, raw.source)
            last[series] = max(day, last.get(series, day))
        table = pa.Table.from_pydict(
            {
                "ticker": [k[0] for k, _ in rows],
                "date": [k[1] for k, _ in rows],
                "close": [v[1] for _, v in rows],
                "source": [v[0].source for _, v in rows],
                "adjusted_as_of": [
                    last[(k[0], v[0].source)] if v[0].split_adjusted else None for k, v in rows
                ],
            },
            schema=CLOSES_SCHEMA,
        )
        table = pa.concat_tables([table, *(_series_table(s) for s in self._series.values())])
        warnings = [f"rejected {len(self.rejected)} price rows"] if self.rejected else []
        return Extracted(table, list(self.rejected), warnings)


def _series_table(series: CleanSeries) -> pa.Table:
    n = len(series.dates)
    last = pc.max(series.dates) if series.split_adjusted else pa.scalar(None, pa.date32())
    return pa.Table.from_arrays(
        [
            pa.array([series.ticker] * n, pa.string()),
            series.dates,
            series.closes,
            pa.array([series.source] * n, pa.string()),
            pa.array([last.as_py()] * n, pa.date32()),
        ],
        schema=CLOSES_SCHEMA,
    )


@dataclass(frozen=True)
class FileLayout:
    """A price-file layout: how to recognise its header and how to read a file into a validator."""

    name: str
    matches: Callable[[list[str]], bool]
    read: Callable[[Path, Iterable[str], Collection[str] | None, PriceValidator], None]
    """Reads a file (its path, for names, and its lines) into a validator."""


_LAYOUTS: dict[str, FileLayout] = {}


def register_layout(layout: FileLayout) -> FileLayout:
    """Add ``layout`` to the registry used by auto-detection."""
    _LAYOUTS[layout.name] = layout
    return layout


def layouts() -> list[FileLayout]:
    """The registered price-file layouts, in registration order."""
    return list(_LAYOUTS.values())


def price_lines(
    path: Path, validator: PriceValidator, max_bytes: int | None = None
) -> Iterator[str]:
    """The lines of a price file (gunzipped), read when first asked for.

    A line that is not UTF-8 or holds a NUL is rejected by its number and read as an empty
    line, so the others keep theirs; the header line must be readable, and a file that is
    not a regular file, too large or a broken gzip is a BadInputError.
    """
    data = files.read_bytes(path, max_bytes)
    text = data.decode("utf-8-sig", errors="replace")
    if "\ufffd" not in text and "\x00" not in text:
        yield from io.StringIO(text, newline="")
        return
    offset = 0
    for number, raw in enumerate(io.BytesIO(data), start=1):  # split at b"\n" only
        try:
            line = raw.decode("utf-8-sig" if number == 1 else "utf-8")
            problem = "binary content, not text: NUL character" if "\x00" in line else None
        except UnicodeDecodeError as exc:
            line = ""
            found = raw[exc.start : exc.start + 1]
            problem = f"not UTF-8 text: byte {found!r} at offset {offset + exc.start}"
        if problem is None:
            yield line
        elif number == 1:
            raise BadInputError(problem, source=str(path), line=1)
        else:
            validator.reject_line(str(path), number, problem)
            yield "\n"
        offset += len(raw)


class _CsvReader(Protocol[T_co]):
    @property
    def line_num(self) -> int: ...

    def __next__(self) -> T_co: ...


def csv_rows(reader: _CsvReader[T], file: str, validator: PriceValidator) -> Iterator[T]:
    """The rows of ``reader``; a line the csv module refuses (a field over its size limit)
    is rejected by its number and reading goes on with the next."""
    while True:
        try:
            yield next(reader)
        except StopIteration:
            return
        except csv.Error as exc:
            validator.reject_line(file, reader.line_num, f"unreadable CSV line: {exc}")


def read_header(lines: Iterator[str], source: str) -> tuple[list[str], Iterable[str]]:
    """The header row of a price file and the lines to read it with (header included)."""
    first = next(lines, "")
    reader = csv.reader([first])
    with files.csv_errors(reader, source):
        header = next(reader, [])
    return header, itertools.chain([first], lines)
