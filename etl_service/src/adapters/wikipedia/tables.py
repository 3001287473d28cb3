"""Locating a table (by id, else by its header content) and mapping its headers to fields.

Pages since about 2020 mark their header rows with ``<th>`` and give the tables ids. Older
pages (2012-2019) have no ids and write the changes table's two header rows as ``<td>``
cells, so a header is also recognised by what it says: the leading block of rows (at most
three) whose texts, joined per column, name the most wanted fields. A data row joined to a
header names nothing ("Date October 13, 2017"), so the block always stops before the data.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

from lxml import html

from etl_service.errors import InputError, SchemaError
from etl_service.src.adapters.wikipedia.normalize import cell_text, clean_text

_MAX_SPAN = 1000
_MAX_HEADER_ROWS = 3


@dataclass(frozen=True)
class FieldSpec:
    """A canonical field and the header texts (lowercase) that name it."""

    name: str
    variants: tuple[str, ...]
    required: bool = True


CONSTITUENT_FIELDS: tuple[FieldSpec, ...] = (
    FieldSpec("ticker", ("symbol", "ticker symbol", "ticker")),
    FieldSpec("name", ("security", "company")),
    FieldSpec("sector", ("gics sector",)),
    FieldSpec("sub_industry", ("gics sub-industry", "gics sub industry")),
    FieldSpec("headquarters", ("headquarters location", "address of headquarters", "headquarters")),
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


def _joined_headers(rows: Sequence[html.HtmlElement]) -> list[str]:
    """One name per column: the texts of the header rows' cells over it, each cell once."""
    grid = expand_grid(rows)
    width = max((len(r) for r in grid), default=0)
    headers: list[str] = []
    for col in range(width):
        parts: list[str] = []
        seen: list[html.HtmlElement] = []
        for grid_row in grid:
            cell = grid_row[col] if col < len(grid_row) else None
            if cell is None or any(cell is s for s in seen):
                continue
            seen.append(cell)
            text = clean_text(cell.text_content())
            if text:
                parts.append(text)
        headers.append(" ".join(parts))
    return headers


def _named_fields(headers: Sequence[str], fields: Sequence[FieldSpec]) -> int:
    lowered = {h.lower() for h in headers}
    return sum(1 for spec in fields if lowered & set(spec.variants))


def _header_count(rows: Sequence[html.HtmlElement], fields: Sequence[FieldSpec]) -> int:
    """How many leading rows are the header: ``<th>`` rows, or the block naming most fields."""
    by_markup = 0
    while by_markup < len(rows) and _is_header_row(rows[by_markup]):
        by_markup += 1
    if not fields:
        return by_markup
    best, best_named = by_markup, _named_fields(_joined_headers(rows[:by_markup]), fields)
    for count in range(1, min(_MAX_HEADER_ROWS, len(rows)) + 1):
        named = _named_fields(_joined_headers(rows[:count]), fields)
        if named > best_named:
            best, best_named = count, named
    return best


def read_table(table: html.HtmlElement, fields: Sequence[FieldSpec] = ()) -> TableData:
    """Header names (header rows joined per column) and body grid of ``table``.

    Without ``fields`` only ``<th>`` rows count as header; with them, ``<td>`` rows that name
    the fields do too (older pages).
    """
    rows = _rows_of(table)
    n_header = _header_count(rows, fields)
    headers = _joined_headers(rows[:n_header])
    data = TableData(headers, [])
    body = rows[n_header:]
    for line, (tr, cells) in enumerate(zip(body, expand_grid(body), strict=True), n_header + 1):
        if _is_header_row(tr) and [cell_text(c) if c is not None else "" for c in cells] == headers:
            data.notes.append(f"row {line}: repeated header row skipped")
            continue
        data.rows.append(cells)
        data.lines.append(line)
    return data


def search_table(
    root: html.HtmlElement,
    table_id: str,
    fields: Sequence[FieldSpec],
    label: str,
    source: str,
) -> tuple[TableData, dict[str, int]] | None:
    """The table with ``id=table_id``, else the first whose headers name every required field.

    Returns:
        The table and its column of each field; None when no table looks like the one wanted.

    Raises:
        SchemaError: the table is there but a required column is missing (names both lists).
    """
    by_id = root.xpath("//table[@id=$id]", id=table_id)
    if by_id:
        data = read_table(by_id[0], fields)
        return data, map_headers(data.headers, fields, label, source)
    required = [s for s in fields if s.required]
    best: tuple[int, TableData] | None = None
    for table in root.iter("table"):
        data = read_table(table, fields)
        score = _named_fields(data.headers, required)
        if score == len(required):
            return data, map_headers(data.headers, fields, label, source)
        if score >= 2 and (best is None or score > best[0]):
            best = (score, data)
    if best is not None:
        map_headers(best[1].headers, fields, label, source)  # raises, naming what is missing
    return None


def find_table(
    root: html.HtmlElement,
    table_id: str,
    fields: Sequence[FieldSpec],
    label: str,
    source: str,
) -> tuple[TableData, dict[str, int]]:
    """``search_table``, for a table the page must have.

    Raises:
        SchemaError: the table is there but a required column is missing (names both lists).
        InputError: no table looks like the one wanted.
    """
    found = search_table(root, table_id, fields, label, source)
    if found is None:
        required = ", ".join(s.name for s in fields if s.required)
        raise InputError(
            f"the page has no {label} table (no table id={table_id!r} and no table whose header "
            f"names {required})",
            source=source,
        )
    return found
