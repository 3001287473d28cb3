"""Monthly past revisions through the MediaWiki action API, replayed by a local server.

The API answers are built in the shape the API gives with ``formatversion=2``; the pages
inside them are the recorded and constructed fixtures. Revision ids and times are made up.
"""

from __future__ import annotations

import itertools
import json
import logging
import re
import time
from collections.abc import Iterator
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest

from etl_service.errors import InputError, SourceRefusedError, SourceUnavailableError
from etl_service.settings import HttpSettings, WikipediaHistorySettings
from etl_service.src.adapters.archive import RawArchive
from etl_service.src.adapters.http import HttpFetcher, build_http_client
from etl_service.src.adapters.wikipedia import (
    RevisionClient,
    RevisionPage,
    read_page_file,
    revision_pages,
)
from etl_service.src.adapters.wikipedia.revisions import (
    ARCHIVE_SOURCE,
    TITLE,
    Revision,
    monthly_picks,
)
from etl_service.tests.support.replay_server import ReplayServer, Reply, replay_server
from etl_service.tests.wikipedia.conftest import (
    FIXTURES,
    OLD_CONSTITUENTS_ONLY_PAGE,
    OLD_DESKTOP_PAGE,
)

pytestmark = pytest.mark.unit

API = "/w/api.php"
UA = "etl-service-test/1.0 (tests@example.org)"
REST_2021_05 = FIXTURES / "sp500_2021-05-31_rev1025307873.html.gz"
REST_2021_09 = FIXTURES / "sp500_2021-09-15_rev1044399957.html.gz"
NOW = datetime(2021, 7, 15, tzinfo=UTC)
# Past picks of the first run: the last revision of January 2013, October 2017 and May 2021.
FIRST_LIST = [
    (1001, "2013-01-05T10:00:00Z"),
    (1002, "2013-01-28T16:20:00Z"),
    (1003, "2017-10-02T08:00:00Z"),
]
SECOND_LIST = [
    (1004, "2017-10-14T09:00:00Z"),
    (1005, "2017-10-31T23:59:59Z"),
    (1006, "2021-05-31T12:00:00Z"),
]
PAGES = {1002: OLD_CONSTITUENTS_ONLY_PAGE, 1005: OLD_DESKTOP_PAGE, 1006: REST_2021_05}


def _json(value: object) -> bytes:
    return json.dumps(value).encode()


def revision_list(revisions: list[tuple[int, str]], rvcontinue: str | None = None) -> Reply:
    """A ``prop=revisions`` answer; with ``rvcontinue`` it asks for another request."""
    page: dict[str, Any] = {"pageid": 2676120, "ns": 0, "title": TITLE}
    if revisions:
        page["revisions"] = [
            {"revid": rev, "parentid": rev - 1, "timestamp": ts} for rev, ts in revisions
        ]
    answer: dict[str, Any] = {"query": {"pages": [page]}}
    if rvcontinue:
        answer["continue"] = {"rvcontinue": rvcontinue, "continue": "||"}
    else:
        answer["batchcomplete"] = True
    return Reply(200, _json(answer), {"Content-Type": "application/json; charset=utf-8"})


def rendered(revision_id: int, path: Path) -> Reply:
    """An ``action=parse`` answer carrying the body of the saved page at ``path``."""
    text = read_page_file(path).decode()
    body = re.search(r"<body[^>]*>(.*)</body>", text, re.S)
    assert body is not None
    answer = {
        "parse": {
            "title": TITLE,
            "pageid": 2676120,
            "revid": revision_id,
            "text": f'<div class="mw-parser-output">{body[1]}</div>',
        }
    }
    return Reply(200, _json(answer), {"Content-Type": "application/json; charset=utf-8"})


