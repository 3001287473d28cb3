"""Live companyfacts client against a local replay server, rate limit, and bulk mode."""

from __future__ import annotations

import dataclasses
import gzip
import threading
import zipfile
from pathlib import Path

import httpx
import pytest

from etl_service.errors import ConfigError, InputError, SourceRefusedError, SourceUnavailableError
from etl_service.settings import HttpSettings, Settings
from etl_service.snapshot import SEC_COMPANYFACTS
from etl_service.src.adapters.http import HttpFetcher, RateLimiter
from etl_service.src.adapters.sec.client import (
    BulkCompanyFacts,
    CompanyFactsClient,
    build_sec_fetcher,
    sec_rate_limiter,
)
from etl_service.tests.support.replay_server import Reply, replay_server

pytestmark = pytest.mark.unit

UA = "Jane Doe jane@example.com"
PATH = "/api/xbrl/companyfacts/CIK0000320193.json"
BODY = b'{"cik": 320193, "facts": {}}'


def _client(
    http: HttpSettings, base_url: str, sleeps: list[float] | None = None
) -> CompanyFactsClient:
    fetcher = build_sec_fetcher(httpx.Client(), http, UA)
    if sleeps is not None:
        fetcher = dataclasses.replace(fetcher, sleep=sleeps.append)
    return CompanyFactsClient(fetcher, base_url)


def test_missing_user_agent_is_refused_before_any_request(settings: Settings) -> None:
    with pytest.raises(ConfigError, match="ETL_SEC_USER_AGENT"):
        build_sec_fetcher(httpx.Client(), settings.http, None)
    with pytest.raises(ConfigError, match="export ETL_SEC_USER_AGENT="):
        build_sec_fetcher(httpx.Client(), settings.http, "  ")


def test_403_then_success_sends_the_contact_user_agent(settings: Settings) -> None:
    http = settings.http
    with replay_server() as server:
        server.script(PATH, Reply(403, b"Request Rate Threshold Exceeded"), Reply(200, BODY))
        body, url = _client(http, server.base_url).get(320193)
        assert (body, url) == (BODY, server.url(PATH))
        assert len(server.hits(PATH)) == 2
        assert {h.headers["User-Agent"] for h in server.hits(PATH)} == {UA}


def test_429_honours_retry_after(settings: Settings) -> None:
    http = settings.http.model_copy(update={"backoff_base_s": 0.001, "backoff_max_s": 5.0})
    sleeps: list[float] = []
    with replay_server() as server:
        server.script(PATH, Reply(429, headers={"Retry-After": "2"}), Reply(200, BODY))
        body, _ = _client(http, server.base_url, sleeps).get(320193)
    assert body == BODY
    assert sleeps == [2.0]  # the header's 2 s, not the ~1 ms backoff


def test_500_and_timeout_are_retried(settings: Settings) -> None:
    http = settings.http.model_copy(update={"timeout_s": 0.2})
    with replay_server() as server:
        server.script(PATH, Reply(500), Reply(200, BODY, delay_s=0.5), Reply(200, BODY))
        body, _ = _client(http, server.base_url).get(320193)
        assert body == BODY
        assert len(server.hits(PATH)) == 3


def test_persistent_failure_and_refusal(settings: Settings) -> None:
    http = settings.http.model_copy(update={"max_retries": 2})
    with replay_server() as server:
        server.script(PATH, Reply(503))
        with pytest.raises(SourceUnavailableError, match="gave up after 3 attempts"):
            _client(http, server.base_url).get(320193)
        missing = "/api/xbrl/companyfacts/CIK0000000001.json"
        server.script(missing, Reply(404))
        with pytest.raises(SourceRefusedError, match="no companyfacts for CIK 0000000001"):
            _client(http, server.base_url).get(1)


def test_disk_cache_serves_304(settings: Settings) -> None:
    http = settings.http
    with replay_server() as server:
        server.script(PATH, Reply(200, BODY, headers={"ETag": '"v1"'}), Reply(304))
        client = _client(http, server.base_url)
        assert client.get(320193)[0] == BODY
        assert client.get(320193)[0] == BODY
        assert server.hits(PATH)[1].headers.get("If-None-Match") == '"v1"'


def test_rate_limiter_is_process_wide() -> None:
    assert sec_rate_limiter(10.0) is sec_rate_limiter(10.0)


def test_rate_limit_holds_10_per_second_under_concurrency(settings: Settings) -> None:
    limiter = RateLimiter(10.0)
    with replay_server() as server:
        ciks = list(range(1, 31))
        for cik in ciks:
            server.script(f"/api/xbrl/companyfacts/CIK{cik:010d}.json", Reply(200, BODY))
        fetcher = HttpFetcher(
            httpx.Client(), settings.http, UA, rate_limiter=limiter, use_cache=False
        )
        client = CompanyFactsClient(fetcher, server.base_url)
        queue = list(ciks)
        lock = threading.Lock()

        def worker() -> None:
            while True:
                with lock:
                    if not queue:
                        return
                    cik = queue.pop()
                client.get(cik)

        threads = [threading.Thread(target=worker) for _ in range(8)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        seen = sorted(r.at for r in server.requests)
    assert len(seen) == 30
    # Any 11 consecutive requests span about one second: never more than 10 in a second.
    # The limiter spaces sends 0.1 s apart; arrival times at the server jitter by up to a
    # slot on a loaded 2-core machine, so allow 0.8 s (without the limiter it is ~0.05 s).
    windows = [seen[i + 10] - seen[i] for i in range(len(seen) - 10)]
    assert min(windows) >= 0.8
    assert seen[-1] - seen[0] >= 2.85


def _bulk_files(tmp_path: Path) -> tuple[Path, Path, Path]:
    plain = tmp_path / "plain"
    plain.mkdir()
    (plain / "CIK0000320193.json").write_bytes(BODY)
    zipped = tmp_path / "companyfacts.zip"
    with zipfile.ZipFile(zipped, "w") as archive:
        archive.writestr("CIK0000320193.json", BODY)
    gz = tmp_path / "gz"
    gz.mkdir()
    (gz / "CIK0000320193.json.gz").write_bytes(gzip.compress(BODY))
    return plain, zipped, gz


def test_bulk_mode_reads_folder_zip_and_gzip(tmp_path: Path) -> None:
    for path in _bulk_files(tmp_path):
        body, source = BulkCompanyFacts(path).get("CIK320193")
        assert body == BODY
        assert "CIK0000320193.json" in source
    assert BulkCompanyFacts(SEC_COMPANYFACTS).get(1045810)[0].startswith(b"{")


def test_bulk_mode_errors(tmp_path: Path) -> None:
    plain, zipped, _ = _bulk_files(tmp_path)
    with pytest.raises(InputError, match=r"no CIK0000000002\.json in the bulk folder"):
        BulkCompanyFacts(plain).get(2)
    with pytest.raises(InputError, match=r"no CIK0000000002\.json in the bulk archive"):
        BulkCompanyFacts(zipped).get(2)
    (tmp_path / "bad.zip").write_bytes(b"not a zip")
    with pytest.raises(InputError, match="not a zip file"):
        BulkCompanyFacts(tmp_path / "bad.zip").get(320193)
    with pytest.raises(InputError, match="no such file"):
        BulkCompanyFacts(tmp_path / "nowhere")
    with pytest.raises(InputError, match="not a CIK"):
        BulkCompanyFacts(plain).get("AAPL")
