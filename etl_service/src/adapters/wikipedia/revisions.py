"""Past revisions of "List of S&P 500 companies", one a month, through the MediaWiki action API.

Usage::

    history = settings.wikipedia_history  # a WikipediaHistorySettings
    client = RevisionClient(fetcher, history.api_url)  # fetcher: HttpFetcher(use_cache=False)
    for revision_id, revision_time, page in revision_pages(client, archive, history):
        ...  # page is a ParsedPage, as parse_page returns for a saved page

What happens:

1. ``RevisionClient.list_revisions`` lists revision ids and times (``action=query
   &prop=revisions&rvprop=ids|timestamp&rvdir=newer&rvlimit=max``), following ``continue``.
2. ``monthly_picks`` keeps the last revision of every ``months_step``-th month from ``start``.
   The grid is anchored at ``start``'s month, so it is the same on every run; the month that
   is not over yet is left for a later run, as its last revision is not known.
3. ``update_history`` fetches each pick the archive lacks (``action=parse&oldid=<id>
   &prop=text``) and archives the JSON answer raw at once, under ``ARCHIVE_SOURCE`` with the
   revision id and, in ``extra``, the revision time; an interrupted run keeps what it fetched.
4. ``revision_pages`` runs step 3, then parses every archived revision, old and new.

Incremental: the archive is the record of what was fetched. A later run lists revisions
only from the newest archived one on (plus, when the oldest archived revision is from a
later month than ``start``, those before it: ``start`` was moved earlier, or the page did
not exist yet), so it fetches only the months since. The archived span is taken as
complete: after making ``months_step`` finer, clear ``ARCHIVE_SOURCE`` to fetch the months
in between.

Why ``action=parse`` rather than the REST ``page/html/{title}/{revid}``: the list and the
pages then come from one API, with one etiquette (``maxlag``) and one error format; the REST
``rest_v1`` routes belong to RESTBase, which Wikimedia is retiring; and the answer names the
revision it rendered, so a wrong page is caught. Its ``parse.text`` is an HTML fragment,
parsed inside a minimal document with the revision id and time from the API.

Etiquette: every request carries the HttpFetcher's User-Agent, ``format=json``,
``formatversion=2`` and ``maxlag=5``; a ``maxlag`` answer (HTTP 200, error code ``maxlag``)
is retried after its Retry-After (5 s without one, capped by ``HttpSettings.backoff_max_s``
as every Retry-After is); requests go one at a time. Build the fetcher with
``use_cache=False``: a revision never changes and is archived here, so the HTTP cache would
only hold second copies.
"""

from __future__ import annotations

import logging
from collections.abc import Collection, Iterable
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Any, NamedTuple, TypeVar

import httpx

from etl_service.errors import InputError, SourceRefusedError, SourceUnavailableError
from etl_service.settings import WikipediaHistorySettings
from etl_service.src.adapters.archive import ArchivedPayload, RawArchive
from etl_service.src.adapters.files import parse_json
from etl_service.src.adapters.http import FetchResult, HttpFetcher, retry_after_seconds
from etl_service.src.adapters.wikipedia.document import PageInfo
from etl_service.src.adapters.wikipedia.parser import ParsedPage, parse_page

logger = logging.getLogger(__name__)

TITLE = "List of S&P 500 companies"
ARCHIVE_SOURCE = "wikipedia-history"
MAXLAG_S = 5
"""Wikimedia's recommended ``maxlag``: wait while replicas lag more than this."""
DEFAULT_LAG_WAIT_S = 5.0
"""The pause after a ``maxlag`` answer without Retry-After (the API manual's minimum)."""

_T = TypeVar("_T")


@dataclass(frozen=True, order=True)
class Revision:
    """A revision of the page: when it was saved (UTC) and its id; sorts by time."""

    timestamp: datetime
    revision_id: int


class RevisionPage(NamedTuple):
    """One parsed revision."""

    revision_id: int
    timestamp: datetime
    page: ParsedPage


def _api_time(when: datetime) -> str:
    return when.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _month(when: date) -> int:
    return when.year * 12 + when.month - 1


def _get(value: object, path: str, kind: type[_T], source: str) -> _T:
    """``value[a][0]`` for ``path`` ``a.0``, which must be a ``kind``."""
    for key in path.split("."):
        if isinstance(value, list) and key.isdigit():
            value = value[int(key)] if int(key) < len(value) else None
        else:
            value = value.get(key) if isinstance(value, dict) else None
    if not isinstance(value, kind):
        raise InputError(f"malformed API answer: {path} is not a {kind.__name__}", source=source)
    return value


def _json_object(body: bytes, source: str) -> dict[str, Any]:
    answer = parse_json(body, source)
    if not isinstance(answer, dict):
        raise InputError("malformed API answer: not a JSON object", source=source)
    return answer


