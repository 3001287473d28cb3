"""Parse "List of S&P 500 companies" (desktop or REST API HTML) into canonical tables."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime

from etl_service.src.adapters.wikipedia.changes import build_changes
from etl_service.src.adapters.wikipedia.constituents import RawRecord, build_companies
from etl_service.src.adapters.wikipedia.document import (
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
)
from etl_service.src.models.records import Extracted

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class ParsedPage:
    """Both tables of one page revision, each with its rejected rows and warnings."""

    source: str
    revision: str | None
    revision_time: datetime | None
    companies: Extracted
    changes: Extracted


def _records(data: TableData, mapping: dict[str, int]) -> Iterator[RawRecord]:
    for line, cells in zip(data.lines, data.rows, strict=True):
        raw: dict[str, str] = {}
        for name, index in mapping.items():
            cell = cells[index] if index < len(cells) else None
            raw[name] = cell_text(cell) if cell is not None else ""
        yield line, raw


def parse_page(data: bytes, source: str) -> ParsedPage:
    """Parse a saved or fetched page (plain or gzip bytes).

    Args:
        data: the page body as received or saved.
        source: what to name in errors and rejections (file path or URL).

    Returns:
        The companies and changes tables with the page's revision id and time.

    Raises:
        InputError: empty, truncated, non-UTF-8 or non-HTML body, or a page without the tables.
        SchemaError: a table lacks a required column (the message lists missing and found).
    """
    body = maybe_gunzip(data, source)
    root = parse_document(decode_page(body, source), source)
    info = page_info(body)
    constituents, constituent_map = find_table(
        root, "constituents", CONSTITUENT_FIELDS, "constituents", source
    )
    changes, change_map = find_table(root, "changes", CHANGE_FIELDS, "changes", source)
    companies = build_companies(_records(constituents, constituent_map), source, info.revision)
    companies.warnings[:0] = [f"{source}: constituents {n}" for n in constituents.notes]
    history = build_changes(_records(changes, change_map), source)
    history.warnings[:0] = [f"{source}: changes {n}" for n in changes.notes]
    logger.info(
        "parsed %s (revision %s): %d companies (%d rejected), %d changes (%d rejected)",
        source,
        info.revision,
        companies.table.num_rows,
        len(companies.rejected),
        history.table.num_rows,
        len(history.rejected),
    )
    return ParsedPage(source, info.revision, info.revision_time, companies, history)
