"""Live fetch against a local server injecting faults; every fetched body is archived raw."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

import pyarrow.fs as pafs
import pytest

from etl_service.errors import SourceRefusedError, SourceUnavailableError
from etl_service.settings import HttpSettings
from etl_service.src.adapters.archive import RawArchive
from etl_service.src.adapters.http import HttpFetcher, build_http_client
from etl_service.src.adapters.wikipedia import fetch_page, parse_page
from etl_service.tests.support.replay_server import Reply, replay_server
from etl_service.tests.wikipedia.pages import good_page

pytestmark = pytest.mark.unit

PATH = "/wiki/List_of_S%26P_500_companies"
UA = "etl-service-test/1.0 (tests@example.org)"
REST_LIKE = good_page().replace(
    b"<html>", b'<html about="https://en.wikipedia.org/wiki/Special:Redirect/revision/1120976287">'
)


def _fetcher(tmp_path: Path, sleeps: list[float], timeout_s: float = 2.0) -> HttpFetcher:
    settings = HttpSettings(
        timeout_s=timeout_s,
        max_retries=3,
        backoff_base_s=0.01,
        backoff_max_s=60,
        cache_dir=tmp_path / "cache",
    )
    return HttpFetcher(build_http_client(), settings, UA, sleep=sleeps.append)


def _archive(tmp_path: Path) -> RawArchive:
    return RawArchive(str(tmp_path / "raw"))


def test_fetch_archives_raw_body_with_revision_and_sends_user_agent(tmp_path: Path) -> None:
    sleeps: list[float] = []
    archive = _archive(tmp_path)
    with replay_server() as server:
        server.script(PATH, Reply(200, REST_LIKE, {"ETag": '"r1"'}))
        fetched = fetch_page(_fetcher(tmp_path, sleeps), server.url(PATH), archive)
        assert server.hits(PATH)[0].headers["User-Agent"] == UA
    assert fetched.revision == "1120976287"
    assert archive.read(fetched.archived.path) == REST_LIKE
    [entry] = archive.entries("wikipedia")
    assert (entry.url, entry.revision, entry.size) == (
        server.url(PATH),
        "1120976287",
        len(REST_LIKE),
    )
    assert entry.extra is not None
    assert entry.extra["etag"] == '"r1"'
    assert parse_page(archive.read(entry.path), entry.path).companies.table.num_rows == 2
    assert sleeps == []


def test_403_is_refused_without_retry(tmp_path: Path) -> None:
    with replay_server() as server:
        server.script(PATH, Reply(403, b"Please set a user-agent"))
        with pytest.raises(SourceRefusedError, match="HTTP 403"):
            fetch_page(_fetcher(tmp_path, []), server.url(PATH), _archive(tmp_path))
        assert len(server.hits(PATH)) == 1
    assert _archive(tmp_path).entries("wikipedia") == []


def test_429_retry_after_500_and_timeout_then_success(tmp_path: Path) -> None:
    sleeps: list[float] = []
    with replay_server() as server:
        server.script(
            PATH,
            Reply(429, b"slow down", {"Retry-After": "7"}),
            Reply(500, b"oops"),
            Reply(200, b"late", delay_s=1.0),
            Reply(200, REST_LIKE),
        )
        fetched = fetch_page(
            _fetcher(tmp_path, sleeps, timeout_s=0.3), server.url(PATH), _archive(tmp_path)
        )
        assert len(server.hits(PATH)) == 4
    assert fetched.body == REST_LIKE
    assert sleeps[0] == 7.0  # Retry-After honoured
    assert len(sleeps) == 3
    assert all(0 <= s <= 0.08 for s in sleeps[1:])


def test_gives_up_after_retries(tmp_path: Path) -> None:
    with replay_server() as server:
        server.script(PATH, Reply(503, b"down"))
        with pytest.raises(
            SourceUnavailableError, match="gave up after 4 attempts; last: HTTP 503"
        ):
            fetch_page(_fetcher(tmp_path, []), server.url(PATH), _archive(tmp_path))


def test_conditional_request_304_is_served_from_cache_and_archived(tmp_path: Path) -> None:
    archive = _archive(tmp_path)
    with replay_server() as server:
        server.script(
            PATH,
            Reply(
                200,
                REST_LIKE,
                {"ETag": '"rev-1120976287"', "Last-Modified": "Wed, 09 Nov 2022 21:09:27 GMT"},
            ),
            Reply(304, b""),
        )
        first = fetch_page(_fetcher(tmp_path, []), server.url(PATH), archive)
        second = fetch_page(_fetcher(tmp_path, []), server.url(PATH), archive)
        conditional = server.hits(PATH)[1].headers
    assert conditional["If-None-Match"] == '"rev-1120976287"'
    assert conditional["If-Modified-Since"] == "Wed, 09 Nov 2022 21:09:27 GMT"
    assert (first.result.from_cache, second.result.from_cache) == (False, True)
    assert second.body == REST_LIKE
    entries = archive.entries("wikipedia")
    assert len(entries) == 2
    assert {e.sha256 for e in entries} == {first.archived.sha256}
    assert [e.extra["from_cache"] for e in entries if e.extra] == [False, True]


def test_a_new_container_asks_conditionally_from_the_archived_copy(tmp_path: Path) -> None:
    """No disk cache (a stateless run): the ETag and body come from the lake's raw archive."""
    archive = _archive(tmp_path)
    with replay_server() as server:
        server.script(PATH, Reply(200, REST_LIKE, {"ETag": '"r1"'}), Reply(304, b""))
        first = fetch_page(_fetcher(tmp_path / "first", []), server.url(PATH), archive)
        second = fetch_page(_fetcher(tmp_path / "second", []), server.url(PATH), archive)
        conditional = server.hits(PATH)[1].headers
    assert conditional["If-None-Match"] == '"r1"'
    assert "If-Modified-Since" not in conditional
    assert (first.result.from_cache, second.result.from_cache) == (False, True)
    assert second.body == REST_LIKE
    assert second.revision == "1120976287"