def maxlag(retry_after: str | None) -> Reply:
    """The answer of a lagging wiki: HTTP 200 with error code ``maxlag``."""
    error = {
        "error": {
            "code": "maxlag",
            "info": "Waiting for 10.64.48.23: 7 seconds lagged.",
            "host": "10.64.48.23",
            "lag": 7,
            "type": "db",
        }
    }
    headers = {"Content-Type": "application/json", "X-Database-Lag": "7"}
    if retry_after:
        headers["Retry-After"] = retry_after
    return Reply(200, _json(error), headers)


def queries(server: ReplayServer) -> list[dict[str, str]]:
    """The query parameters of every API request, in order."""
    return [
        {k: v[0] for k, v in parse_qs(urlsplit(r.path).query).items()} for r in server.hits(API)
    ]


def _client(
    server: ReplayServer, tmp_path: Path, sleeps: list[float] | None, backoff_max_s: float = 60
) -> RevisionClient:
    """A client on ``server``; its waits go to ``sleeps``, or really happen when it is None."""
    http = HttpSettings(
        max_retries=2, backoff_base_s=0.01, backoff_max_s=backoff_max_s, cache_dir=tmp_path / "c"
    )
    sleep = time.sleep if sleeps is None else sleeps.append
    fetcher = HttpFetcher(build_http_client(), http, UA, use_cache=False, sleep=sleep)
    return RevisionClient(fetcher, server.url(API))


def _settings(start: date = date(2013, 1, 1), months_step: int = 1) -> WikipediaHistorySettings:
    return WikipediaHistorySettings(start=start, months_step=months_step)


@pytest.fixture
def archive(tmp_path: Path) -> RawArchive:
    return RawArchive(str(tmp_path / "raw"))


@pytest.fixture
def server() -> Iterator[ReplayServer]:
    with replay_server() as running:
        yield running


def _first_run(server: ReplayServer, tmp_path: Path, archive: RawArchive) -> list[RevisionPage]:
    server.script(
        API,
        revision_list(FIRST_LIST, rvcontinue="20171014090000|1004"),
        revision_list(SECOND_LIST),
        *(rendered(rev, path) for rev, path in PAGES.items()),
    )
    return revision_pages(_client(server, tmp_path, []), archive, _settings(), NOW)


def test_first_run_lists_with_continuation_and_fetches_the_last_revision_of_each_month(
    server: ReplayServer, tmp_path: Path, archive: RawArchive
) -> None:
    pages = _first_run(server, tmp_path, archive)
    sent = queries(server)
    assert [q["action"] for q in sent] == ["query", "query", "parse", "parse", "parse"]
    assert sent[0] == {
        "format": "json",
        "formatversion": "2",
        "maxlag": "5",
        "action": "query",
        "prop": "revisions",
        "titles": "List of S&P 500 companies",
        "rvprop": "ids|timestamp",
        "rvlimit": "max",
        "rvdir": "newer",
        "rvstart": "2013-01-01T00:00:00Z",
    }
    assert sent[1] == {**sent[0], "rvcontinue": "20171014090000|1004", "continue": "||"}
    assert [q["oldid"] for q in sent[2:]] == ["1002", "1005", "1006"]
    assert all((q["prop"], q["maxlag"], q["formatversion"]) == ("text", "5", "2") for q in sent[2:])
    assert {r.headers["User-Agent"] for r in server.hits(API)} == {UA}

    assert [(p.revision_id, p.timestamp) for p in pages] == [
        (1002, datetime(2013, 1, 28, 16, 20, tzinfo=UTC)),
        (1005, datetime(2017, 10, 31, 23, 59, 59, tzinfo=UTC)),
        (1006, datetime(2021, 5, 31, 12, 0, tzinfo=UTC)),
    ]
    layouts = [
        (p.page.companies.table.num_rows, p.page.changes.table.num_rows, p.page.changes_found)
        for p in pages
    ]
    assert layouts == [(6, 0, False), (7, 6, True), (505, 271, True)]
    assert [p.page.revision for p in pages] == ["1002", "1005", "1006"]
    assert pages[1].page.revision_time == datetime(2017, 10, 31, 23, 59, 59, tzinfo=UTC)
    assert set(pages[2].page.companies.table.column("source_revision").to_pylist()) == {"1006"}


