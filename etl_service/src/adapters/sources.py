"""Choosing, per role, which registered source answers: a live chain, then the offline one.

The chains, in order:

=============  ==========================================  ===================================
role           live                                        offline
=============  ==========================================  ===================================
constituents   wikipedia                                   snapshot
financials     sec, then fmp when ETL_FMP_API_KEY is set   sec-bulk when ETL_SEC__BULK_PATH
                                                           is set, else snapshot
prices         stooq                                       snapshot
=============  ==========================================  ===================================

Member-list history is not a chain: every run uses the bundled lists, every page it ever
archived, and the page's monthly past revisions, fetched in ``live`` and ``auto`` mode.

``ETL_FINANCIALS_SOURCE`` (``run --financials``) names the one financials source instead.
``snapshot`` mode uses the offline source only and never touches the network. ``live``
tries the live chain in order and never falls back. ``auto`` tries the live chain, then
falls back to the offline source with a warning that the run records. A live source gives
way to the next when it cannot be used as configured (no SEC User-Agent, no FMP key) or
when its first request finds the network down: that probe fails in seconds.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Collection, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, TypeVar

import httpx
import pyarrow as pa

from etl_service import snapshot
from etl_service.errors import ConfigError, SourceRefusedError, SourceUnavailableError
from etl_service.settings import Settings, SourceMode
from etl_service.src.adapters.archive import RawArchive
from etl_service.src.adapters.http import HttpFetcher
from etl_service.src.adapters.member_lists import (
    MemberList,
    ReferenceSpans,
    archived_member_lists,
    bundled_member_lists,
    page_members,
)
from etl_service.src.adapters.prices.incremental import StoredCloses
from etl_service.src.adapters.registry import (
    ConstituentsSource,
    FinancialsSource,
    PricesSource,
    Progress,
    SourceContext,
    load_source,
    no_progress,
)
from etl_service.src.adapters.sec.cik_observations import CikObservation
from etl_service.src.adapters.sec.incremental import FilingState
from etl_service.src.adapters.wikipedia import ParsedPage
from etl_service.src.adapters.wikipedia.revisions import (
    RevisionClient,
    RevisionPage,
    archived_pages,
    revision_pages,
)
from etl_service.src.models.records import Extracted

logger = logging.getLogger(__name__)

T = TypeVar("T")


@dataclass(frozen=True)
class Chain:
    """The sources of one role: live ones in order, and the offline one."""

    live: tuple[str, ...]
    offline: str


def source_chains(settings: Settings) -> dict[str, Chain]:
    """The chain of each role under ``settings`` (see the module docstring)."""
    financials = ("sec", "fmp") if settings.fmp_api_key is not None else ("sec",)
    financials_chain = Chain(financials, "sec-bulk" if settings.sec.bulk_path else "snapshot")
    if settings.financials_source:  # chosen for the run: no chain, no fallback
        financials_chain = Chain((), settings.financials_source)
    return {
        "constituents": Chain(("wikipedia",), "snapshot"),
        "financials": financials_chain,
        "prices": Chain(("stooq",), "snapshot"),
    }


@dataclass
class SourceReport:
    """Where each role's data came from, and what the run should know about it."""

    origins: dict[str, str] = field(default_factory=dict)
    used: dict[str, str] = field(default_factory=dict)
    warnings: list[str] = field(default_factory=list)

    @property
    def summary(self) -> str:
        kinds = set(self.origins.values())
        return kinds.pop() if len(kinds) == 1 else "mixed"


