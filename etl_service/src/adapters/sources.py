"""Choosing where each source comes from: live, or the bundled snapshot as a fallback.

In ``auto`` mode each source is tried live first; when the network is unavailable (a
transient error on the first request, or a live source that cannot be used as configured,
such as SEC without a User-Agent) that source falls back to the snapshot, with a warning
that the run records. ``live`` never falls back; ``snapshot`` never touches the network.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Collection, Sequence
from dataclasses import dataclass, field
from typing import TypeVar

import httpx
import pyarrow as pa

from etl_service import snapshot
from etl_service.errors import (
    ConfigError,
    InputError,
    SourceRefusedError,
    SourceUnavailableError,
)
from etl_service.settings import HttpSettings, Settings, SourceMode
from etl_service.src.adapters.archive import RawArchive
from etl_service.src.adapters.http import HttpFetcher
from etl_service.src.adapters.prices.base import CLOSES_SCHEMA
from etl_service.src.adapters.prices.daily_csv import (
    DailyCsvFolder,
    DailyCsvUrl,
    ticker_from_filename,
)
from etl_service.src.adapters.prices.ishares import IsharesHoldings
from etl_service.src.adapters.sec.client import (
    BulkCompanyFacts,
    CompanyFactsClient,
    CompanyFactsSource,
    build_sec_fetcher,
)
from etl_service.src.adapters.sec.companyfacts import cik10
from etl_service.src.adapters.sec.quarterly import extract_quarterly
from etl_service.src.adapters.wikipedia import ParsedPage, fetch_page, parse_page, read_page_file
from etl_service.src.models.records import Extracted, Rejected
from etl_service.src.models.schemas import QUARTERLY_REPORTS, arrow_schema

logger = logging.getLogger(__name__)

T = TypeVar("T")
Progress = Callable[[str, int, int], None]


@dataclass
class SourceReport:
    """Where each source came from, and what the run should know about it."""

    origins: dict[str, str] = field(default_factory=dict)
    warnings: list[str] = field(default_factory=list)

    @property
    def summary(self) -> str:
        kinds = set(self.origins.values())
        return kinds.pop() if len(kinds) == 1 else "mixed"


def _no_progress(_step: str, _done: int, _total: int) -> None:
    return None


class Sources:
    """The pipeline's view of its sources, with the live/snapshot decision made per source."""

    def __init__(
        self,
        settings: Settings,
        http_client: httpx.Client,
        archive: RawArchive,
        progress: Progress | None = None,
    ) -> None:
        self.settings = settings
        self.http_client = http_client
        self.archive = archive
        self.progress = progress or _no_progress
        self.report = SourceReport()

    def _choose(self, name: str, live: Callable[[], T], offline: Callable[[], T]) -> T:
        mode = self.settings.source
        if mode is SourceMode.SNAPSHOT:
            self.report.origins[name] = "snapshot"
            return offline()
        try:
            result = live()
        except (SourceUnavailableError, ConfigError) as exc:
            if mode is SourceMode.LIVE:
                raise
            message = f"{name}: live source not usable ({exc}); using the bundled snapshot"
            logger.warning("%s", message)
            self.report.warnings.append(message)
            self.report.origins[name] = "snapshot (fallback)"
            return offline()
        self.report.origins[name] = "live"
        return result

    def _http(self, probe: bool) -> HttpSettings:
        # In auto mode the first request of a source is a probe: when the network is down
        # it fails in seconds and the source falls back, instead of retrying for a minute.
        if probe and self.settings.source is SourceMode.AUTO:
            return self.settings.http.model_copy(
                update={"max_retries": 1, "timeout_s": min(self.settings.http.timeout_s, 10.0)}
            )
        return self.settings.http

    def _fetcher(self, probe: bool = False) -> HttpFetcher:
        return HttpFetcher(self.http_client, self._http(probe), self.settings.user_agent)

    # -- constituents ------------------------------------------------------------------
    def constituents_page(self) -> ParsedPage:
        """The parsed constituents and changes tables."""

        def live() -> ParsedPage:
            page = fetch_page(self._fetcher(probe=True), self.settings.wikipedia_url, self.archive)
            return parse_page(page.body, self.settings.wikipedia_url)

        def offline() -> ParsedPage:
            return parse_page(read_page_file(snapshot.WIKIPEDIA_PAGE), str(snapshot.WIKIPEDIA_PAGE))

        return self._choose("constituents", live, offline)

    # -- financials --------------------------------------------------------------------
    def financials(self, ciks: Sequence[str]) -> Extracted:
        """Quarterly reports of every CIK that has companyfacts, rejections and warnings."""

        def live() -> Extracted:
            clients = [
                CompanyFactsClient(
                    build_sec_fetcher(
                        self.http_client,
                        self._http(probe),
                        self.settings.sec_user_agent,
                        self.settings.sec.max_requests_per_s,
                    ),
                    self.settings.sec.base_url,
                )
                for probe in (True, False)
            ]
            return self._extract_all(clients[0], ciks, probe_first=True, rest=clients[1])

        def offline() -> Extracted:
            bulk_path = self.settings.sec.bulk_path or snapshot.SEC_COMPANYFACTS
            bulk = BulkCompanyFacts(bulk_path)
            available = [c for c in ciks if bulk.has(c)]
            skipped = len(set(ciks)) - len(set(available))
            if skipped:
                self.report.warnings.append(
                    f"financials: {skipped} of {len(set(ciks))} companies have no companyfacts "
                    f"in {bulk_path}; they get no quarterly reports"
                )
            return self._extract_all(bulk, available, probe_first=False)

        return self._choose("financials", live, offline)

    def _extract_all(
        self,
        source: CompanyFactsSource,
        ciks: Sequence[str],
        probe_first: bool,
        rest: CompanyFactsSource | None = None,
    ) -> Extracted:
        tables: list[pa.Table] = []
        rejected: list[Rejected] = []
        warnings: list[str] = []
        unique = sorted({cik10(c) for c in ciks})
        for done, cik in enumerate(unique, start=1):
            try:
                body, origin = (source if done == 1 or rest is None else rest).get(cik)
                extracted = extract_quarterly(body, origin)
            except SourceUnavailableError:
                if probe_first and done == 1:
                    raise  # the network is down: let the caller fall back as a whole
                warnings.append(f"financials: CIK {cik} could not be fetched; skipped")
                continue
            except (SourceRefusedError, InputError) as exc:
                if not probe_first and isinstance(exc, InputError):
                    raise  # a corrupt local file is the user's to fix: stop, write nothing
                # live: e.g. 404 (no XBRL facts for the CIK) or a garbled body for one company
                warnings.append(f"financials: CIK {cik} skipped: {exc}")
                continue
            tables.append(extracted.table)
            rejected += extracted.rejected
            warnings += [f"CIK {cik}: {w}" for w in extracted.warnings]
            self.progress("financials", done, len(unique))
        table = (
            pa.concat_tables(tables)
            if tables
            else pa.Table.from_pylist([], schema=arrow_schema(QUARTERLY_REPORTS))
        )
        return Extracted(table, rejected, warnings)

    # -- prices ------------------------------------------------------------------------
    def closes(self, tickers: Collection[str]) -> Extracted:
        """Daily closes for ``tickers``: the daily series, then holdings files after them."""

        def live() -> Extracted:
            template = self.settings.prices_url_template
            probe = DailyCsvUrl(self._fetcher(probe=True), template)
            source = DailyCsvUrl(self._fetcher(), template)
            wanted = sorted(tickers)
            parts: list[Extracted] = []
            for done, ticker in enumerate(wanted, start=1):
                try:
                    parts.append((probe if done == 1 else source).closes([ticker]))
                except SourceUnavailableError:
                    if done == 1:
                        raise
                    self.report.warnings.append(f"prices: {ticker} could not be fetched")
                except (SourceRefusedError, InputError) as exc:
                    self.report.warnings.append(f"prices: {ticker} skipped: {exc}")
                self.progress("prices", done, len(wanted))
            return _concat(parts)

        def offline() -> Extracted:
            folder = DailyCsvFolder(snapshot.STOOQ_DAILY)
            have = {ticker_from_filename(p) for p in folder.files()}
            daily = folder.closes(sorted(have & set(tickers)))
            holdings = IsharesHoldings.from_folder(snapshot.ISHARES_HOLDINGS, tickers).closes(
                tickers
            )
            return prefer_daily(daily, holdings)

        return self._choose("prices", live, offline)


def _concat(parts: Sequence[Extracted]) -> Extracted:
    tables = [p.table for p in parts] or [pa.Table.from_pylist([], schema=CLOSES_SCHEMA)]
    return Extracted(
        pa.concat_tables(tables),
        [r for p in parts for r in p.rejected],
        [w for p in parts for w in p.warnings],
    )


def prefer_daily(daily: Extracted, holdings: Extracted) -> Extracted:
    """Daily series first; a holdings close counts only after the ticker's last daily close.

    The daily files are split- and dividend-adjusted while holdings prices are as traded,
    so the two are never mixed within one ticker's period: the holdings fill only the
    dates after the daily series ends.
    """
    import duckdb

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
