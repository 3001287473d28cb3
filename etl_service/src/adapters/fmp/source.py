"""FMP income statements as a financials source, used when ``ETL_FMP_API_KEY`` is set.

FMP is keyed by ticker, so companies without a ticker are skipped with a warning. Its
quarterly statements carry no year-to-date EPS, so TTM EPS for Q4 comes from the
four-quarter sum only (see ``transforms/prices_pe``).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING

import pyarrow as pa

from etl_service.errors import InputError, SourceRefusedError, SourceUnavailableError
from etl_service.src.adapters.fmp.client import FmpClient
from etl_service.src.adapters.fmp.income_statement import fetch_income_statement
from etl_service.src.adapters.sec.companyfacts import cik10
from etl_service.src.models.records import Extracted, Rejected
from etl_service.src.models.schemas import QUARTERLY_REPORTS, arrow_schema

if TYPE_CHECKING:
    from etl_service.src.adapters.registry import SourceContext


class FmpFinancialsSource:
    """FMP's quarterly income statement per ticker (``stable`` API)."""

    name = "fmp"

    def __init__(self, context: SourceContext) -> None:
        self.context = context
        settings = context.settings
        # Raises ConfigError without a key, so the chain moves on to the next source.
        key, base = settings.fmp_api_key, settings.fmp_base_url
        self.probe = FmpClient(context.fetcher(probe=True), key, base)
        self.client = FmpClient(context.fetcher(), key, base)

    def financials(self, ciks: Sequence[str], tickers: Mapping[str, str]) -> Extracted:
        tables: list[pa.Table] = []
        rejected: list[Rejected] = []
        warnings: list[str] = []
        wanted = sorted({cik10(c) for c in ciks})
        for done, cik in enumerate(wanted, start=1):
            ticker = tickers.get(cik)
            if ticker is None:
                warnings.append(f"financials: CIK {cik} has no ticker for FMP; skipped")
                continue
            symbol = ticker.replace(".", "-")  # FMP spells class shares BRK-B
            try:
                extracted = fetch_income_statement(
                    self.probe if done == 1 else self.client, symbol, "quarter"
                )
            except SourceUnavailableError:
                if done == 1:
                    raise
                warnings.append(f"financials: FMP {symbol} could not be fetched; skipped")
                continue
            except (SourceRefusedError, InputError) as exc:
                warnings.append(f"financials: FMP {symbol} skipped: {exc}")
                continue
            tables.append(extracted.table)
            rejected += extracted.rejected
            self.context.progress("financials", done, len(wanted))
        table = (
            pa.concat_tables(tables)
            if tables
            else pa.Table.from_pylist([], schema=arrow_schema(QUARTERLY_REPORTS))
        )
        return Extracted(table, rejected, warnings)
