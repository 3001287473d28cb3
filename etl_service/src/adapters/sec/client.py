"""Getting companyfacts documents: live from data.sec.gov, or from local bulk files."""

from __future__ import annotations

import threading
import zipfile
import zlib
from pathlib import Path
from typing import Protocol

import httpx

from etl_service.errors import ConfigError, InputError, SourceRefusedError
from etl_service.settings import HttpSettings
from etl_service.src.adapters import files
from etl_service.src.adapters.http import RETRY_STATUSES, HttpFetcher, RateLimiter
from etl_service.src.adapters.sec.companyfacts import cik10

SEC_RETRY_STATUSES: frozenset[int] = RETRY_STATUSES | {403}  # SEC throttles with 403
COMPANYFACTS_PATH = "api/xbrl/companyfacts/CIK{cik}.json"
MISSING_USER_AGENT = (
    "SEC requires a User-Agent with contact details: set ETL_SEC_USER_AGENT, "
    "e.g. export ETL_SEC_USER_AGENT='Jane Doe jane@example.com'"
)

_limiters: dict[float, RateLimiter] = {}
_limiters_lock = threading.Lock()


def sec_rate_limiter(max_requests_per_s: float) -> RateLimiter:
    """The process-wide limiter for SEC hosts (one per rate, shared by every fetcher)."""
    with _limiters_lock:
        limiter = _limiters.get(max_requests_per_s)
        if limiter is None:
            limiter = _limiters[max_requests_per_s] = RateLimiter(max_requests_per_s)
        return limiter


def build_sec_fetcher(
    client: httpx.Client,
    http: HttpSettings,
    sec_user_agent: str | None,
    max_requests_per_s: float = 10.0,
) -> HttpFetcher:
    """An HttpFetcher for SEC: contact User-Agent, shared rate limit, retries on 403/429/5xx.

    Raises:
        ConfigError: when ``sec_user_agent`` is missing; nothing is sent to SEC then.
    """
    if not sec_user_agent or not sec_user_agent.strip():
        raise ConfigError(MISSING_USER_AGENT)
    return HttpFetcher(
        client=client,
        settings=http,
        user_agent=sec_user_agent.strip(),
        rate_limiter=sec_rate_limiter(max_requests_per_s),
        retry_statuses=SEC_RETRY_STATUSES,
    )


class CompanyFactsSource(Protocol):
    """Anything that returns the companyfacts JSON body of a CIK."""

    def get(self, cik: int | str) -> tuple[bytes, str]:
        """(body, where it came from) for ``cik``."""
        ...


class CompanyFactsClient:
    """Live ``data.sec.gov/api/xbrl/companyfacts`` over a shared HttpFetcher (cached on disk)."""

    def __init__(self, fetcher: HttpFetcher, base_url: str = "https://data.sec.gov") -> None:
        self._fetcher = fetcher
        self._base_url = base_url.rstrip("/")

    def url(self, cik: int | str) -> str:
        return f"{self._base_url}/{COMPANYFACTS_PATH.format(cik=cik10(cik))}"

    def get(self, cik: int | str) -> tuple[bytes, str]:
        """Fetch the companyfacts of ``cik``; a 404 means SEC has no XBRL facts for it."""
        url = self.url(cik)
        try:
            return self._fetcher.get(url).body, url
        except SourceRefusedError as exc:
            raise SourceRefusedError(f"{exc} (no companyfacts for CIK {cik10(cik)}?)") from exc


class BulkCompanyFacts:
    """Offline companyfacts: SEC's ``companyfacts.zip`` or a folder of ``CIK##########.json``.

    Files in a folder may also be gzipped (``CIK##########.json.gz``), as in the bundled
    snapshot. No network is used.
    """

    def __init__(self, path: Path, max_bytes: int | None = None) -> None:
        if not path.is_dir():
            files.check_regular_file(path, max_bytes=None)  # read member by member
            if not zipfile.is_zipfile(path):
                raise InputError("not a zip file nor a folder of CIK*.json", source=str(path))
        self.path = path
        self.max_bytes = files.input_limit() if max_bytes is None else max_bytes

    def has(self, cik: int | str) -> bool:
        """Whether the bulk files hold the companyfacts of ``cik``."""
        name = f"CIK{cik10(cik)}.json"
        if self.path.is_dir():
            return (self.path / name).exists() or (self.path / f"{name}.gz").exists()
        try:
            with zipfile.ZipFile(self.path) as archive:
                archive.getinfo(name)
                return True
        except (KeyError, zipfile.BadZipFile):
            return False

    def get(self, cik: int | str) -> tuple[bytes, str]:
        name = f"CIK{cik10(cik)}.json"
        if self.path.is_dir():
            for candidate in (self.path / name, self.path / f"{name}.gz"):
                if candidate.exists():
                    return files.read_bytes(candidate, self.max_bytes), str(candidate)
            raise InputError(f"no {name} in the bulk folder", source=str(self.path))
        source = f"{self.path}!{name}"
        try:
            with zipfile.ZipFile(self.path) as archive:
                if archive.getinfo(name).file_size > self.max_bytes:
                    raise InputError("over the input size limit", source=source)
                with archive.open(name) as member:
                    return member.read(), source  # at most file_size bytes
        except KeyError as exc:
            raise InputError(f"no {name} in the bulk archive", source=str(self.path)) from exc
        except (zipfile.BadZipFile, zlib.error, EOFError) as exc:
            raise InputError(f"corrupt zip file: {exc}", source=source) from exc