def test_each_revision_is_archived_raw_with_its_id_and_time(
    server: ReplayServer, tmp_path: Path, archive: RawArchive
) -> None:
    _first_run(server, tmp_path, archive)
    entries = archive.entries(ARCHIVE_SOURCE)
    assert [(e.revision, e.extra and e.extra["revision_time"]) for e in entries] == [
        ("1002", "2013-01-28T16:20:00+00:00"),
        ("1005", "2017-10-31T23:59:59+00:00"),
        ("1006", "2021-05-31T12:00:00+00:00"),
    ]
    assert all(e.path.endswith(".json") for e in entries)
    assert "oldid=1005" in entries[1].url
    assert archive.read(entries[1].path) == rendered(1005, OLD_DESKTOP_PAGE).body
    assert archive.entries("wikipedia") == []  # the live page's readers never see these


def test_second_run_lists_from_the_newest_archived_revision_and_fetches_only_new_months(
    server: ReplayServer, tmp_path: Path, archive: RawArchive
) -> None:
    _first_run(server, tmp_path, archive)
    done = len(server.hits(API))
    server.script(
        API,
        revision_list(
            [
                (1006, "2021-05-31T12:00:00Z"),
                (1007, "2021-06-10T08:00:00Z"),
                (1008, "2021-06-20T18:30:00Z"),
                (1009, "2021-07-01T00:00:01Z"),  # July is not over on NOW: left for later
            ]
        ),
        rendered(1008, REST_2021_09),
    )
    pages = revision_pages(_client(server, tmp_path, []), archive, _settings(), NOW)
    sent = queries(server)[done:]
    assert len(sent) == 2
    assert (sent[0]["action"], sent[0]["rvstart"], "rvend" in sent[0]) == (
        "query",
        "2021-05-31T12:00:00Z",
        False,
    )
    assert (sent[1]["action"], sent[1]["oldid"]) == ("parse", "1008")
    assert [p.revision_id for p in pages] == [1002, 1005, 1006, 1008]
    assert pages[-1].page.companies.table.num_rows == 505
    assert len(archive.entries(ARCHIVE_SOURCE)) == 4


def test_an_earlier_start_lists_the_months_before_the_archive(
    server: ReplayServer, tmp_path: Path, archive: RawArchive
) -> None:
    _first_run(server, tmp_path, archive)
    done = len(server.hits(API))
    server.script(
        API,
        revision_list([(990, "2012-12-27T10:00:00Z"), (1001, "2013-01-05T10:00:00Z")]),
        revision_list([(1006, "2021-05-31T12:00:00Z")]),
        rendered(990, OLD_CONSTITUENTS_ONLY_PAGE),
    )
    earlier = _settings(start=date(2012, 12, 1))
    pages = revision_pages(_client(server, tmp_path, []), archive, earlier, NOW)
    sent = queries(server)[done:]
    assert [(q.get("rvstart"), q.get("rvend"), q.get("oldid")) for q in sent] == [
        ("2012-12-01T00:00:00Z", "2013-01-28T16:20:00Z", None),
        ("2021-05-31T12:00:00Z", None, None),
        (None, None, "990"),
    ]
    assert [p.revision_id for p in pages] == [990, 1002, 1005, 1006]


def test_maxlag_answer_is_retried_after_the_advised_delay(
    server: ReplayServer, tmp_path: Path, archive: RawArchive
) -> None:
    sleeps: list[float] = []
    server.script(
        API,
        maxlag("7"),
        revision_list([(1002, "2013-01-28T16:20:00Z")]),
        maxlag(None),
        rendered(1002, OLD_CONSTITUENTS_ONLY_PAGE),
    )
    pages = revision_pages(_client(server, tmp_path, sleeps), archive, _settings(), NOW)
    assert sleeps == [7.0, 5.0]  # Retry-After, then the API manual's 5 s without one
    sent = queries(server)
    assert sent[0] == sent[1]
    assert sent[2] == sent[3]
    assert [p.revision_id for p in pages] == [1002]