def test_an_archived_copy_that_fails_its_checksum_is_not_used(tmp_path: Path) -> None:
    archive = _archive(tmp_path)
    with replay_server() as server:
        server.script(PATH, Reply(200, REST_LIKE, {"ETag": '"r1"'}))
        first = fetch_page(_fetcher(tmp_path / "first", []), server.url(PATH), archive)
        Path(first.archived.path).write_bytes(b"<html>damaged</html>")
        second = fetch_page(_fetcher(tmp_path / "second", []), server.url(PATH), archive)
        unconditional = server.hits(PATH)[1].headers
    assert "If-None-Match" not in unconditional
    assert second.body == REST_LIKE


def test_an_unreadable_archive_leaves_the_request_plain(tmp_path: Path) -> None:
    archive = _archive(tmp_path)
    with replay_server() as server:
        server.script(PATH, Reply(200, REST_LIKE, {"ETag": '"r1"'}))
        first = fetch_page(_fetcher(tmp_path / "first", []), server.url(PATH), archive)
        Path(first.archived.meta_path).write_text("{not json")
        second = fetch_page(_fetcher(tmp_path / "second", []), server.url(PATH), archive)
        plain = server.hits(PATH)[1].headers
    assert "If-None-Match" not in plain
    assert second.body == REST_LIKE


def test_archive_is_generic_and_atomic(tmp_path: Path) -> None:
    fs = pafs.SubTreeFileSystem(str(tmp_path), pafs.LocalFileSystem())
    archive = RawArchive("lake/raw", fs)
    when = datetime(2024, 10, 9, 23, 17, 18, 5, tzinfo=UTC)
    entry = archive.put(
        "sec", b'{"cik": 1}', url="https://example.org/x.json", fetched_at=when, extension="json"
    )
    assert entry.path == f"lake/raw/sec/2024-10-09/20241009T231718000005Z_{entry.sha256[:12]}.json"
    assert archive.read(entry.path) == b'{"cik": 1}'
    assert archive.entries("sec") == [entry]
    assert archive.entries("wikipedia") == []
    leftovers = [p for p in (tmp_path / "lake").rglob("*") if ".tmp-" in p.name]
    assert leftovers == []
    with pytest.raises(ValueError, match="timezone-aware"):
        archive.put("sec", b"x", url="u", fetched_at=datetime(2024, 1, 1))
    with pytest.raises(ValueError, match="archive source"):
        archive.put("../etc", b"x", url="u", fetched_at=when)


def test_newest_first_reads_each_entry_only_when_reached(tmp_path: Path) -> None:
    archive = _archive(tmp_path)
    days = [datetime(2024, 10, d, tzinfo=UTC) for d in (9, 11, 10)]
    for day in days:
        archive.put("wikipedia", day.isoformat().encode(), url="u", fetched_at=day)
    newest = archive.newest_first("wikipedia")
    first = next(newest)
    assert first.fetched_at == max(days)
    # the older entries are read only if asked for: damage one, and the first was unaffected
    Path(archive.entries("wikipedia")[0].meta_path).write_text("{not json")
    assert [e.fetched_at for e in [first, next(newest)]] == [days[1], days[2]]
    with pytest.raises(json.JSONDecodeError):
        next(newest)
