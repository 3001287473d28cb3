"""Financials sources over SEC companyfacts: the live API and a bulk file or folder."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING

import pyarrow as pa

from etl_service.errors import ConfigError, InputError, SourceRefusedError, SourceUnavailableError
from etl_service.src.adapters.sec.client import (
    BulkCompanyFacts,
    CompanyFactsClient,
    CompanyFactsSource,
    build_sec_fetcher,
)
from etl_service.src.adapters.sec.companyfacts import cik10
from etl_service.src.adapters.sec.quarterly import extract_quarterly
from etl_service.src.models.records import Extracted, Rejected
from etl_service.src.models.schemas import QUARTERLY_REPORTS, SPLIT_EVENTS, arrow_schema

if TYPE_CHECKING:
    from etl_service.src.adapters.registry import Progress, SourceContext


class SecCompanyFactsSource:
    """SEC's companyfacts API, one request per company under the process-wide rate limit."""

    name = "sec"

    def __init__(self, context: SourceContext) -> None:
        self.context = context

    def _client(self, probe: bool) -> CompanyFactsClient:
        settings = self.context.settings
        fetcher = build_sec_fetcher(
            self.context.http_client,
            self.context.http(probe),
            settings.sec_user_agent,
            settings.sec.max_requests_per_s,
        )
        return CompanyFactsClient(fetcher, settings.sec.base_url)

    def financials(self, ciks: Sequence[str], tickers: Mapping[str, str]) -> Extracted:
        first, rest = self._client(probe=True), self._client(probe=False)
        return extract_all(first, ciks, self.context.progress, live=True, rest=rest)


class SecBulkSource:
    """A companyfacts.zip or a folder of ``CIK##########.json[.gz]`` (``ETL_SEC__BULK_PATH``)."""

    name = "sec-bulk"

    def __init__(self, context: SourceContext, path: Path | None = None) -> None:
        self.context = context
        bulk_path = path or context.settings.sec.bulk_path
        if bulk_path is None:
            raise ConfigError("the sec-bulk source needs ETL_SEC__BULK_PATH")
        self.path = bulk_path

    def financials(self, ciks: Sequence[str], tickers: Mapping[str, str]) -> Extracted:
        bulk = BulkCompanyFacts(self.path)
        wanted = {cik10(c) for c in ciks}
        available = sorted(c for c in wanted if bulk.has(c))
        extracted = extract_all(bulk, available, self.context.progress, live=False)
        missing = len(wanted) - len(available)
        if missing:
            extracted.warnings.append(
                f"financials: {missing} of {len(wanted)} companies have no companyfacts "
                f"in {self.path}; they get no quarterly reports"
            )
        return extracted


def extract_all(
    source: CompanyFactsSource,
    ciks: Sequence[str],
    progress: Progress,
    live: bool,
    rest: CompanyFactsSource | None = None,
) -> Extracted:
    """Quarterly reports of every CIK ``source`` answers for (``rest`` after the first), and
    their stock splits (``related["split_events"]``).

    Live, the first request is the probe: when it finds the network down the error goes to
    the caller, which falls back as a whole; later failures skip only that company, with
    a warning. An unreadable company file or body (malformed JSON, bad gzip or encoding,
    nested too deeply, no fiscal-year end) is quarantined with its reason, and the other
    companies go on.
    """
    tables: list[pa.Table] = []
    splits: list[pa.Table] = [arrow_schema(SPLIT_EVENTS).empty_table()]
    rejected: list[Rejected] = []
    warnings: list[str] = []
    unique = sorted({cik10(c) for c in ciks})
    unreadable = 0
    for done, cik in enumerate(unique, start=1):
        try:
            body, origin = (source if done == 1 or rest is None else rest).get(cik)
            extracted = extract_quarterly(body, origin)
        except SourceUnavailableError:
            if live and done == 1:
                raise
            warnings.append(f"financials: CIK {cik} could not be fetched; skipped")
            continue
        except InputError as exc:
            rejected.append(_unreadable(cik, exc))
            unreadable += 1
            warnings.append(f"financials: CIK {cik} skipped: {exc}")
            continue
        except SourceRefusedError as exc:  # e.g. 404: no XBRL facts for the CIK
            warnings.append(f"financials: CIK {cik} skipped: {exc}")
            continue
        tables.append(extracted.table)
        splits.append(extracted.related[SPLIT_EVENTS.name])
        rejected += extracted.rejected
        warnings += [f"CIK {cik}: {w}" for w in extracted.warnings]
        progress("financials", done, len(unique))
    if unreadable:
        warnings.append(f"financials: {unreadable} unreadable companyfacts quarantined")
    table = (
        pa.concat_tables(tables)
        if tables
        else pa.Table.from_pylist([], schema=arrow_schema(QUARTERLY_REPORTS))
    )
    return Extracted(table, rejected, warnings, {SPLIT_EVENTS.name: pa.concat_tables(splits)})


def _unreadable(cik: str, exc: InputError) -> Rejected:
    """The quarantine row of a company whose companyfacts could not be read at all."""
    return Rejected(
        table=QUARTERLY_REPORTS.name,
        record_key=cik,
        reason=f"companyfacts unreadable, CIK {cik} skipped: {exc}",
        source=exc.source,
        record={"cik": cik, "file": exc.source},
    )
