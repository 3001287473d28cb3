"""The live prices source: one daily CSV per ticker from ``ETL_PRICES_URL_TEMPLATE``."""

from __future__ import annotations

import itertools
from collections.abc import Collection, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import pyarrow as pa
import pyarrow.compute as pc

from etl_service.errors import InputError, SourceRefusedError, SourceUnavailableError
from etl_service.src.adapters.prices.base import CLOSES_SCHEMA
from etl_service.src.adapters.prices.daily_csv import DailyCsvUrl
from etl_service.src.adapters.prices.incremental import Appended, append, fetch_from
from etl_service.src.models.records import Extracted

if TYPE_CHECKING:
    from etl_service.src.adapters.registry import SourceContext


class StooqSource:
    """Stooq's daily CSV per ticker (any vendor with the same layout via the template)."""

    name = "stooq"

    def __init__(self, context: SourceContext) -> None:
        self.context = context

    def closes(self, tickers: Collection[str]) -> Extracted:
        """Each ticker's file; the first request is the probe, later failures skip a ticker.

        A ticker with stored closes gets only the days from shortly before its last one,
        appended when the days both hold agree (``incremental``); the run's notes count them.
        """
        template = self.context.settings.prices_url_template
        probe = DailyCsvUrl(self.context.fetcher(probe=True), template)
        source = DailyCsvUrl(self.context.fetcher(), template)
        wanted = sorted(tickers)
        stored = self._stored(wanted)
        tally = _Tally()
        parts: list[Extracted] = []
        warnings: list[str] = []
        for done, ticker in enumerate(wanted, start=1):
            whole = probe if done == 1 else source
            try:
                parts.append(self._closes_of(ticker, whole, stored.get(ticker), tally))
            except SourceUnavailableError:
                if done == 1:
                    raise
                warnings.append(f"prices: {ticker} could not be fetched")
            except (SourceRefusedError, InputError) as exc:
                warnings.append(f"prices: {ticker} skipped: {exc}")
            self.context.progress("prices", done, len(wanted))
        combined = concat_extracted(parts)
        combined.warnings += warnings + tally.refetched
        if stored:
            self.context.notes.append(tally.note())
        return combined

    def _stored(self, tickers: list[str]) -> dict[str, pa.Table]:
        """The stored closes of each ticker, when this run may append to them."""
        settings = self.context.settings
        reader = self.context.stored_closes
        if reader is None or settings.full_refresh or not settings.prices_since_param:
            return {}
        return split_by_ticker(reader(tickers))

    def _closes_of(
        self, ticker: str, whole: DailyCsvUrl, stored: pa.Table | None, tally: _Tally
    ) -> Extracted:
        """The ticker's closes: stored ones plus the new days, or its whole file."""
        label = whole.source_label(ticker)
        mine = None if stored is None else stored.filter(pc.equal(stored["source"], label))
        param = self.context.settings.prices_since_param
        if mine is None or mine.num_rows == 0 or not param:
            return whole.closes([ticker])
        recent = DailyCsvUrl(whole.fetcher, whole.template + param.format(since=fetch_from(mine)))
        try:
            fetched = recent.closes([ticker])
        except SourceRefusedError as exc:  # e.g. no data in the range: stopped trading
            appended = Appended(None, refetch_because=str(exc))
        else:
            appended = append(mine, fetched.table)
        if appended.table is None:
            tally.refetched.append(f"prices: {ticker} fetched whole: {appended.refetch_because}")
            return whole.closes([ticker])
        tally.appended += 1
        tally.new_days += appended.new_days
        return Extracted(appended.table, fetched.rejected, fetched.warnings)


@dataclass
class _Tally:
    """What a run did with the stored closes."""

    appended: int = 0
    new_days: int = 0
    refetched: list[str] = field(default_factory=list)

    def note(self) -> str:
        return (
            f"prices: {self.appended} tickers appended to their stored closes "
            f"({self.new_days} new days); {len(self.refetched)} fetched whole"
        )


def split_by_ticker(closes: pa.Table) -> dict[str, pa.Table]:
    """``closes`` per ticker, each in date order."""
    if closes.num_rows == 0:
        return {}
    ordered = closes.sort_by([("ticker", "ascending"), ("date", "ascending")])
    tickers = ordered["ticker"]
    changes = pc.indices_nonzero(pc.not_equal(tickers[:-1], tickers[1:])).to_pylist()
    bounds = [0, *(i + 1 for i in changes), ordered.num_rows]
    return {
        str(tickers[start].as_py()): ordered.slice(start, end - start)
        for start, end in itertools.pairwise(bounds)
    }


def concat_extracted(parts: Sequence[Extracted]) -> Extracted:
    """One Extracted of daily closes from several."""
    tables = [p.table for p in parts] or [pa.Table.from_pylist([], schema=CLOSES_SCHEMA)]
    return Extracted(
        pa.concat_tables(tables),
        [r for p in parts for r in p.rejected],
        [w for p in parts for w in p.warnings],
    )
