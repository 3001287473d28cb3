"""EDGAR's daily index: which companies filed a 10-Q or 10-K (or an amendment) on a day.

One ``master.YYYYMMDD.idx`` per business day lists every filing of that day as
``CIK|Company Name|Form Type|Date Filed|File Name`` lines under a dashed rule, the file
name ending in the accession (``edgar/data/320193/0000320193-24-000123.txt``). A day with
no file (a holiday) answers 404. Reading the days since the last run costs one request per
business day, however many companies there are, which is what makes incremental runs cheap.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from etl_service.errors import InputError, SourceRefusedError
from etl_service.src.adapters.http import HttpFetcher
from etl_service.src.adapters.sec.companyfacts import cik10

DAILY_INDEX_URL = "https://www.sec.gov/Archives/edgar/daily-index"
PERIODIC_FORMS = frozenset({"10-Q", "10-K", "10-QT", "10-KT"})
"""The forms whose filing changes a company's companyfacts for quarterly reports."""


@dataclass(frozen=True)
class Filing:
    """One filing listed in the index."""

    cik: str
    form: str
    filed: date
    accession: str


def is_periodic(form: str) -> bool:
    """Whether ``form`` is a 10-Q or 10-K, a transition report, or an amendment of one."""
    return form.removesuffix("/A") in PERIODIC_FORMS


def business_days(first: date, last: date) -> Iterator[date]:
    """Monday to Friday from ``first`` to ``last``, both included (EDGAR is shut at weekends)."""
    day = first
    while day <= last:
        if day.weekday() < 5:
            yield day
        day += timedelta(days=1)


def index_url(base_url: str, day: date) -> str:
    """The ``master.idx`` of ``day`` under the daily index ``base_url``."""
    quarter = (day.month - 1) // 3 + 1
    return f"{base_url.rstrip('/')}/{day.year}/QTR{quarter}/master.{day:%Y%m%d}.idx"


def parse_master_index(text: str, source: str) -> list[Filing]:
    """The 10-Q/10-K filings (amendments included) of a ``master.idx`` document.

    Raises:
        InputError: ``text`` has no ``CIK|...`` header and dashed rule, or a filing line
            that does not parse.
    """
    lines = text.splitlines()
    try:
        start = next(i for i, line in enumerate(lines) if line.startswith("CIK|")) + 2
    except StopIteration:
        raise InputError("not an EDGAR master index: no 'CIK|' header", source=source) from None
    filings = []
    for number, line in enumerate(lines[start:], start=start + 1):
        if not line.strip():
            continue
        fields = line.split("|")
        if len(fields) != 5:
            raise InputError(f"line {number}: not 5 '|' fields: {line[:80]!r}", source=source)
        cik, _name, form, filed, file_name = fields
        if not is_periodic(form.strip()):
            continue
        try:
            filing = Filing(cik10(cik), form.strip(), _date(filed), _accession(file_name))
        except (ValueError, InputError) as exc:
            raise InputError(f"line {number}: {exc}: {line[:80]!r}", source=source) from exc
        filings.append(filing)
    return filings


def _date(text: str) -> date:
    text = text.strip()
    return datetime.strptime(text, "%Y%m%d" if "-" not in text else "%Y-%m-%d").date()


def _accession(file_name: str) -> str:
    accession = file_name.strip().rsplit("/", 1)[-1].removesuffix(".txt")
    if accession.count("-") != 2:
        raise ValueError(f"no accession in {file_name!r}")
    return accession


class DailyIndexClient:
    """The daily ``master.idx`` files over an SEC fetcher (User-Agent, rate limit, retries)."""

    def __init__(self, fetcher: HttpFetcher, base_url: str = DAILY_INDEX_URL) -> None:
        self._fetcher = fetcher
        self._base_url = base_url.rstrip("/")

    def filings(self, day: date) -> list[Filing]:
        """The periodic filings of ``day``; none on a day without an index (a holiday)."""
        url = index_url(self._base_url, day)
        try:
            body = self._fetcher.get(url).body
        except SourceRefusedError:
            return []
        return parse_master_index(body.decode("latin-1"), url)

    def latest_filings(self, first: date, last: date) -> dict[str, Filing]:
        """Each company's latest periodic filing over the business days ``first``..``last``.

        Raises:
            SourceUnavailableError: a day's index could not be fetched (the first request
                is the probe of an incremental run).
            InputError: an index is not in EDGAR's format.
        """
        latest: dict[str, Filing] = {}
        for day in business_days(first, last):
            for filing in self.filings(day):
                known = latest.get(filing.cik)
                if known is None or (filing.filed, filing.accession) > (
                    known.filed,
                    known.accession,
                ):
                    latest[filing.cik] = filing
        return latest
