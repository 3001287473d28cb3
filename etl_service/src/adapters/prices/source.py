"""The live prices source: one daily CSV per ticker from ``ETL_PRICES_URL_TEMPLATE``."""

from __future__ import annotations

from collections.abc import Collection, Sequence
from typing import TYPE_CHECKING

import pyarrow as pa

from etl_service.errors import InputError, SourceRefusedError, SourceUnavailableError
from etl_service.src.adapters.prices.base import CLOSES_SCHEMA
from etl_service.src.adapters.prices.daily_csv import DailyCsvUrl
from etl_service.src.models.records import Extracted

if TYPE_CHECKING:
    from etl_service.src.adapters.registry import SourceContext


class StooqSource:
    """Stooq's daily CSV per ticker (any vendor with the same layout via the template)."""

    name = "stooq"

    def __init__(self, context: SourceContext) -> None:
        self.context = context

    def closes(self, tickers: Collection[str]) -> Extracted:
        """Each ticker's file; the first request is the probe, later failures skip a ticker."""
        template = self.context.settings.prices_url_template
        probe = DailyCsvUrl(self.context.fetcher(probe=True), template)
        source = DailyCsvUrl(self.context.fetcher(), template)
        wanted = sorted(tickers)
        parts: list[Extracted] = []
        warnings: list[str] = []
        for done, ticker in enumerate(wanted, start=1):
            try:
                parts.append((probe if done == 1 else source).closes([ticker]))
            except SourceUnavailableError:
                if done == 1:
                    raise
                warnings.append(f"prices: {ticker} could not be fetched")
            except (SourceRefusedError, InputError) as exc:
                warnings.append(f"prices: {ticker} skipped: {exc}")
            self.context.progress("prices", done, len(wanted))
        combined = concat_extracted(parts)
        combined.warnings += warnings
        return combined


def concat_extracted(parts: Sequence[Extracted]) -> Extracted:
    """One Extracted of daily closes from several."""
    tables = [p.table for p in parts] or [pa.Table.from_pylist([], schema=CLOSES_SCHEMA)]
    return Extracted(
        pa.concat_tables(tables),
        [r for p in parts for r in p.rejected],
        [w for p in parts for w in p.warnings],
    )
