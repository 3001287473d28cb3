"""The HTTP client every remote source uses: retries, Retry-After, rate limit, disk cache."""

from __future__ import annotations

import email.utils
import hashlib
import json
import logging
import random
import threading
import time
from collections.abc import Callable, Collection
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

import httpx

from etl_service.errors import SourceRefusedError, SourceUnavailableError
from etl_service.redact import redact_text, redact_url
from etl_service.settings import HttpSettings

logger = logging.getLogger(__name__)

RETRY_STATUSES: frozenset[int] = frozenset({429, 500, 502, 503, 504})


@dataclass(frozen=True)
class FetchResult:
    """A fetched body with what is needed to archive and replay it."""

    url: str
    status: int
    body: bytes
    headers: dict[str, str]
    fetched_at: datetime
    from_cache: bool = False

    @property
    def text(self) -> str:
        return self.body.decode("utf-8")


class RateLimiter:
    """At most ``rate`` acquisitions per second across all threads (evenly spaced)."""

    def __init__(self, rate: float, clock: Callable[[], float] = time.monotonic) -> None:
        if rate <= 0:
            raise ValueError("rate must be positive")
        self._interval = 1.0 / rate
        self._clock = clock
        self._next = 0.0
        self._lock = threading.Lock()

    def acquire(self) -> None:
        with self._lock:
            now = self._clock()
            slot = max(now, self._next)
            self._next = slot + self._interval
        delay = slot - now
        if delay > 0:
            time.sleep(delay)


class DiskCache:
    """Bodies and validators (ETag, Last-Modified) on disk, keyed by the full request URL."""

    def __init__(self, root: Path) -> None:
        self.root = root

    def _paths(self, key: str) -> tuple[Path, Path]:
        digest = hashlib.sha256(key.encode()).hexdigest()[:32]
        return self.root / f"{digest}.body", self.root / f"{digest}.json"

    def get(self, key: str) -> tuple[bytes, dict[str, str]] | None:
        body_path, meta_path = self._paths(key)
        if not (body_path.exists() and meta_path.exists()):
            return None
        meta = json.loads(meta_path.read_text())
        return body_path.read_bytes(), dict(meta.get("headers", {}))

    def put(self, key: str, url: str, body: bytes, headers: dict[str, str]) -> None:
        """Store ``body`` under ``key``; ``url`` (without secrets) is kept for humans."""
        self.root.mkdir(parents=True, exist_ok=True)
        body_path, meta_path = self._paths(key)
        keep = {k: v for k, v in headers.items() if k in ("etag", "last-modified", "content-type")}
        for path, data in (
            (body_path, body),
            (meta_path, json.dumps({"url": url, "headers": keep}).encode()),
        ):
            tmp = path.with_suffix(path.suffix + ".tmp")
            tmp.write_bytes(data)
            tmp.replace(path)


def retry_after_seconds(value: str | None, now: datetime | None = None) -> float | None:
    """Parse a Retry-After header (delta seconds or an HTTP date)."""
    if not value:
        return None
    value = value.strip()
    if value.isdigit():
        return float(value)
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return max(0.0, (when - (now or datetime.now(UTC))).total_seconds())