def test_requests_are_sequential_and_wait_out_the_lag(
    server: ReplayServer, tmp_path: Path, archive: RawArchive
) -> None:
    # Real sleeping; the Retry-After of 7 s is capped to 0.2 s by HttpSettings.backoff_max_s.
    slow = 0.05
    replies = [
        maxlag("7"),
        revision_list([(1002, "2013-01-28T16:20:00Z"), (1005, "2017-10-31T23:59:59Z")]),
        rendered(1002, OLD_CONSTITUENTS_ONLY_PAGE),
        rendered(1005, OLD_DESKTOP_PAGE),
    ]
    for reply in replies:
        reply.delay_s = slow
    server.script(API, *replies)
    client = _client(server, tmp_path, None, backoff_max_s=0.2)
    revision_pages(client, archive, _settings(), NOW)
    arrivals = [r.at for r in server.hits(API)]
    assert len(arrivals) == 4
    assert arrivals[1] - arrivals[0] >= slow + 0.2
    assert all(later - earlier >= slow for earlier, later in itertools.pairwise(arrivals))


def test_lag_that_never_ends_gives_up(
    server: ReplayServer, tmp_path: Path, archive: RawArchive
) -> None:
    sleeps: list[float] = []
    server.script(API, maxlag("1"))
    with pytest.raises(SourceUnavailableError, match="still lagged after 3 attempts"):
        revision_pages(_client(server, tmp_path, sleeps), archive, _settings(), NOW)
    assert sleeps == [1.0, 1.0]


def test_api_error_is_refused_with_its_code(
    server: ReplayServer, tmp_path: Path, archive: RawArchive
) -> None:
    server.script(
        API,
        revision_list([(1002, "2013-01-28T16:20:00Z")]),
        Reply(200, _json({"error": {"code": "nosuchrevid", "info": "No revision 1002."}})),
    )
    with pytest.raises(SourceRefusedError, match=r"oldid=1002.*API error 'nosuchrevid'"):
        revision_pages(_client(server, tmp_path, []), archive, _settings(), NOW)
    assert archive.entries(ARCHIVE_SOURCE) == []


@pytest.mark.parametrize(
    ("list_reply", "parse_reply", "message"),
    [
        (Reply(200, b"<html>Wikimedia Error</html>"), None, "malformed JSON"),
        (Reply(200, b"[]"), None, "not a JSON object"),
        (Reply(200, _json({"query": {"pages": []}})), None, r"query\.pages\.0 is not a dict"),
        (
            Reply(200, _json({"query": {"pages": [{"revisions": [{"revid": 1}]}]}})),
            None,
            "timestamp is not a str",
        ),
        (
            revision_list([(1002, "28 January 2013")]),
            None,
            "a revision timestamp is not a time",
        ),
        (
            revision_list([(1002, "2013-01-28T16:20:00Z")]),
            Reply(200, _json({"parse": {"revid": 1002}})),
            r"parse\.text is not a str",
        ),
        (
            revision_list([(1002, "2013-01-28T16:20:00Z")]),
            rendered(1005, OLD_DESKTOP_PAGE),
            "revision 1005 rendered instead of 1002",
        ),
    ],
)
def test_malformed_api_answer_is_an_input_error_naming_the_url(
    server: ReplayServer,
    tmp_path: Path,
    archive: RawArchive,
    list_reply: Reply,
    parse_reply: Reply | None,
    message: str,
) -> None:
    server.script(API, list_reply, *([parse_reply] if parse_reply else []))
    with pytest.raises(InputError, match=message) as caught:
        revision_pages(_client(server, tmp_path, []), archive, _settings(), NOW)
    failed = server.hits(API)[-1].path
    assert str(caught.value).startswith(server.url(API) + "?")
    assert parse_qs(urlsplit(str(caught.value.source)).query) == parse_qs(urlsplit(failed).query)
    assert archive.entries(ARCHIVE_SOURCE) == []