def _revision(item: object, source: str) -> Revision:
    stamp = _get(item, "timestamp", str, source)
    try:
        timestamp = datetime.fromisoformat(stamp).astimezone(UTC)
    except ValueError as exc:
        raise InputError(
            "malformed API answer: a revision timestamp is not a time",
            source=source,
            field="timestamp",
            value=stamp,
        ) from exc
    return Revision(timestamp=timestamp, revision_id=_get(item, "revid", int, source))


def _rendered_html(answer: dict[str, Any], revision_id: int, source: str) -> str:
    """The HTML of an ``action=parse`` answer, checked to be the revision asked for."""
    rendered = _get(answer, "parse.revid", int, source)
    if rendered != revision_id:
        raise InputError(
            f"malformed API answer: revision {rendered} rendered instead of {revision_id}",
            source=source,
        )
    return _get(answer, "parse.text", str, source)


class RevisionClient:
    """The two action API calls, one request at a time, each retried while the wiki lags.

    Args:
        fetcher: the shared fetcher: User-Agent, retries of HTTP failures, injectable sleep.
        api_url: the wiki's ``api.php``.
        title: the page whose revisions are read.
    """

    def __init__(self, fetcher: HttpFetcher, api_url: str, title: str = TITLE) -> None:
        self.fetcher = fetcher
        self.api_url = api_url
        self.title = title

    def _call(self, params: dict[str, str]) -> tuple[dict[str, Any], FetchResult, str]:
        """The JSON answer, the raw result and the full URL of one API request.

        Raises:
            InputError: the answer is not a JSON object.
            SourceRefusedError: the API answered with an error other than ``maxlag``.
            SourceUnavailableError: the wiki still lagged after the fetcher's retry count.
        """
        query = {"format": "json", "formatversion": "2", "maxlag": str(MAXLAG_S), **params}
        url = str(httpx.URL(self.api_url, params=query))
        attempts = self.fetcher.settings.max_retries + 1
        for attempt in range(1, attempts + 1):
            result = self.fetcher.get(self.api_url, params=query)
            answer = _json_object(result.body, url)
            if "warnings" in answer:
                logger.warning("%s: API warnings: %s", url, answer["warnings"])
            if "error" not in answer:
                return answer, result, url
            error = answer["error"] if isinstance(answer["error"], dict) else {}
            if error.get("code") != "maxlag":
                raise SourceRefusedError(
                    f"{url}: API error {error.get('code')!r}: {error.get('info')}"
                )
            if attempt < attempts:
                advised = retry_after_seconds(result.headers.get("retry-after"))
                wait = min(
                    DEFAULT_LAG_WAIT_S if advised is None else advised,
                    self.fetcher.settings.backoff_max_s,
                )
                logger.info("%s: the wiki lags, retrying in %.1f s", url, wait)
                self.fetcher.sleep(wait)
        raise SourceUnavailableError(f"{url}: the wiki still lagged after {attempts} attempts")

    def list_revisions(self, start: datetime, end: datetime | None = None) -> list[Revision]:
        """Every revision saved from ``start`` to ``end`` (both included), oldest first."""
        params = {
            "action": "query",
            "prop": "revisions",
            "titles": self.title,
            "rvprop": "ids|timestamp",
            "rvlimit": "max",
            "rvdir": "newer",
            "rvstart": _api_time(start),
        }
        if end is not None:
            params["rvend"] = _api_time(end)
        revisions: list[Revision] = []
        more: dict[str, Any] = {}
        while True:
            answer, _, url = self._call({**params, **{k: str(v) for k, v in more.items()}})
            page = _get(answer, "query.pages.0", dict, url)
            if page.get("missing"):
                raise InputError(f"the wiki has no page {self.title!r}", source=url)
            # A page without revisions in the range comes without the key.
            items = _get(page, "revisions", list, url) if "revisions" in page else []
            revisions += [_revision(item, url) for item in items]
            if "continue" not in answer:
                return revisions
            more = _get(answer, "continue", dict, url)

    def render(self, revision_id: int) -> tuple[FetchResult, str]:
        """The ``action=parse`` answer for one revision, checked, and the URL it came from."""
        answer, result, url = self._call(
            {
                "action": "parse",
                "oldid": str(revision_id),
                "prop": "text",
                "disableeditsection": "1",
                "disablelimitreport": "1",
            }
        )
        _rendered_html(answer, revision_id, url)
        return result, url


def monthly_picks(
    revisions: Iterable[Revision], start: date, months_step: int, before: date
) -> list[Revision]:
    """The last revision of every ``months_step``-th month from ``start``'s, oldest first.

    Only months that ended before ``before``'s month count.
    """
    first, end = _month(start), _month(before)
    last: dict[int, Revision] = {}
    for revision in revisions:
        month = _month(revision.timestamp)
        if first <= month < end and (month - first) % months_step == 0:
            last[month] = max(revision, last.get(month, revision))
    return [last[m] for m in sorted(last)]


