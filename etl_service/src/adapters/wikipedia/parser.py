"""Parse "List of S&P 500 companies" (desktop or REST API HTML) into canonical tables.

Every layout since 2012 is read: tables with or without ids, header rows as ``<th>`` or
``<td>``. The constituents table is required; the changes table is not (pages before it
existed), and without it the page still gives its companies, an empty changes table and the
warning ``NO_CHANGES_TABLE``.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime

from lxml import html

from etl_service.src.adapters.wikipedia.changes import build_changes
from etl_service.src.adapters.wikipedia.constituents import RawRecord, build_companies
from etl_service.src.adapters.wikipedia.document import (
    PageInfo,
    decode_page,
    maybe_gunzip,
    page_info,
    parse_document,
)
from etl_service.src.adapters.wikipedia.normalize import cell_text
from etl_service.src.adapters.wikipedia.tables import (
    CHANGE_FIELDS,
    CONSTITUENT_FIELDS,
    TableData,
    find_table,
    search_table,
)
from etl_service.src.models.records import Extracted
from etl_service.src.models.schemas import INDEX_CHANGES, arrow_schema

logger = logging.getLogger(__name__)

NO_CHANGES_TABLE = "no changes table found; index changes not read"


@dataclass(frozen=True)
class ParsedPage:
    """Both tables of one page revision, each with its rejected rows and warnings."""

    source: str
    revision: str | None
    revision_time: datetime | None
    companies: Extracted
    changes: Extracted
    changes_found: bool = True
    """False when the page has no changes table (older revisions); ``changes`` is then empty."""


def _records(data: TableData, mapping: dict[str, int]) -> Iterator[RawRecord]:
    for line, cells in zip(data.lines, data.rows, strict=True):
        raw: dict[str, str] = {}
        for name, index in mapping.items():
            cell = cells[index] if index < len(cells) else None
            raw[name] = cell_text(cell) if cell is not None else ""
        yield line, raw


def _read_changes(root: html.HtmlElement, source: str) -> tuple[Extracted, bool]:
    """The changes table, or an empty one with the warning when the page has none."""
    found = search_table(root, "changes", CHANGE_FIELDS, "changes", source)
    if found is None:
        empty = arrow_schema(INDEX_CHANGES).empty_table()
        return Extracted(empty, warnings=[f"{source}: {NO_CHANGES_TABLE}"]), False
    changes, change_map = found
    history = build_changes(_records(changes, change_map), source)
    history.warnings[:0] = [f"{source}: changes {n}" for n in changes.notes]
    return history, True


def parse_page(data: bytes, source: str, info: PageInfo | None = None) -> ParsedPage:
    """Parse a saved or fetched page (plain or gzip bytes).

    Args:
        data: the page body as received or saved.
        source: what to name in errors and rejections (file path or URL).
        info: the revision id and time when the caller knows them (an API answer); by default
            they are read from the page.

    Returns:
        The companies and changes tables with the page's revision id and time.

    Raises:
        InputError: empty, truncated, non-UTF-8 or non-HTML body, or no constituents table.
        SchemaError: a table lacks a required column (the message lists missing and found).
    """
    body = maybe_gunzip(data, source)
    root = parse_document(decode_page(body, source), source)
    info = info or page_info(body)
    constituents, constituent_map = find_table(
        root, "constituents", CONSTITUENT_FIELDS, "constituents", source
    )
    companies = build_companies(_records(constituents, constituent_map), source, info.revision)
    companies.warnings[:0] = [f"{source}: constituents {n}" for n in constituents.notes]
    history, changes_found = _read_changes(root, source)
    logger.debug(
        "parsed %s (revision %s): %d companies (%d rejected), %d changes (%d rejected)",
        source,
        info.revision,
        companies.table.num_rows,
        len(companies.rejected),
        history.table.num_rows,
        len(history.rejected),
    )
    return ParsedPage(source, info.revision, info.revision_time, companies, history, changes_found)
