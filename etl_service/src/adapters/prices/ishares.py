"""iShares IVV holdings files: one as-traded price per constituent per file.

Files dated from 2022-11 on carry the *previous trading day's* close (the file dated
2025-04-01 holds the 2025-03-31 close), so each price is dated with the NYSE trading day
before the file date. Older files (the 2009 month-end file) carry the close of their own
date. The price is as traded, not adjusted for later splits.
"""

from __future__ import annotations

import csv
import logging
from collections.abc import Collection, Iterable
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path

from etl_service.errors import InputError, SchemaError
from etl_service.src.adapters import files
from etl_service.src.adapters.prices.base import (
    FileLayout,
    PriceValidator,
    RawPrice,
    csv_rows,
    price_lines,
    register_layout,
)
from etl_service.src.adapters.prices.calendar import previous_trading_day
from etl_service.src.models.records import Extracted
from etl_service.src.models.tickers import Vendor, canonical_ticker, is_ticker, vendor_ticker

logger = logging.getLogger(__name__)

PREVIOUS_DAY_SINCE = date(2022, 11, 1)
"""Files dated on or after this day hold the previous trading day's close (PROVENANCE §4b)."""

CLASS_TICKERS: tuple[str, ...] = ("BRK.B", "BF.B")
"""Share-class tickers iShares writes without a separator (BRKB, BFB)."""

US_VENUES: tuple[str, ...] = ("new york stock exchange", "nyse", "nasdaq", "cboe")
"""Exchange labels (lower-case prefixes) of US listings, whose symbol is the US ticker."""

MEXICAN_VENUE = "bolsa mexicana de valores"
"""US shares quoted in Mexico keep their US ticker with a ``*`` suffix (``AAPL*``)."""

REQUIRED = ("symbol", "asset_class", "price", "exchange", "date")


def is_holdings_header(header: list[str]) -> bool:
    """True for the iShares holdings header."""
    names = {h.strip().lower() for h in header}
    return set(REQUIRED) <= names


def price_date(file_date: date) -> date:
    """The trading day whose close a holdings file dated ``file_date`` carries."""
    if file_date >= PREVIOUS_DAY_SINCE:
        return previous_trading_day(file_date)
    return file_date


@dataclass
class _Reader:
    validator: PriceValidator
    wanted: Collection[str] | None
    inverse: dict[str, str] = field(default_factory=dict)

    def candidate(self, symbol: str) -> str:
        """The canonical ticker ``symbol`` would map to, before any check."""
        bare = symbol.removesuffix("*")
        return self.inverse.get(bare, canonical_ticker(bare))

    def symbol_problem(self, symbol: str, row: dict[str, str]) -> tuple[str | None, str]:
        """The canonical ticker of a holdings row, or None and the reason it has none."""
        asset_class = (row["asset_class"] or "").strip()  # None: a short row
        if asset_class != "Equity":
            return None, f"asset class {asset_class!r} is not an equity ({symbol})"
        venue = (row["exchange"] or "").strip()
        label = venue.lower()
        if symbol.endswith("*") and label == MEXICAN_VENUE:
            symbol = symbol[:-1]
        elif label in ("", "-"):
            return None, f"no listing venue given for {symbol!r}"
        elif not label.startswith(US_VENUES):
            return None, f"listed on {venue!r}, not a US exchange: {symbol!r} is not a US ticker"
        ticker = self.candidate(symbol)
        if not is_ticker(ticker):
            return None, f"symbol {symbol!r} is not a ticker"
        return ticker, ""

    def read(self, path: Path, lines: Iterable[str]) -> None:
        reader = csv.DictReader(lines)
        with files.csv_errors(reader, str(path)):
            fieldnames = reader.fieldnames
        if fieldnames is None or not is_holdings_header(list(fieldnames)):
            raise SchemaError(
                "not an iShares holdings file: the header needs " + ", ".join(REQUIRED),
                source=str(path),
                field="header",
                value=",".join(fieldnames or []),
            )
        for row in csv_rows(reader, str(path), self.validator):
            self.add(path, reader.line_num, row)

    def add(self, path: Path, line: int, row: dict[str, str]) -> None:
        symbol = (row["symbol"] or "").strip()
        date_text = (row["date"] or "").strip()
        try:
            day = price_date(date.fromisoformat(date_text))
            day_text = day.isoformat()
        except ValueError:
            day_text = date_text
        if self.wanted is not None and self.candidate(symbol) not in self.wanted:
            return
        ticker, problem = self.symbol_problem(symbol, row)
        raw = RawPrice(
            ticker or symbol,
            day_text,
            {"price": (row["price"] or "").strip()},
            f"ishares_ivv:{path.name} (as traded, file dated {date_text})",
            str(path),
            line,
            close_field="price",
            check_order=False,
        )
        if ticker is None:
            self.validator.reject(raw, problem, "symbol")
        else:
            self.validator.add(raw)


def _inverse(tickers: Iterable[str]) -> dict[str, str]:
    classes = {t for t in (*CLASS_TICKERS, *tickers) if vendor_ticker(t, Vendor.ISHARES) != t}
    return {vendor_ticker(t, Vendor.ISHARES): t for t in sorted(classes)}


def read_holdings_file(
    path: Path, lines: Iterable[str], tickers: Collection[str] | None, validator: PriceValidator
) -> None:
    """Read one iShares holdings file (``lines``) into ``validator``."""
    _Reader(validator, tickers, _inverse(tickers or ())).read(path, lines)


HOLDINGS = register_layout(FileLayout("ishares_holdings", is_holdings_header, read_holdings_file))


@dataclass
class IsharesHoldings:
    """A folder (or list) of IVV holdings files; ``known_tickers`` resolve BRKB-style symbols."""

    paths: list[Path]
    known_tickers: Collection[str] = ()
    name: str = "ishares_ivv"

    @classmethod
    def from_folder(cls, folder: Path, known_tickers: Collection[str] = ()) -> IsharesHoldings:
        """Every ``*.csv`` / ``*.csv.gz`` file of ``folder``, in name (= date) order."""
        paths = sorted(p for p in folder.iterdir() if p.name.endswith((".csv", ".csv.gz")))
        if not paths:
            raise InputError("no holdings files", source=str(folder))
        return cls(paths, known_tickers)

    def closes(self, tickers: Collection[str] | None = None) -> Extracted:
        """One close per constituent per file; a (ticker, day) in two files is rejected."""
        inverse = _inverse((*self.known_tickers, *(tickers or ())))
        reader = _Reader(PriceValidator(), tickers, inverse)
        for path in self.paths:
            reader.read(path, price_lines(path, reader.validator))
        return reader.validator.extract()
