"""FMP historical daily prices (``stable/historical-price-eod/full``) as daily closes.

FMP's ``close`` in this endpoint is adjusted for splits (not for dividends) up to the day
of the request, taken to be the last date answered (``adjusted_as_of``). FMP answers newest
day first; rows are put in date order before the order check.
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass
from datetime import date
from typing import Any

from etl_service.errors import InputError
from etl_service.src.adapters.fmp.client import FmpClient
from etl_service.src.adapters.prices.base import PriceValidator, RawPrice
from etl_service.src.models.records import Extracted
from etl_service.src.models.tickers import Vendor, vendor_ticker

PATH = "stable/historical-price-eod/full"
NUMBER_FIELDS = ("open", "high", "low", "close", "volume")


def _records(payload: Any, label: str) -> list[dict[str, Any]]:
    """The price records of a response: a list (stable API) or ``{"historical": [...]}`` (v3)."""
    records = payload.get("historical") if isinstance(payload, dict) else payload
    if not isinstance(records, list) or not all(isinstance(r, dict) for r in records):
        raise InputError(
            "FMP historical prices are not a list of records",
            source=label,
            field="body",
            value=type(payload).__name__,
        )
    return records


def _text(value: Any) -> str:
    return "null" if value is None else str(value)


@dataclass
class FmpPrices:
    """Daily closes from FMP for explicit tickers, optionally limited to a date range."""

    client: FmpClient
    start: date | None = None
    end: date | None = None
    name: str = "fmp"

    def closes(self, tickers: Collection[str] | None = None) -> Extracted:
        """Fetch and validate the daily history of each ticker."""
        if not tickers:
            raise InputError("FMP prices need explicit tickers", source=self.name)
        validator = PriceValidator()
        for ticker in tickers:
            symbol = vendor_ticker(ticker, Vendor.SEC)
            params = {"symbol": symbol}
            if self.start:
                params["from"] = self.start.isoformat()
            if self.end:
                params["to"] = self.end.isoformat()
            label = f"{self.name}:{symbol}"
            records = _records(self.client.get_json(PATH, params), label)
            numbered = list(enumerate(records, start=1))
            if len(records) > 1 and str(records[0].get("date")) > str(records[-1].get("date")):
                numbered.reverse()
            for number, record in numbered:
                validator.add(
                    RawPrice(
                        ticker,
                        _text(record.get("date")),
                        {f: _text(record.get(f)) for f in NUMBER_FIELDS if f in record},
                        f"{label} (split-adjusted)",
                        label,
                        number,
                        close_field="close",
                        split_adjusted=True,
                    )
                )
        return validator.extract()
