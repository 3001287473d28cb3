"""Decoding and validating a saved or fetched Wikipedia page, and reading its revision."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, datetime

from lxml import etree, html

from etl_service.errors import InputError
from etl_service.src.adapters.files import GZIP_MAGIC, decode_text, gunzip_bytes

_REVISION_PATTERNS = (
    re.compile(rb'about="[^"]*/revision/(\d+)"'),  # REST API (Parsoid) HTML
    re.compile(rb'"wgRevisionId":(\d+)'),  # desktop HTML
)
_TIME_PATTERNS = (
    re.compile(rb'<meta property="dc:modified" content="([^"]+)"'),
    re.compile(rb'"dateModified":"([^"]+)"'),
)


@dataclass(frozen=True)
class PageInfo:
    """What the page says about itself."""

    revision: str | None
    revision_time: datetime | None


def maybe_gunzip(data: bytes, source: str) -> bytes:
    """``data`` itself, or its decompressed content when it is gzip (bundled snapshots)."""
    return gunzip_bytes(data, source) if data.startswith(GZIP_MAGIC) else data


def decode_page(data: bytes, source: str) -> str:
    """The page as text; refuses empty, non-UTF-8 and truncated bodies."""
    if not data.strip():
        raise InputError("the page is empty", source=source)
    text = decode_text(data, source)
    head = text[:2048].lower()
    if "<html" not in head and "<!doctype html" not in head:
        raise InputError("the body is not an HTML page (no <html> element)", source=source)
    if not text.rstrip().lower().endswith("</html>"):
        raise InputError(
            "the page is truncated (it does not end with </html>)",
            source=source,
            value=text.rstrip()[-40:],
        )
    return text


def parse_document(text: str, source: str) -> html.HtmlElement:
    """The lxml tree of a decoded page."""
    try:
        root = html.document_fromstring(text)
    except (etree.ParserError, ValueError) as exc:
        raise InputError(f"the page cannot be parsed as HTML: {exc}", source=source) from exc
    return root


def page_info(data: bytes) -> PageInfo:
    """Revision id and revision time as the page states them (either may be missing)."""
    revision = next((m[1].decode() for p in _REVISION_PATTERNS if (m := p.search(data))), None)
    when = next((m[1].decode() for p in _TIME_PATTERNS if (m := p.search(data))), None)
    revision_time = None
    if when:
        try:
            revision_time = datetime.fromisoformat(when.replace("Z", "+00:00")).astimezone(UTC)
        except ValueError:
            revision_time = None
    return PageInfo(revision, revision_time)
