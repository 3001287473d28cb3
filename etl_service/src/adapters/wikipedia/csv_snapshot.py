"""CSV scrapes of the constituents table (../shared/data/constituents layouts), same rules.

Two kinds of file exist: the full layout (``Symbol,Security|Company,GICS Sector,...``, with or
without "SEC filings" and a trailing scrape ``date``) and the 2012-2021 three-column layout
``Symbol,Name,Sector``. The full layout gives the ``companies`` table; both give a member list
(ticker, name, cik) for point-in-time membership. Row rules are those of the HTML parser:
``RVTY (Previously PKI)`` is read as RVTY, ``BRK-B`` as BRK.B, and a Symbol that is not a
ticker (``American Airlines Group``) is rejected with the reason.
"""

from __future__ import annotations

import csv
import io
from typing import Any

import pyarrow as pa

from etl_service.errors import InputError
from etl_service.src.adapters.wikipedia.constituents import RawRecord, build_companies
from etl_service.src.adapters.wikipedia.normalize import check_ticker, clean_text, normalize_cik
from etl_service.src.adapters.wikipedia.tables import CONSTITUENT_FIELDS, FieldSpec, map_headers
from etl_service.src.models.records import Extracted, Rejected

MEMBERS_TABLE = "index_members"
MEMBERS_SCHEMA = pa.schema(
    [
        pa.field("ticker", pa.string(), nullable=False),
        pa.field("name", pa.string(), nullable=False),
        pa.field("cik", pa.string()),
    ]
)
"""A member list: enough to derive membership, from any layout."""

MEMBER_FIELDS: tuple[FieldSpec, ...] = (
    FieldSpec("ticker", ("symbol", "ticker symbol")),
    FieldSpec("name", ("security", "company", "name")),
    FieldSpec("cik", ("cik",), required=False),
)


def _decode(data: bytes, source: str) -> str:
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise InputError(f"not valid UTF-8 at byte {exc.start}", source=source) from exc


def _read(
    data: bytes, source: str, fields: tuple[FieldSpec, ...]
) -> tuple[list[RawRecord], list[str], list[tuple[int, str, list[str]]]]:
    """Records, warnings and short rows of a CSV file whose header names ``fields``."""
    lines = list(csv.reader(io.StringIO(_decode(data, source), newline="")))
    if not lines or not any(c.strip() for c in lines[0]):
        raise InputError("the CSV file is empty", source=source)
    header = [clean_text(h) for h in lines[0]]
    mapping = map_headers(header, fields, "constituents", source)
    warnings: list[str] = []
    short: list[tuple[int, str, list[str]]] = []
    records: list[RawRecord] = []
    for line, cells in enumerate(lines[1:], 2):
        if not any(c.strip() for c in cells):
            continue
        if len(cells) < len(header):
            short.append(
                (line, f"line {line}: {len(cells)} fields, header has {len(header)}", cells)
            )
            continue
        if len(cells) > len(header):
            warnings.append(
                f"{source}: line {line}: {len(cells) - len(header)} unquoted extra field(s) "
                f"{cells[len(header) :]} after the {len(header)} header columns ignored"
            )
        records.append((line, {name: cells[index] for name, index in mapping.items()}))
    return records, warnings, short


def _short_rejections(
    table: str, short: list[tuple[int, str, list[str]]], source: str
) -> list[Rejected]:
    return [
        Rejected(table, f"line {line}", reason, source, {"fields": "|".join(cells)})
        for line, reason, cells in short
    ]


def read_constituents_csv(data: bytes, source: str, revision: str | None = None) -> Extracted:
    """The ``companies`` table of a full-layout CSV scrape.

    Raises:
        SchemaError: the file lacks a required column (the three-column layout does).
    """
    records, warnings, short = _read(data, source, CONSTITUENT_FIELDS)
    extracted = build_companies(records, source, revision, unit="line")
    extracted.rejected[:0] = _short_rejections("companies", short, source)
    extracted.warnings[:0] = warnings
    return extracted


def read_members_csv(data: bytes, source: str) -> Extracted:
    """The member list (ticker, name, cik) of a CSV scrape of any layout."""
    records, warnings, short = _read(data, source, MEMBER_FIELDS)
    rows: list[dict[str, Any]] = []
    rejected = _short_rejections(MEMBERS_TABLE, short, source)
    seen: dict[str, int] = {}
    for line, raw in records:
        record = {k: clean_text(v) for k, v in raw.items()}
        check = check_ticker(raw["ticker"])
        if check.ticker is None or not record.get("name"):
            reason = check.reason if check.ticker is None else "name is empty"
            key = check.ticker or record["ticker"] or f"line {line}"
            rejected.append(Rejected(MEMBERS_TABLE, key, f"line {line}: {reason}", source, record))
            continue
        if check.note:
            warnings.append(f"{source}: line {line}: {check.note}")
        if check.ticker in seen:
            rejected.append(
                Rejected(
                    MEMBERS_TABLE,
                    check.ticker,
                    f"line {line}: duplicate of ticker {check.ticker} (line {seen[check.ticker]})",
                    source,
                    record,
                )
            )
            continue
        seen[check.ticker] = line
        try:
            cik = normalize_cik(raw.get("cik", ""))
        except ValueError as exc:
            cik = None
            warnings.append(f"{source}: line {line}: {check.ticker}: CIK stored as null: {exc}")
        rows.append({"ticker": check.ticker, "name": record["name"], "cik": cik})
    return Extracted(pa.Table.from_pylist(rows, schema=MEMBERS_SCHEMA), rejected, warnings)