def test_unparseable_revision_is_left_out_with_a_warning_and_not_fetched_again(
    server: ReplayServer, tmp_path: Path, archive: RawArchive, caplog: pytest.LogCaptureFixture
) -> None:
    blanked = Reply(200, _json({"parse": {"title": TITLE, "revid": 1002, "text": "<p>lol</p>"}}))
    server.script(
        API,
        revision_list([(1002, "2013-01-28T16:20:00Z"), (1005, "2017-10-31T23:59:59Z")]),
        blanked,
        rendered(1005, OLD_DESKTOP_PAGE),
    )
    with caplog.at_level(logging.WARNING):
        pages = revision_pages(_client(server, tmp_path, []), archive, _settings(), NOW)
    assert [p.revision_id for p in pages] == [1005]
    assert any(
        m.startswith("revision 1002 of 2013-01-28 16:20:00+00:00 left out: ")
        and "the page has no constituents table" in m
        for m in caplog.messages
    )
    assert [e.revision for e in archive.entries(ARCHIVE_SOURCE)] == ["1002", "1005"]
    server.script(API, revision_list([(1005, "2017-10-31T23:59:59Z")]))
    again = revision_pages(_client(server, tmp_path, []), archive, _settings(), NOW)
    assert [p.revision_id for p in again] == [1005]
    assert [q["action"] for q in queries(server)] == ["query", "parse", "parse", "query"]


def _rev(revision_id: int, stamp: str) -> Revision:
    return Revision(timestamp=datetime.fromisoformat(stamp), revision_id=revision_id)


def test_monthly_picks_take_the_last_revision_of_every_nth_month_that_is_over() -> None:
    revisions = [
        _rev(1, "2012-12-31T23:59:59+00:00"),  # before start
        _rev(2, "2013-01-02T00:00:00+00:00"),
        _rev(4, "2013-01-31T23:59:59+00:00"),
        _rev(3, "2013-01-31T23:59:59+00:00"),  # same second: the higher id is the later edit
        _rev(5, "2013-02-01T00:00:00+00:00"),
        _rev(6, "2013-04-10T00:00:00+00:00"),
        _rev(7, "2013-04-30T00:00:00+00:00"),
        _rev(8, "2013-07-03T00:00:00+00:00"),
        _rev(9, "2013-08-03T00:00:00+00:00"),  # the month of `before`: not over
    ]
    before = date(2013, 8, 20)
    monthly = monthly_picks(revisions, date(2013, 1, 1), 1, before)
    assert [r.revision_id for r in monthly] == [4, 5, 7, 8]
    quarterly = monthly_picks(revisions, date(2013, 1, 15), 3, before)
    assert [r.revision_id for r in quarterly] == [4, 7, 8]  # January, April, July
    assert monthly_picks([], date(2013, 1, 1), 1, before) == []


def test_settings_default_and_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    from etl_service.settings import Settings

    defaults = Settings().wikipedia_history
    assert (defaults.enabled, defaults.start, defaults.months_step, defaults.api_url) == (
        True,
        date(2007, 1, 1),
        1,
        "https://en.wikipedia.org/w/api.php",
    )
    monkeypatch.setenv("ETL_WIKIPEDIA_HISTORY__START", "2012-06-01")
    monkeypatch.setenv("ETL_WIKIPEDIA_HISTORY__MONTHS_STEP", "3")
    monkeypatch.setenv("ETL_WIKIPEDIA_HISTORY__ENABLED", "false")
    history = Settings().wikipedia_history
    assert (history.start, history.months_step, history.enabled) == (date(2012, 6, 1), 3, False)
