"""Financials sources over SEC companyfacts: the live API and a bulk file or folder."""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor, as_completed
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING

import pyarrow as pa

from etl_service.errors import ConfigError, InputError, SourceRefusedError, SourceUnavailableError
from etl_service.src.adapters.http import HttpFetcher
from etl_service.src.adapters.sec.client import (
    BulkCompanyFacts,
    CompanyFactsClient,
    CompanyFactsSource,
    build_sec_fetcher,
)
from etl_service.src.adapters.sec.companyfacts import cik10
from etl_service.src.adapters.sec.daily_index import DailyIndexClient, Filing
from etl_service.src.adapters.sec.incremental import (
    FilingCursor,
    Plan,
    combine,
    full_plan,
    index_window,
    next_cursors,
    plan_fetch,
)
from etl_service.src.adapters.sec.quarterly import extract_quarterly
from etl_service.src.models.records import Extracted, Rejected
from etl_service.src.models.schemas import QUARTERLY_REPORTS, SPLIT_EVENTS, arrow_schema

if TYPE_CHECKING:
    from etl_service.src.adapters.registry import Progress, SourceContext

logger = logging.getLogger(__name__)


class SecCompanyFactsSource:
    """SEC's companyfacts API, one request per company, several at a time under the
    process-wide rate limit; with a ``FilingState``, only the companies that filed since
    their cursor (``sec.incremental``)."""

    name = "sec"

    def __init__(self, context: SourceContext) -> None:
        self.context = context

    def _fetcher(self, probe: bool) -> HttpFetcher:
        settings = self.context.settings
        return build_sec_fetcher(
            self.context.http_client,
            self.context.http(probe),
            settings.sec_user_agent,
            settings.sec.max_requests_per_s,
        )

    def _client(self, probe: bool) -> CompanyFactsClient:
        return CompanyFactsClient(self._fetcher(probe), self.context.settings.sec.base_url)

    def financials(self, ciks: Sequence[str], tickers: Mapping[str, str]) -> Extracted:
        first, rest = self._client(probe=True), self._client(probe=False)
        state, context = self.context.filing_state, self.context
        wanted = sorted({cik10(c) for c in ciks})
        through = datetime.now(UTC).date() - timedelta(days=1)  # today's index is not complete
        cursors = state.cursors() if state is not None else {}
        latest: dict[str, Filing] = {}
        plan = self._plan(wanted, cursors, through, latest) if state else Plan(wanted, [], "")
        answered: set[str] = set()
        workers = context.settings.sec.max_concurrency
        fresh = extract_all(
            first, plan.fetch, context.progress, True, rest, workers=workers, answered=answered
        )
        if state is None:
            return fresh
        logger.info("%s", plan.note)
        context.notes.append(plan.note)
        state.stage(next_cursors(plan, answered, fresh.table, latest, cursors, through))
        return combine(fresh, state.previous(plan.keep)) if plan.keep else fresh

    def _plan(
        self,
        wanted: Sequence[str],
        cursors: Mapping[str, FilingCursor],
        through: date,
        latest: dict[str, Filing],
    ) -> Plan:
        """What to fetch; ``latest`` gets each company's latest filing in the daily index."""
        sec = self.context.settings.sec
        if self.context.settings.full_refresh:
            return full_plan(wanted, "full refresh requested")
        window = index_window(wanted, cursors, through)
        if window is None:
            return full_plan(wanted, "no filing cursors yet")
        first_day, last_day = window
        if (last_day - first_day).days >= sec.incremental_max_days:
            return full_plan(
                wanted,
                f"the oldest cursor was checked on {first_day - timedelta(days=1)}, over "
                f"{sec.incremental_max_days} days ago (ETL_SEC__INCREMENTAL_MAX_DAYS)",
            )
        index = DailyIndexClient(self._fetcher(probe=True), sec.daily_index_url)
        latest.update(index.latest_filings(first_day, last_day))  # the run's probe
        return plan_fetch(wanted, cursors, latest)


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


@dataclass
class _Outcome:
    """What one company's companyfacts gave: reports, or why there are none."""

    extracted: Extracted | None = None
    rejected: Rejected | None = None
    warning: str | None = None
    answered: bool = True
    """False when the source could not be reached for it (the company is tried again later)."""


