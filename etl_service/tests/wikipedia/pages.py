"""Small hand-written pages in the Wikipedia layout, for rules the real pages do not exercise."""

from __future__ import annotations

CONSTITUENT_HEADERS = (
    "Symbol",
    "Security",
    "GICS Sector",
    "GICS Sub-Industry",
    "Headquarters Location",
    "Date added",
    "CIK",
    "Founded",
)
MMM = (
    "MMM",
    "3M",
    "Industrials",
    "Industrial Conglomerates",
    "Saint Paul, Minnesota",
    "1957-03-04",
    "0000066740",
    "1902",
)
AOS = (
    "AOS",
    "A. O. Smith",
    "Industrials",
    "Building Products",
    "Milwaukee, Wisconsin",
    "2017-07-26",
    "0000091142",
    "1916",
)

CHANGES_TABLE = """
<table class="wikitable sortable" id="changes">
<tr><th rowspan="2">Date</th><th colspan="2">Added</th><th colspan="2">Removed</th>
<th rowspan="2">Reason</th></tr>
<tr><th>Ticker</th><th>Security</th><th>Ticker</th><th>Security</th></tr>
<tr><td rowspan="2">September&#160;20, 2021</td><td>MTCH</td><td>Match Group</td>
<td>PRGO</td><td>Perrigo</td><td>Market cap change.<sup class="reference">[4]</sup></td></tr>
<tr><td>BRO</td><td>Brown &amp; Brown</td><td>NOV</td><td>NOV Inc.</td>
<td>Market cap change.</td></tr>
<tr><td>June 4, 2021</td><td></td><td></td><td>HFC</td><td>HollyFrontier</td><td></td></tr>
</table>
"""


def constituents_table(
    rows: tuple[tuple[str, ...], ...] = (MMM, AOS),
    headers: tuple[str, ...] = CONSTITUENT_HEADERS,
    table_id: str | None = "constituents",
) -> str:
    """A constituents table with one header row."""
    id_attr = f' id="{table_id}"' if table_id else ""
    head = "".join(f"<th>{h}</th>" for h in headers)
    body = "".join("<tr>" + "".join(f"<td>{c}</td>" for c in row) + "</tr>" for row in rows)
    return f'<table class="wikitable sortable"{id_attr}><tr>{head}</tr>{body}</table>'


def page(*tables: str) -> bytes:
    """A complete page holding ``tables``."""
    content = "\n".join(tables)
    return (
        "<!DOCTYPE html><html><head><meta charset='utf-8'/><title>List of S&amp;P 500 companies"
        f"</title></head><body>{content}</body></html>\n"
    ).encode()


def good_page() -> bytes:
    """Both tables, ids present."""
    return page(constituents_table(), CHANGES_TABLE)
