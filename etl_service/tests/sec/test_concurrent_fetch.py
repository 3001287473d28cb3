"""Live companyfacts fetched several at a time, paced only by the shared rate limit."""

from __future__ import annotations

import time

import httpx
import pytest

from etl_service.errors import SourceUnavailableError
from etl_service.settings import Settings
from etl_service.src.adapters.http import HttpFetcher, RateLimiter
from etl_service.src.adapters.sec.client import SEC_RETRY_STATUSES, CompanyFactsClient
from etl_service.src.adapters.sec.source import extract_all
from etl_service.tests.sec.builders import FY, Q1, body, companyfacts, fact
from etl_service.tests.support.replay_server import ReplayServer, Reply, replay_server
from etl_service.tests.support.services import free_port

pytestmark = pytest.mark.unit

UA = "Jane Doe jane@example.com"


def _path(cik: int) -> str:
    return f"/api/xbrl/companyfacts/CIK{cik:010d}.json"


def _serve(server: ReplayServer, ciks: range) -> None:
    for cik in ciks:
        revenues = [fact(*Q1, 1000.0 + cik), fact(*FY, 9000.0, form="10-K", fp="FY")]
        doc = companyfacts({"Revenues": revenues})
        doc["cik"] = cik
        server.script(_path(cik), Reply(200, body(doc)))


def _client(settings: Settings, base_url: str, limiter: RateLimiter) -> CompanyFactsClient:
    fetcher = HttpFetcher(
        httpx.Client(),
        settings.http,
        UA,
        rate_limiter=limiter,
        retry_statuses=SEC_RETRY_STATUSES,
        use_cache=False,
    )
    return CompanyFactsClient(fetcher, base_url)


def test_companies_are_fetched_at_the_rate_limit_not_one_latency_at_a_time(
    settings: Settings,
) -> None:
    n, latency = 30, 0.3
    steps: list[int] = []
    with replay_server(latency_s=latency, max_requests_per_s=10) as server:
        _serve(server, range(1, n + 1))
        client = _client(settings, server.base_url, RateLimiter(10.0))
        start = time.monotonic()
        extracted = extract_all(
            client,
            [str(c) for c in range(n, 0, -1)],
            lambda _step, done, _total: steps.append(done),
            live=True,
            workers=8,
        )
        elapsed = time.monotonic() - start
        seen = sorted(r.at for r in server.requests)
    assert len(seen) == n  # one request per company: no retries, no 429
    assert server.refused == 0
    # Bound by the limit (n / 10 = 3 s), not by latency (n x 0.3 = 9 s one at a time).
    assert 2.5 < elapsed < 7.0
    assert sorted(steps) == list(range(1, n + 1))
    # Output in CIK order, whatever order the answers came in.
    ciks = extracted.table.column("cik").to_pylist()
    assert ciks == sorted(ciks)
    assert ciks == [f"{c:010d}" for c in range(1, n + 1)]
    assert extracted.table.column("revenue").to_pylist() == [1000 + c for c in range(1, n + 1)]


def test_a_throttled_request_is_retried_after_the_servers_retry_after(settings: Settings) -> None:
    with replay_server() as server:
        _serve(server, range(1, 6))
        server._scripts[_path(3)].appendleft(Reply(429, headers={"Retry-After": "1"}))
        client = _client(settings, server.base_url, RateLimiter(10.0))
        extracted = extract_all(client, ["1", "2", "3", "4", "5"], _quiet, live=True, workers=4)
        assert len(server.hits(_path(3))) == 2
    assert extracted.table.num_rows == 5
    assert extracted.warnings == []


def test_later_failures_skip_their_company_and_the_probe_decides_the_source(
    settings: Settings,
) -> None:
    http = settings.http.model_copy(update={"max_retries": 1})
    answered: set[str] = set()
    with replay_server() as server:
        _serve(server, range(1, 7))
        server.script(_path(7), Reply(503))
        server._scripts[_path(4)].clear()  # not scripted: 404, no XBRL facts
        client = _client(
            settings.model_copy(update={"http": http}), server.base_url, RateLimiter(10.0)
        )
        extracted = extract_all(
            client, [str(c) for c in range(1, 8)], _quiet, live=True, workers=3, answered=answered
        )
    assert extracted.table.column("cik").to_pylist() == [f"{c:010d}" for c in (1, 2, 3, 5, 6)]
    assert extracted.warnings == [
        "financials: CIK 0000000004 skipped: "
        f"{server.base_url}{_path(4)}: HTTP 404 (no companyfacts for CIK 0000000004?)",
        "financials: CIK 0000000007 could not be fetched; skipped",
    ]
    assert answered == {f"{c:010d}" for c in range(1, 7)}  # 7 is tried again next run

    dead = _client(settings, f"http://127.0.0.1:{free_port()}", RateLimiter(10.0))
    with pytest.raises(SourceUnavailableError):
        extract_all(dead, ["1", "2", "3"], _quiet, live=True, workers=3)


def _quiet(_step: str, _done: int, _total: int) -> None:
    return None