def _fetch_one(source: CompanyFactsSource, cik: str, probe: bool) -> _Outcome:
    """The reports of ``cik``; a probe lets an unreachable source's error through."""
    try:
        body, origin = source.get(cik)
        return _Outcome(extract_quarterly(body, origin))
    except SourceUnavailableError:
        if probe:
            raise
        return _Outcome(
            warning=f"financials: CIK {cik} could not be fetched; skipped", answered=False
        )
    except InputError as exc:
        return _Outcome(
            rejected=_unreadable(cik, exc), warning=f"financials: CIK {cik} skipped: {exc}"
        )
    except SourceRefusedError as exc:  # e.g. 404: no XBRL facts for the CIK
        return _Outcome(warning=f"financials: CIK {cik} skipped: {exc}")


def _fetch_every(
    source: CompanyFactsSource,
    rest: CompanyFactsSource,
    ciks: Sequence[str],
    progress: Progress,
    live: bool,
    workers: int,
) -> list[_Outcome]:
    """One outcome per CIK, in the order of ``ciks``: the first alone (the probe), the rest
    ``workers`` at a time; the shared rate limiter, not the pool, sets the pace."""
    outcomes: list[_Outcome | None] = [None] * len(ciks)
    if not ciks:
        return []
    outcomes[0] = _fetch_one(source, ciks[0], probe=live)
    progress("financials", 1, len(ciks))
    if workers <= 1:
        for index in range(1, len(ciks)):
            outcomes[index] = _fetch_one(rest, ciks[index], probe=False)
            progress("financials", index + 1, len(ciks))
        return [o for o in outcomes if o is not None]
    pool = ThreadPoolExecutor(max_workers=workers, thread_name_prefix="companyfacts")
    try:
        futures = {
            pool.submit(_fetch_one, rest, ciks[index], False): index
            for index in range(1, len(ciks))
        }
        for done, future in enumerate(as_completed(futures), start=2):
            outcomes[futures[future]] = future.result()
            progress("financials", done, len(ciks))
    finally:
        # On an error or SIGTERM the queued companies are dropped, not fetched first.
        pool.shutdown(wait=True, cancel_futures=True)
    return [o for o in outcomes if o is not None]


def extract_all(
    source: CompanyFactsSource,
    ciks: Sequence[str],
    progress: Progress,
    live: bool,
    rest: CompanyFactsSource | None = None,
    workers: int = 1,
    answered: set[str] | None = None,
) -> Extracted:
    """Quarterly reports of every CIK ``source`` answers for (``rest`` after the first), and
    their stock splits (``related["split_events"]``), in CIK order however they were fetched.

    Live, the first request is the probe: when it finds the network down the error goes to
    the caller, which falls back as a whole; later failures skip only that company, with
    a warning. An unreadable company file or body (malformed JSON, bad gzip or encoding,
    nested too deeply, no fiscal-year end) is quarantined with its reason, and the other
    companies go on. ``workers`` companies are fetched at a time after the probe;
    ``answered`` collects the CIKs the source answered for (reports, none, or unreadable).
    """
    tables: list[pa.Table] = []
    splits: list[pa.Table] = [arrow_schema(SPLIT_EVENTS).empty_table()]
    rejected: list[Rejected] = []
    warnings: list[str] = []
    unique = sorted({cik10(c) for c in ciks})
    outcomes = _fetch_every(source, rest or source, unique, progress, live, workers)
    for cik, outcome in zip(unique, outcomes, strict=True):
        if outcome.answered and answered is not None:
            answered.add(cik)
        if outcome.warning:
            warnings.append(outcome.warning)
        if outcome.rejected:
            rejected.append(outcome.rejected)
        if outcome.extracted is None:
            continue
        tables.append(outcome.extracted.table)
        splits.append(outcome.extracted.related[SPLIT_EVENTS.name])
        rejected += outcome.extracted.rejected
        warnings += [f"CIK {cik}: {w}" for w in outcome.extracted.warnings]
    unreadable = sum(1 for o in outcomes if o.rejected)
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
