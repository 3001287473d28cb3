"""Daily price files in the Stooq/Yahoo layout (Date,Open,High,Low,Close,Volume[,OpenInt]).

Stooq's downloadable history (and the Kaggle copy in the snapshot) is split- and
dividend-adjusted; Yahoo's ``Close`` is split-adjusted only. Either way the close of an old
day is expressed in the share count of the day the file was made, taken to be its last
date (``adjusted_as_of``); the P/E undoes the split part with the company's split events.
Neither vendor's files list the splits or dividends they adjusted for.
"""

from __future__ import annotations

import csv
import io
import logging
from collections.abc import Collection, Iterable
from dataclasses import dataclass
from pathlib import Path

from etl_service.errors import InputError, SchemaError, SourceRefusedError
from etl_service.src.adapters import files
from etl_service.src.adapters.http import HttpFetcher
from etl_service.src.adapters.prices.base import (
    EARLIEST_DATE,
    FileLayout,
    PriceValidator,
    RawPrice,
    csv_rows,
    price_lines,
    register_layout,
)
from etl_service.src.adapters.prices.whole_file import CleanSeries, read_clean
from etl_service.src.models.records import Extracted
from etl_service.src.models.tickers import Vendor, canonical_ticker, vendor_ticker

logger = logging.getLogger(__name__)

NUMBER_FIELDS = ("Open", "High", "Low", "Close", "Volume")
SUFFIXES = (".txt", ".csv", ".txt.gz", ".csv.gz")


def is_daily_header(header: list[str]) -> bool:
    """True for a Stooq/Yahoo header: Date and Close present, no holdings columns."""
    names = {h.strip().lower() for h in header}
    return {"date", "close"} <= names and "symbol" not in names


def read_rows(
    text: Iterable[str], ticker: str, file: str, source: str, validator: PriceValidator
) -> None:
    """Validate every row of one daily price file into ``validator``: the whole file at
    once when it is clean (``whole_file``), else row by row."""
    whole = "".join(text)
    reader = csv.reader(io.StringIO(whole, newline=""))
    with files.csv_errors(reader, file):
        header = next(reader, None)
    if header is None or not is_daily_header(header):
        raise SchemaError(
            "not a daily price file: the header needs Date and Close",
            source=file,
            field="header",
            value=",".join(header or []),
        )
    index = {h.strip().lower(): i for i, h in enumerate(header)}
    wanted = [(name, index[name.lower()]) for name in NUMBER_FIELDS if name.lower() in index]
    date_at = index["date"]
    if validator.takes_series(ticker):
        fields = {"Date": date_at, **dict(wanted)}
        clean = read_clean(whole, header, fields, EARLIEST_DATE, validator.latest)
        if clean is not None:
            dates, closes, raw = clean
            validator.add_series(CleanSeries(ticker, source, file, raw, dates, closes))
            return
    for cells in csv_rows(reader, file, validator):
        if not cells:
            continue
        row = RawPrice(
            ticker,
            cells[date_at] if date_at < len(cells) else "",
            {name: cells[i].strip() for name, i in wanted if i < len(cells)},
            source,
            file,
            reader.line_num,
            split_adjusted=True,
        )
        if len(cells) != len(header):
            validator.reject(row, f"{len(cells)} fields, the header has {len(header)}")
            continue
        validator.add(row)


def _file_source(path: Path) -> str:
    return f"stooq_csv:{path.name} (adjusted)"


def ticker_from_filename(path: Path) -> str:
    """The canonical ticker of a Stooq file name (``brk-b.us.txt`` -> ``BRK.B``)."""
    name = path.name
    for suffix in SUFFIXES:
        if name.lower().endswith(suffix):
            name = name[: -len(suffix)]
            break
    return canonical_ticker(name)


def read_daily_file(
    path: Path, lines: Iterable[str], tickers: Collection[str] | None, validator: PriceValidator
) -> None:
    """Read one daily price file (``lines``), its ticker taken from the file name, into
    ``validator``."""
    symbol = ticker_from_filename(path)
    if tickers is not None and symbol not in tickers:
        return
    read_rows(lines, symbol, str(path), _file_source(path), validator)


DAILY_CSV = register_layout(FileLayout("daily_csv", is_daily_header, read_daily_file))


@dataclass
class DailyCsvFolder:
    """Daily price files named by Stooq ticker (``aapl.us.txt``, optionally gzipped)."""

    folder: Path
    name: str = "stooq_csv"

    def files(self, tickers: Collection[str] | None = None) -> list[Path]:
        """The files for ``tickers`` (missing ones are an InputError), or every price file."""
        if tickers is None:
            return sorted(p for p in self.folder.iterdir() if p.name.lower().endswith(SUFFIXES))
        found: list[Path] = []
        for ticker in tickers:
            stem = vendor_ticker(ticker, Vendor.STOOQ)
            matches = [self.folder / f"{stem}{s}" for s in SUFFIXES]
            path = next((p for p in matches if p.exists()), None)
            if path is None:
                raise InputError(
                    "no daily price file for ticker",
                    source=str(self.folder),
                    field="ticker",
                    value=ticker,
                )
            found.append(path)
        return found

    def closes(self, tickers: Collection[str] | None = None) -> Extracted:
        """Daily closes from every matching file in the folder."""
        validator = PriceValidator()
        for path in self.files(tickers):
            read_daily_file(path, price_lines(path, validator), None, validator)
        return validator.extract()


@dataclass
class DailyCsvUrl:
    """Daily price files fetched from a URL template such as ``.../q/d/l/?s={symbol}&i=d``.

    ``{symbol}`` is replaced by the vendor spelling of the ticker (Stooq: ``brk-b.us``,
    Yahoo-style: ``BRK-B``).
    """

    fetcher: HttpFetcher
    template: str
    vendor: Vendor = Vendor.STOOQ
    name: str = "daily_csv_url"

    def closes(self, tickers: Collection[str] | None = None) -> Extracted:
        """Fetch and validate the daily file of each ticker."""
        if not tickers:
            raise InputError("a URL template needs explicit tickers", source=self.template)
        validator = PriceValidator()
        for ticker in tickers:
            symbol = vendor_ticker(ticker, self.vendor)
            label = f"{self.name}:{symbol}"
            body = self.fetcher.get(self.template.format(symbol=symbol)).text
            if not body.strip() or body.strip().lower().startswith("no data"):
                raise SourceRefusedError(f"{label}: no price data for {ticker}")
            text = io.StringIO(body, newline="")
            read_rows(text, ticker, label, self.source_label(ticker), validator)
        return validator.extract()

    def source_label(self, ticker: str) -> str:
        """The ``source`` its closes of ``ticker`` carry."""
        return f"{self.name}:{vendor_ticker(ticker, self.vendor)} (adjusted)"
