"""Canonical tickers and their spellings at other vendors (aliases, not renames)."""

from __future__ import annotations

import re
from enum import StrEnum

TICKER_RE = re.compile(r"^[A-Z]{1,5}(?:\.[A-Z]{1,2})?$")
"""A canonical index ticker: 1-5 letters, optionally a share-class suffix (BRK.B)."""


class Vendor(StrEnum):
    """Ticker spelling conventions."""

    INDEX = "index"  # Wikipedia / S&P: BRK.B
    SEC = "sec"  # company_tickers.json, Yahoo: BRK-B
    ISHARES = "ishares"  # IVV holdings: BRKB
    STOOQ = "stooq"  # brk-b.us


def canonical_ticker(raw: str) -> str:
    """Normalise a vendor spelling with a class separator to the index form (BRK-B -> BRK.B)."""
    value = raw.strip().upper()
    if value.endswith(".US"):
        value = value[:-3]
    return value.replace("-", ".").replace("/", ".")


def is_ticker(value: str) -> bool:
    """True when ``value`` has the shape of a canonical ticker."""
    return bool(TICKER_RE.match(value))


def vendor_ticker(ticker: str, vendor: Vendor) -> str:
    """The spelling of a canonical ticker at ``vendor``."""
    if vendor is Vendor.INDEX:
        return ticker
    if vendor is Vendor.SEC:
        return ticker.replace(".", "-")
    if vendor is Vendor.ISHARES:
        return ticker.replace(".", "")
    return ticker.replace(".", "-").lower() + ".us"


def aliases(ticker: str) -> list[str]:
    """Other vendors' spellings of ``ticker`` that differ from it, deduplicated, in vendor order."""
    out: list[str] = []
    for vendor in (Vendor.SEC, Vendor.ISHARES):
        spelling = vendor_ticker(ticker, vendor)
        if spelling != ticker and spelling not in out:
            out.append(spelling)
    return out