def archived_revisions(archive: RawArchive) -> dict[Revision, ArchivedPayload]:
    """Every revision in the archive (each once) and its entry.

    Raises:
        InputError: an entry lacks its revision id or time.
    """
    found: dict[Revision, ArchivedPayload] = {}
    for entry in archive.entries(ARCHIVE_SOURCE):
        try:
            revision = Revision(
                timestamp=datetime.fromisoformat(str((entry.extra or {})["revision_time"])),
                revision_id=int(entry.revision or ""),
            )
        except (KeyError, ValueError) as exc:
            raise InputError(
                f"archived revision without id or time ({exc})", source=entry.meta_path
            ) from exc
        found.setdefault(revision, entry)
    return found


def _to_list(
    client: RevisionClient, known: Collection[Revision], start: datetime
) -> list[Revision]:
    """The revisions not covered by the archived span (all of them on a first run)."""
    if not known:
        return client.list_revisions(start)
    oldest, newest = min(known), max(known)
    # Revisions before the oldest archived one in its own month can never be a month's last.
    earlier = (
        client.list_revisions(start, oldest.timestamp)
        if _month(oldest.timestamp) > _month(start)
        else []
    )
    return earlier + client.list_revisions(newest.timestamp)


def fetch_revision(
    client: RevisionClient, archive: RawArchive, revision: Revision
) -> ArchivedPayload:
    """Fetch one revision's rendered page and archive the API answer raw."""
    result, url = client.render(revision.revision_id)
    return archive.put(
        ARCHIVE_SOURCE,
        result.body,
        url=url,
        fetched_at=result.fetched_at,
        revision=str(revision.revision_id),
        extension="json",
        extra={"revision_time": revision.timestamp.isoformat(), "title": client.title},
    )


def update_history(
    client: RevisionClient,
    archive: RawArchive,
    settings: WikipediaHistorySettings,
    now: datetime | None = None,
) -> list[ArchivedPayload]:
    """Fetch and archive the monthly revisions the archive lacks.

    Args:
        client: the API client (User-Agent and retries come with its fetcher).
        archive: the raw archive; what it holds under ``ARCHIVE_SOURCE`` is not fetched again.
        settings: ``start`` and ``months_step`` (``enabled`` is the caller's to check).
        now: the current time; months from its month on are not over and left out.

    Returns:
        The entries archived by this call, oldest revision first.
    """
    known = archived_revisions(archive)
    start = datetime(settings.start.year, settings.start.month, 1, tzinfo=UTC)
    listed = _to_list(client, known.keys(), start)
    today = (now or datetime.now(UTC)).astimezone(UTC).date()
    picks = monthly_picks([*known, *listed], settings.start, settings.months_step, today)
    known_ids = {r.revision_id for r in known}
    missing = [r for r in picks if r.revision_id not in known_ids]
    logger.info(
        "%d revisions listed, %d monthly picks, %d to fetch", len(listed), len(picks), len(missing)
    )
    return [fetch_revision(client, archive, r) for r in missing]


def parse_revision(body: bytes, revision: Revision, source: str) -> ParsedPage:
    """Parse an archived ``action=parse`` answer as the page of ``revision``.

    Raises:
        InputError: the answer is malformed or the page has no constituents table.
        SchemaError: a table lacks a required column.
    """
    fragment = _rendered_html(_json_object(body, source), revision.revision_id, source)
    document = (
        f'<!DOCTYPE html><html><head><meta charset="utf-8"/></head><body>{fragment}</body></html>'
    )
    info = PageInfo(str(revision.revision_id), revision.timestamp)
    return parse_page(document.encode(), source, info)


def archived_pages(archive: RawArchive) -> list[RevisionPage]:
    """Every archived revision parsed, oldest first.

    A revision whose page cannot be parsed (blanked by vandalism, an unknown layout) is left
    out with a warning naming it; it stays archived, so it is not fetched again.
    """
    pages: list[RevisionPage] = []
    for revision, entry in sorted(archived_revisions(archive).items()):
        try:
            page = parse_revision(archive.read(entry.path), revision, entry.path)
        except InputError as exc:
            logger.warning(
                "revision %d of %s left out: %s", revision.revision_id, revision.timestamp, exc
            )
            continue
        pages.append(RevisionPage(revision.revision_id, revision.timestamp, page))
    return pages


def revision_pages(
    client: RevisionClient,
    archive: RawArchive,
    settings: WikipediaHistorySettings,
    now: datetime | None = None,
) -> list[RevisionPage]:
    """``update_history``, then every archived revision parsed (see ``archived_pages``).

    Raises:
        InputError: an API answer is malformed (the message names its URL).
        SourceRefusedError: the API answered with an error.
        SourceUnavailableError: the wiki could not be reached or kept lagging.
    """
    update_history(client, archive, settings, now)
    return archived_pages(archive)
