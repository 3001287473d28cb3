"""Source kinds and the registry of sources, in the way pyiceberg registers catalogs.

A source plays one or more roles: constituents (the index page), financials (quarterly
reports per company) or prices (daily closes). Each role is a small Protocol; each source
is one module plus one line in ``AVAILABLE_SOURCES``. ``Sources`` (``sources.py``) decides
per role which registered source answers, and when to fall back.
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol

import httpx

from etl_service.plugins import resolve
from etl_service.settings import HttpSettings, Settings, SourceMode
from etl_service.src.adapters.archive import RawArchive
from etl_service.src.adapters.http import HttpFetcher
from etl_service.src.adapters.prices.incremental import StoredCloses
from etl_service.src.adapters.sec.incremental import FilingState
from etl_service.src.adapters.wikipedia import ParsedPage
from etl_service.src.models.records import Extracted

Progress = Callable[[str, int, int], None]


def no_progress(_step: str, _done: int, _total: int) -> None:
    return None


@dataclass(frozen=True)
class SourceContext:
    """What a source is built with: settings, the injected clients, and where incremental
    state lives (None: every run fetches everything)."""

    settings: Settings
    http_client: httpx.Client
    archive: RawArchive
    progress: Progress = no_progress
    filing_state: FilingState | None = None
    stored_closes: StoredCloses | None = None
    """The closes the last run stored, for appending new days (None: whole files)."""
    notes: list[str] = field(default_factory=list)
    """What the sources chose not to do and why (e.g. companies skipped as unchanged)."""

    def http(self, probe: bool = False) -> HttpSettings:
        """HTTP settings; a probe (auto mode's first request) fails in seconds, not minutes."""
        if probe and self.settings.source is SourceMode.AUTO:
            http = self.settings.http
            return http.model_copy(
                update={
                    "max_retries": 1,
                    "timeout_s": min(http.timeout_s, 10.0),
                    "deadline_s": min(http.deadline_s, 15.0),
                }
            )
        return self.settings.http

    def fetcher(self, probe: bool = False) -> HttpFetcher:
        """A fetcher with the service's User-Agent (a probe when ``probe``)."""
        return HttpFetcher(self.http_client, self.http(probe), self.settings.user_agent)


class ConstituentsSource(Protocol):
    """Yields the index's constituents and changes tables."""

    name: str

    def constituents(self) -> ParsedPage:
        """The parsed constituents and changes tables.

        Raises:
            SourceUnavailableError: the source could not be reached.
            InputError: what it returned is unusable.
        """


class FinancialsSource(Protocol):
    """Yields quarterly reports (``QUARTERLY_REPORTS``) per company."""

    name: str

    def financials(self, ciks: Sequence[str], tickers: Mapping[str, str]) -> Extracted:
        """Quarterly reports of the companies ``ciks`` (``tickers``: CIK → ticker).

        Raises:
            SourceUnavailableError: the source could not be reached at all.
            ConfigError: the source cannot be used as configured (e.g. no API key).
        """


class PricesSource(Protocol):
    """Yields daily closes (``DAILY_CLOSES``) per ticker."""

    name: str

    def closes(self, tickers: Collection[str]) -> Extracted:
        """Daily closes of ``tickers`` (canonical spelling, e.g. BRK.B).

        Raises:
            SourceUnavailableError: the source could not be reached at all.
        """


AVAILABLE_SOURCES: dict[str, str] = {
    "wikipedia": "etl_service.src.adapters.wikipedia.source:WikipediaSource",
    "sec": "etl_service.src.adapters.sec.source:SecCompanyFactsSource",
    "sec-bulk": "etl_service.src.adapters.sec.source:SecBulkSource",
    "sec-fsds": "etl_service.engines.spark.fsds_source:SecFsdsSource",
    "fmp": "etl_service.src.adapters.fmp.source:FmpFinancialsSource",
    "stooq": "etl_service.src.adapters.prices.source:StooqSource",
    "snapshot": "etl_service.src.adapters.snapshot_source:SnapshotSource",
}
"""Every source by name, as ``module:class``; the class takes a ``SourceContext``."""


def load_source(name: str, context: SourceContext) -> Any:
    """Build the registered source ``name`` (its module is imported only now)."""
    return resolve(AVAILABLE_SOURCES, name, "source")(context)
