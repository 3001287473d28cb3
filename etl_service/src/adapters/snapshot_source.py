"""The bundled offline snapshot as a source of every role (see ``etl_service/snapshot``)."""

from __future__ import annotations

from collections.abc import Collection, Mapping, Sequence
from typing import TYPE_CHECKING

import duckdb
import pyarrow as pa

from etl_service import snapshot
from etl_service.src.adapters.prices.daily_csv import DailyCsvFolder, ticker_from_filename
from etl_service.src.adapters.prices.ishares import IsharesHoldings
from etl_service.src.adapters.sec.source import SecBulkSource
from etl_service.src.adapters.wikipedia import ParsedPage, parse_page, read_page_file
from etl_service.src.models.records import Extracted

if TYPE_CHECKING:
    from etl_service.src.adapters.registry import SourceContext


class SnapshotSource:
    """The Wikipedia page, companyfacts and prices recorded with the package; no network."""

    name = "snapshot"

    def __init__(self, context: SourceContext) -> None:
        self.context = context

    def constituents(self) -> ParsedPage:
        return parse_page(read_page_file(snapshot.WIKIPEDIA_PAGE), str(snapshot.WIKIPEDIA_PAGE))

    def financials(self, ciks: Sequence[str], tickers: Mapping[str, str]) -> Extracted:
        bulk = SecBulkSource(self.context, snapshot.SEC_COMPANYFACTS)
        return bulk.financials(ciks, tickers)

    def closes(self, tickers: Collection[str]) -> Extracted:
        folder = DailyCsvFolder(snapshot.STOOQ_DAILY)
        have = {ticker_from_filename(p) for p in folder.files()}
        daily = folder.closes(sorted(have & set(tickers)))
        holdings = IsharesHoldings.from_folder(snapshot.ISHARES_HOLDINGS, tickers)
        return prefer_daily(daily, holdings.closes(tickers))


def prefer_daily(daily: Extracted, holdings: Extracted) -> Extracted:
    """Daily series first; a holdings close counts only after the ticker's last daily close.

    The daily files are split- and dividend-adjusted while holdings prices are as traded,
    so the two are never mixed within one ticker's period: the holdings fill only the
    dates after the daily series ends.
    """
    con = duckdb.connect()
    con.register("daily", daily.table)
    con.register("holdings", holdings.table)
    kept = con.sql(
        "SELECT h.* FROM holdings AS h LEFT JOIN "
        "(SELECT ticker, MAX(date) AS last_date FROM daily GROUP BY ticker) AS d "
        "ON d.ticker = h.ticker WHERE d.last_date IS NULL OR h.date > d.last_date"
    ).to_arrow_table()
    con.close()
    dropped = holdings.table.num_rows - kept.num_rows
    warnings = [*daily.warnings, *holdings.warnings]
    if dropped:
        warnings.append(
            f"prices: {dropped} holdings closes fall within a ticker's daily series and were "
            "not used (adjusted and as-traded prices are not mixed)"
        )
    table = pa.concat_tables([daily.table, kept.cast(daily.table.schema)])
    return Extracted(table, [*daily.rejected, *holdings.rejected], warnings)