@dataclass
class HttpFetcher:
    """GET with retries, backoff with jitter, Retry-After, rate limit and conditional requests.

    Args:
        client: the injected ``httpx.Client`` (tests point it at a local server).
        settings: timeouts, retry counts and the cache folder.
        user_agent: sent with every request; several sources refuse requests without one.
        rate_limiter: shared limiter, e.g. SEC's 10 requests/s for the whole process.
        retry_statuses: statuses worth retrying (SEC also blocks with 403).
        use_cache: send conditional requests and serve 304s from the disk cache.
        sleep: injectable for tests.
    """

    client: httpx.Client
    settings: HttpSettings
    user_agent: str
    rate_limiter: RateLimiter | None = None
    retry_statuses: Collection[int] = RETRY_STATUSES
    use_cache: bool = True
    sleep: Callable[[float], None] = time.sleep
    _cache: DiskCache = field(init=False)

    def __post_init__(self) -> None:
        self._cache = DiskCache(self.settings.cache_dir)

    def _backoff(self, attempt: int) -> float:
        cap = min(self.settings.backoff_max_s, self.settings.backoff_base_s * 2**attempt)
        return random.uniform(0, cap)  # noqa: S311 - jitter, not cryptography

    def get(
        self,
        url: str,
        params: dict[str, str] | None = None,
        known: Callable[[], tuple[bytes, dict[str, str]] | None] | None = None,
    ) -> FetchResult:
        """Fetch ``url``; raise SourceUnavailableError after the retries are spent.

        ``known`` gives a body held elsewhere and its validators (``etag``,
        ``last-modified``), asked for only when the disk cache has none: the request is then
        conditional, and a 304 answer returns that body.
        """
        # The key covers the query (which may hold an API key); only its hash is stored.
        cache_key = str(httpx.URL(url, params=params))
        cached = self._cache.get(cache_key) if self.use_cache else None
        if cached is None and self.use_cache and known is not None:
            cached = known()
        headers = {"User-Agent": self.user_agent, "Accept-Encoding": "gzip, deflate"}
        if cached:
            if etag := cached[1].get("etag"):
                headers["If-None-Match"] = etag
            if modified := cached[1].get("last-modified"):
                headers["If-Modified-Since"] = modified
        last_problem = "no attempt made"
        shown = redact_url(url)
        for attempt in range(self.settings.max_retries + 1):
            if attempt:
                logger.info("retrying %s (attempt %d): %s", shown, attempt + 1, last_problem)
            if self.rate_limiter:
                self.rate_limiter.acquire()
            try:
                status, body, resp_headers = self._get_once(url, params, headers)
            except httpx.TimeoutException as exc:
                last_problem = f"timed out ({type(exc).__name__})"
                self.sleep(self._backoff(attempt))
                continue
            except _DeadlineExceededError as exc:
                last_problem = str(exc)
                self.sleep(self._backoff(attempt))
                continue
            except httpx.TransportError as exc:
                last_problem = f"connection failed ({redact_text(str(exc))})"
                self.sleep(self._backoff(attempt))
                continue
            now = datetime.now(UTC)
            if status == 304 and cached:
                logger.debug("not modified, serving cached %s", shown)
                return FetchResult(url, 200, cached[0], cached[1], now, from_cache=True)
            if status == 200:
                if self.use_cache:
                    self._cache.put(cache_key, url, body, resp_headers)
                return FetchResult(url, 200, body, resp_headers, now)
            last_problem = f"HTTP {status}"
            if status not in self.retry_statuses:
                raise SourceRefusedError(f"{shown}: {last_problem}")
            wait = retry_after_seconds(resp_headers.get("retry-after"))
            if wait is not None:
                wait = min(wait, self.settings.backoff_max_s)
            self.sleep(wait if wait is not None else self._backoff(attempt))
        raise SourceUnavailableError(
            f"{shown}: gave up after {self.settings.max_retries + 1} attempts; last: {last_problem}"
        )

    def _get_once(
        self, url: str, params: dict[str, str] | None, headers: dict[str, str]
    ) -> tuple[int, bytes, dict[str, str]]:
        """One request, its body read in chunks against ``deadline_s`` for the whole of it: a
        server that drips a byte at a time defeats the per-read timeout, not the deadline."""
        deadline = time.monotonic() + self.settings.deadline_s
        chunks: list[bytes] = []
        with self.client.stream(
            "GET", url, params=params, headers=headers, timeout=self.settings.timeout_s
        ) as response:
            for chunk in response.iter_bytes():
                chunks.append(chunk)
                if time.monotonic() > deadline:
                    raise _DeadlineExceededError(
                        f"no complete answer within {self.settings.deadline_s:g} s"
                    )
            headers_out = {k.lower(): v for k, v in response.headers.items()}
            return response.status_code, b"".join(chunks), headers_out


class _DeadlineExceededError(Exception):
    """A response took longer than the request's total deadline."""


def build_http_client() -> httpx.Client:
    """The default client: follows redirects, decompresses, keeps connections alive."""
    return httpx.Client(follow_redirects=True, http2=False)