class Sources:
    """The pipeline's view of its sources, with the choice of source made per role."""

    def __init__(
        self,
        settings: Settings,
        http_client: httpx.Client,
        archive: RawArchive,
        progress: Progress | None = None,
        filing_state: FilingState | None = None,
        stored_closes: StoredCloses | None = None,
    ) -> None:
        self.context = SourceContext(
            settings, http_client, archive, progress or no_progress, filing_state, stored_closes
        )
        self.chains = source_chains(settings)
        self.report = SourceReport()

    def _choose(self, role: str, call: Callable[[Any], T]) -> T:
        chain, mode = self.chains[role], self.context.settings.source
        if mode is SourceMode.SNAPSHOT or not chain.live:
            return self._offline(role, chain.offline, call, fallback=False)
        failure: Exception | None = None
        for name in chain.live:
            try:
                result = call(load_source(name, self.context))
            except (SourceUnavailableError, ConfigError) as exc:
                logger.info("%s: source %s not usable: %s", role, name, exc)
                failure = failure or exc
                continue
            self.report.origins[role] = "live"
            self.report.used[role] = name
            return result
        assert failure is not None
        if mode is SourceMode.LIVE:
            raise failure
        message = f"{role}: live source not usable ({failure}); using the bundled snapshot"
        if chain.offline != "snapshot":
            message = f"{role}: live source not usable ({failure}); using {chain.offline}"
        logger.warning("%s", message)
        self.report.warnings.append(message)
        return self._offline(role, chain.offline, call, fallback=True)

    def _offline(self, role: str, name: str, call: Callable[[Any], T], fallback: bool) -> T:
        result = call(load_source(name, self.context))
        origin = "snapshot" if name == "snapshot" else f"local files ({name})"
        self.report.origins[role] = f"{origin} (fallback)" if fallback else origin
        self.report.used[role] = name
        return result

    @property
    def notes(self) -> list[str]:
        """What the sources skipped and why (for the run summary)."""
        return self.context.notes

    def save_state(self) -> None:
        """Save the incremental state the sources staged; call once the load has committed."""
        if self.context.filing_state is not None:
            self.context.filing_state.save()

    def constituents_page(self) -> ParsedPage:
        """The parsed constituents and changes tables."""

        def call(source: ConstituentsSource) -> ParsedPage:
            return source.constituents()

        return self._choose("constituents", call)

    def financials(
        self, ciks: Sequence[str], tickers: Mapping[str, str] | None = None
    ) -> Extracted:
        """Quarterly reports of every CIK a source has (``tickers``: CIK → ticker, for FMP)."""

        def call(source: FinancialsSource) -> Extracted:
            return source.financials(ciks, tickers or {})

        return self._choose("financials", call)

    def history(self) -> list[MemberList]:
        """Every observed member list: the bundled ones, each page the runs archived, and
        the page's monthly past revisions (``wikipedia.revisions``)."""
        bundled = bundled_member_lists(snapshot.MEMBER_LISTS)
        archived = archived_member_lists(self.context.archive)
        revisions = [page_members(r.page, r.timestamp.date()) for r in self._revisions()]
        return [*bundled, *archived, *revisions]

    def _revisions(self) -> list[RevisionPage]:
        """The archived revisions, after fetching the new months unless in snapshot mode.

        In ``auto`` mode a network that is down costs a short probe and a warning; the
        revisions archived by earlier runs are used all the same.
        """
        settings, archive = self.context.settings, self.context.archive
        mode = settings.source
        if not settings.wikipedia_history.enabled or mode is SourceMode.SNAPSHOT:
            return archived_pages(archive)
        fetcher = HttpFetcher(
            self.context.http_client,
            self.context.http(probe=True),
            settings.user_agent,
            use_cache=False,  # every revision is archived; a cached copy would be a second one
        )
        client = RevisionClient(fetcher, settings.wikipedia_history.api_url)
        try:
            return revision_pages(client, archive, settings.wikipedia_history)
        except (SourceUnavailableError, SourceRefusedError) as exc:
            if mode is SourceMode.LIVE:
                raise
            message = f"history: past revisions not fetched ({exc}); using the archived ones"
            logger.warning("%s", message)
            self.report.warnings.append(message)
            return archived_pages(archive)

    def former_ciks(self) -> pa.Table:
        """CIKs of former members resolved ahead of time (bundled; see ``sec.former_ciks``)."""
        from etl_service.src.adapters.sec.former_ciks import load_bundled_former_ciks

        return load_bundled_former_ciks()

    def ticker_sightings(self) -> list[CikObservation]:
        """Tickers seen with their CIKs outside the member lists (bundled; see
        ``sec.former_ciks.load_ticker_sightings``)."""
        from etl_service.src.adapters.sec.former_ciks import load_ticker_sightings

        return load_ticker_sightings()

    def reference(self) -> ReferenceSpans:
        """The independent membership record bundled as a cross-check and date seed."""
        return ReferenceSpans.read(snapshot.REFERENCE_SPANS)

    def closes(self, tickers: Collection[str]) -> Extracted:
        """Daily closes for ``tickers``."""

        def call(source: PricesSource) -> Extracted:
            return source.closes(tickers)

        return self._choose("prices", call)
