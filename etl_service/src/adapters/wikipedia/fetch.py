"""Fetch the live page through the shared HttpFetcher and archive it raw before parsing."""

from __future__ import annotations

import hashlib
import logging
from dataclasses import dataclass
from pathlib import Path

from etl_service.src.adapters.archive import ArchivedPayload, RawArchive
from etl_service.src.adapters.files import read_bytes
from etl_service.src.adapters.http import FetchResult, HttpFetcher
from etl_service.src.adapters.wikipedia.document import page_info

logger = logging.getLogger(__name__)

ARCHIVE_SOURCE = "wikipedia"


@dataclass(frozen=True)
class FetchedPage:
    """A fetched page, its revision id (when the page states it) and where it was archived."""

    result: FetchResult
    revision: str | None
    archived: ArchivedPayload

    @property
    def body(self) -> bytes:
        return self.result.body


def fetch_page(fetcher: HttpFetcher, url: str, archive: RawArchive) -> FetchedPage:
    """GET ``url`` (retries, Retry-After, conditional request) and archive the raw body.

    Args:
        fetcher: the shared HTTP fetcher, carrying the descriptive User-Agent.
        url: the page URL (desktop or REST API ``page/html``).
        archive: where the raw body goes, with fetch time, URL and revision id.

    Returns:
        The fetched page and its archive entry; a 304 answer is archived from the cache too,
        so every run can be replayed from the exact bytes it parsed.

    With no disk cache (a new container), the request is made conditional on the newest
    archived copy of ``url``: the archive lives with the lake, so a stateless run still gets
    a 304 for an unchanged page and parses the archived bytes.
    """
    result = fetcher.get(url, known=lambda: archived_validators(archive, url))
    revision = page_info(result.body).revision
    archived = archive.put(
        ARCHIVE_SOURCE,
        result.body,
        url=url,
        fetched_at=result.fetched_at,
        revision=revision,
        extension="html",
        extra={
            "status": result.status,
            "from_cache": result.from_cache,
            "etag": result.headers.get("etag"),
            "last_modified": result.headers.get("last-modified"),
        },
    )
    logger.info("fetched %s (revision %s, from cache: %s)", url, revision, result.from_cache)
    return FetchedPage(result, revision, archived)


def archived_validators(archive: RawArchive, url: str) -> tuple[bytes, dict[str, str]] | None:
    """The newest intact archived body of ``url`` that has an ETag, with its validators;
    None when there is none or the archive cannot be read (the request is then plain)."""
    try:
        return _newest_validators(archive, url)
    except (OSError, ValueError) as exc:
        logger.warning("raw archive not readable (%s); fetching %s unconditionally", exc, url)
        return None


def _newest_validators(archive: RawArchive, url: str) -> tuple[bytes, dict[str, str]] | None:
    for entry in archive.newest_first(ARCHIVE_SOURCE):  # one metadata read per entry reached
        extra = entry.extra or {}
        if entry.url != url or not extra.get("etag"):
            continue
        body = archive.read(entry.path)
        if hashlib.sha256(body).hexdigest() != entry.sha256:
            logger.warning("archived copy %s does not match its checksum; not used", entry.path)
            continue
        validators = {"etag": str(extra["etag"])}
        if extra.get("last_modified"):
            validators["last-modified"] = str(extra["last_modified"])
        return body, validators
    return None


def read_page_file(path: Path) -> bytes:
    """The bytes of a saved page (``.html`` or ``.html.gz``), with a clear error if unreadable."""
    return read_bytes(path)
