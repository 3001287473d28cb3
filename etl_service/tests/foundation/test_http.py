"""The shared HTTP client against a local server that injects faults."""

from __future__ import annotations

import threading
import time
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime
from pathlib import Path

import pytest

from etl_service.errors import SourceRefusedError, SourceUnavailableError, TransientError
from etl_service.settings import HttpSettings
from etl_service.src.adapters.http import (
    HttpFetcher,
    RateLimiter,
    build_http_client,
    retry_after_seconds,
)
from etl_service.tests.support.replay_server import Reply, replay_server

pytestmark = pytest.mark.unit


def _fetcher(tmp_path: Path, sleeps: list[float], **kw: object) -> HttpFetcher:
    settings = HttpSettings(
        timeout_s=0.5, max_retries=4, backoff_base_s=0.01, backoff_max_s=5, cache_dir=tmp_path
    )
    return HttpFetcher(build_http_client(), settings, "etl-test/1.0", sleep=sleeps.append, **kw)  # type: ignore[arg-type]


def test_retries_429_500_and_timeouts_then_succeeds_honouring_retry_after(tmp_path: Path) -> None:
    sleeps: list[float] = []
    with replay_server() as server:
        server.script(
            "/page",
            Reply(429, headers={"Retry-After": "3"}),
            Reply(500),
            Reply(200, b"late", delay_s=1.0),  # the client times out at 0.5 s
            Reply(200, b"hello", headers={"ETag": '"v1"'}),
        )
        result = _fetcher(tmp_path, sleeps).get(server.url("/page"))
        seen = server.hits("/page")
    assert result.body == b"hello"
    assert len(seen) == 4
    assert sleeps[0] == 3.0  # Retry-After honoured exactly
    assert all(s <= 5 for s in sleeps)
    assert seen[0].headers["User-Agent"] == "etl-test/1.0"


def test_gives_up_with_a_transient_error_naming_the_last_problem(tmp_path: Path) -> None:
    with replay_server() as server:
        server.script("/down", Reply(503))
        with pytest.raises(SourceUnavailableError, match="5 attempts; last: HTTP 503") as info:
            _fetcher(tmp_path, []).get(server.url("/down"))
    assert isinstance(info.value, TransientError)


def test_403_is_terminal_unless_the_source_retries_it(tmp_path: Path) -> None:
    with replay_server() as server:
        server.script("/blocked", Reply(403))
        with pytest.raises(SourceRefusedError, match="HTTP 403"):
            _fetcher(tmp_path, []).get(server.url("/blocked"))
        assert len(server.hits("/blocked")) == 1
        server.script("/sec", Reply(403), Reply(200, b"ok"))
        fetcher = _fetcher(tmp_path, [], retry_statuses={403, 429, 500})
        assert fetcher.get(server.url("/sec")).body == b"ok"


def test_conditional_request_serves_304_from_the_disk_cache(tmp_path: Path) -> None:
    with replay_server() as server:
        server.script(
            "/c",
            Reply(200, b"body-v1", headers={"ETag": '"abc"', "Last-Modified": "Wed, 21 Oct 2015"}),
            Reply(304),
        )
        first = _fetcher(tmp_path, []).get(server.url("/c"))
        second = _fetcher(tmp_path, []).get(server.url("/c"))
        sent = server.hits("/c")[1].headers
    assert (first.body, first.from_cache) == (b"body-v1", False)
    assert (second.body, second.from_cache) == (b"body-v1", True)
    assert sent["If-None-Match"] == '"abc"'
    assert sent["If-Modified-Since"] == "Wed, 21 Oct 2015"


def test_cache_key_covers_query_but_never_stores_it(tmp_path: Path) -> None:
    with replay_server() as server:
        server.script("/q", Reply(200, b"a", headers={"ETag": "1"}), Reply(200, b"b"))
        fetcher = _fetcher(tmp_path, [])
        assert fetcher.get(server.url("/q"), params={"symbol": "A", "apikey": "k3y"}).body == b"a"
        assert fetcher.get(server.url("/q"), params={"symbol": "B", "apikey": "k3y"}).body == b"b"
        assert "If-None-Match" not in server.hits("/q")[1].headers
    stored = b"".join(p.read_bytes() for p in tmp_path.iterdir())
    assert b"k3y" not in stored


def test_retry_after_parses_seconds_and_http_dates() -> None:
    now = datetime(2026, 1, 1, tzinfo=UTC)
    assert retry_after_seconds("7") == 7.0
    assert retry_after_seconds(format_datetime(now + timedelta(seconds=30)), now=now) == 30.0
    assert retry_after_seconds("soon") is None
    assert retry_after_seconds(None) is None


def test_rate_limiter_holds_its_rate_across_threads() -> None:
    limiter = RateLimiter(50)
    stamps: list[float] = []
    lock = threading.Lock()

    def work() -> None:
        for _ in range(5):
            limiter.acquire()
            with lock:
                stamps.append(time.monotonic())

    threads = [threading.Thread(target=work) for _ in range(6)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    stamps.sort()
    # 30 acquisitions at 50/s: any window of 11 consecutive ones spans >= 10 intervals.
    assert len(stamps) == 30
    assert min(stamps[i + 10] - stamps[i] for i in range(20)) >= 10 / 50 - 0.01


def test_a_server_dripping_bytes_is_cut_off_by_the_total_deadline(tmp_path: Path) -> None:
    settings = HttpSettings(
        timeout_s=0.5, deadline_s=0.6, max_retries=1, backoff_base_s=0.01, cache_dir=tmp_path
    )
    fetcher = HttpFetcher(build_http_client(), settings, "etl-test/1.0", sleep=lambda _s: None)
    with replay_server() as server:
        # Each byte comes well within the 0.5 s read timeout; the whole body would take 10 s.
        server.script("/drip", Reply(200, b"x" * 100, drip_s=0.1))
        started = time.monotonic()
        with pytest.raises(SourceUnavailableError, match=r"no complete answer within 0\.6 s"):
            fetcher.get(server.url("/drip"))
    assert time.monotonic() - started < 3.0  # two attempts of 0.6 s, not 2 x 10 s


def test_an_api_key_in_the_url_never_reaches_the_error(tmp_path: Path) -> None:
    with replay_server() as server:
        server.script("/refuse", Reply(401))
        with pytest.raises(SourceRefusedError) as info:
            _fetcher(tmp_path, []).get(server.url("/refuse") + "?apikey=Sentinel-Key-1")
    assert "Sentinel-Key-1" not in str(info.value)
    assert "apikey=***" in str(info.value)
