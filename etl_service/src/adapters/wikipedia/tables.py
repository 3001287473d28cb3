"""Locating a table (by id, else by its header content) and mapping its headers to fields."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

from lxml import html

from etl_service.errors import InputError, SchemaError
from etl_service.src.adapters.wikipedia.normalize import cell_text, clean_text

_MAX_SPAN = 1000


@dataclass(frozen=True)
class FieldSpec:
    """A canonical field and the header texts (lowercase) that name it."""

    name: str
    variants: tuple[str, ...]
    required: bool = True


CONSTITUENT_FIELDS: tuple[FieldSpec, ...] = (
    FieldSpec("ticker", ("symbol", "ticker symbol")),
    FieldSpec("name", ("security", "company")),
    FieldSpec("sector", ("gics sector",)),
    FieldSpec("sub_industry", ("gics sub-industry", "gics sub industry")),
    FieldSpec("headquarters", ("headquarters location", "address of headquarters")),
    FieldSpec("date_added", ("date added", "date first added")),
    FieldSpec("cik", ("cik",)),
    FieldSpec("year_founded", ("founded",), required=False),
)
"""Constituents columns; anything else (e.g. "SEC filings") is ignored."""

CHANGE_FIELDS: tuple[FieldSpec, ...] = (
    FieldSpec("date", ("date", "effective date")),
    FieldSpec("added_ticker", ("added ticker", "added symbol")),
    FieldSpec("added_name", ("added security", "added company")),
    FieldSpec("removed_ticker", ("removed ticker", "removed symbol")),
    FieldSpec("removed_name", ("removed security", "removed company")),
    FieldSpec("reason", ("reason",)),
)
"""Changes columns, named by joining the two header rows ("Added" + "Ticker")."""


@dataclass
class TableData:
    """A table's combined header names and its body rows as a rectangular cell grid."""

    headers: list[str]
    rows: list[list[html.HtmlElement | None]]
    lines: list[int] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)


def map_headers(
    headers: Sequence[str], fields: Sequence[FieldSpec], label: str, source: str
) -> dict[str, int]:
    """Column index of each field found in ``headers``; SchemaError naming what is missing."""
    lowered = [h.lower() for h in headers]
    mapping: dict[str, int] = {}
    for spec in fields:
        index = next((i for i, h in enumerate(lowered) if h in spec.variants), None)
        if index is not None:
            mapping[spec.name] = index
    missing = [spec for spec in fields if spec.required and spec.name not in mapping]
    if missing:
        wanted = "; ".join(
            f"{s.name} ({' or '.join(repr(v) for v in s.variants)})" for s in missing
        )
        raise SchemaError(
            f"{label} table: missing required column(s) {wanted}; found headers {list(headers)}",
            source=source,
            field=missing[0].name,
        )
    return mapping


def _rows_of(table: html.HtmlElement) -> list[html.HtmlElement]:
    rows: list[html.HtmlElement] = table.xpath("./tr | ./thead/tr | ./tbody/tr | ./tfoot/tr")
    return rows


def _span(cell: html.HtmlElement, attr: str) -> int:
    try:
        return max(1, min(_MAX_SPAN, int(str(cell.get(attr, "1")).strip() or "1")))
    except ValueError:
        return 1


def expand_grid(rows: Sequence[html.HtmlElement]) -> list[list[html.HtmlElement | None]]:
    """Cells of ``rows`` laid on a grid, repeating row- and column-spanning cells."""
    grid: list[dict[int, html.HtmlElement]] = []
    pending: dict[int, tuple[int, html.HtmlElement]] = {}
    for tr in rows:
        placed: dict[int, html.HtmlElement] = {}
        for col, (left, cell) in list(pending.items()):
            placed[col] = cell
            if left > 1:
                pending[col] = (left - 1, cell)
            else:
                del pending[col]
        col = 0
        for cell in (c for c in tr if c.tag in ("td", "th")):
            while col in placed:
                col += 1
            rowspan, colspan = _span(cell, "rowspan"), _span(cell, "colspan")
            for k in range(colspan):
                placed[col + k] = cell
                if rowspan > 1:
                    pending[col + k] = (rowspan - 1, cell)
            col += colspan
        grid.append(placed)
    width = max((max(r) + 1 for r in grid if r), default=0)
    return [[r.get(i) for i in range(width)] for r in grid]


def _is_header_row(tr: html.HtmlElement) -> bool:
    cells = [c for c in tr if c.tag in ("td", "th")]
    return bool(cells) and all(c.tag == "th" for c in cells)


def read_table(table: html.HtmlElement) -> TableData:
    """Header names (header rows joined per column) and body grid of ``table``."""
    rows = _rows_of(table)
    n_header = 0
    while n_header < len(rows) and _is_header_row(rows[n_header]):
        n_header += 1
    header_grid = expand_grid(rows[:n_header])
    width = max((len(r) for r in header_grid), default=0)
    headers: list[str] = []
    for col in range(width):
        parts: list[str] = []
        seen: list[html.HtmlElement] = []
        for grid_row in header_grid:
            cell = grid_row[col] if col < len(grid_row) else None
            if cell is None or any(cell is s for s in seen):
                continue
            seen.append(cell)
            text = clean_text(cell.text_content())
            if text:
                parts.append(text)
        headers.append(" ".join(parts))
    data = TableData(headers, [])
    body = rows[n_header:]
    for line, (tr, cells) in enumerate(zip(body, expand_grid(body), strict=True), n_header + 1):
        if _is_header_row(tr) and [cell_text(c) if c is not None else "" for c in cells] == headers:
            data.notes.append(f"row {line}: repeated header row skipped")
            continue
        data.rows.append(cells)
        data.lines.append(line)
    return data


def find_table(
    root: html.HtmlElement,
    table_id: str,
    fields: Sequence[FieldSpec],
    label: str,
    source: str,
) -> tuple[TableData, dict[str, int]]:
    """The table with ``id=table_id``, else the first whose headers name every required field.

    Raises:
        SchemaError: the table is there but a required column is missing (names both lists).
        InputError: no table looks like the one wanted.
    """
    by_id = root.xpath("//table[@id=$id]", id=table_id)
    if by_id:
        data = read_table(by_id[0])
        return data, map_headers(data.headers, fields, label, source)
    required = [s for s in fields if s.required]
    best: tuple[int, TableData] | None = None
    for table in root.iter("table"):
        data = read_table(table)
        lowered = {h.lower() for h in data.headers}
        score = sum(1 for s in required if lowered & set(s.variants))
        if score == len(required):
            return data, map_headers(data.headers, fields, label, source)
        if score >= 2 and (best is None or score > best[0]):
            best = (score, data)
    if best is not None:
        map_headers(best[1].headers, fields, label, source)  # raises, naming what is missing
    raise InputError(
        f"the page has no {label} table (no table id={table_id!r} and no table whose header "
        f"names {', '.join(s.name for s in required)})",
        source=source,
    )
