"""Dated lists of index members: CSV scrapes of the constituents table, and parsed pages.

A member list is what one observation of the index says on one date: ticker, name, CIK,
sector, sub-industry and date added, as far as its layout has them. Two CSV layouts exist
(``../shared/data/constituents``): the full one (``Symbol,Security|Company,GICS Sector,...``,
with or without "SEC filings" and a trailing scrape ``date``) and the 2012-2021 three-column
``Symbol,Name,Sector``. Row rules are those of the page parser: ``RVTY (Previously PKI)`` is
read as RVTY, ``BRK-B`` as BRK.B, and a Symbol that is not a ticker (``American Airlines
Group``) is rejected with the reason, as is a second row for the same ticker.
"""

from __future__ import annotations

import csv
import gzip
import io
import re
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any

import pyarrow as pa

from etl_service.errors import InputError
from etl_service.src.adapters import files
from etl_service.src.adapters.archive import RawArchive
from etl_service.src.adapters.wikipedia.fetch import ARCHIVE_SOURCE
from etl_service.src.adapters.wikipedia.normalize import (
    check_ticker,
    clean_text,
    normalize_cik,
    parse_date_added,
)
from etl_service.src.adapters.wikipedia.parser import ParsedPage, parse_page
from etl_service.src.adapters.wikipedia.tables import FieldSpec, map_headers
from etl_service.src.models.records import Extracted, Rejected
from etl_service.src.models.tickers import canonical_ticker

MEMBERS_TABLE = "index_members"
MEMBERS_SCHEMA = pa.schema(
    [
        pa.field("ticker", pa.string(), nullable=False),
        pa.field("name", pa.string(), nullable=False),
        pa.field("cik", pa.string()),
        pa.field("sector", pa.string()),
        pa.field("sub_industry", pa.string()),
        pa.field("date_added", pa.date32()),
    ]
)
"""A member list: what one observation says about each member."""

MEMBER_FIELDS: tuple[FieldSpec, ...] = (
    FieldSpec("ticker", ("symbol", "ticker symbol", "ticker")),
    FieldSpec("name", ("security", "company", "name")),
    FieldSpec("cik", ("cik",), required=False),
    FieldSpec("sector", ("gics sector", "sector"), required=False),
    FieldSpec("sub_industry", ("gics sub-industry", "gics sub industry"), required=False),
    FieldSpec("date_added", ("date added", "date first added"), required=False),
)

_DATED_NAME = re.compile(r"(\d{4})-?(\d{2})-?(\d{2})")


@dataclass(frozen=True)
class MemberList:
    """The members observed on ``as_of`` by ``source``."""

    as_of: date
    source: str
    members: Extracted


def _decode(data: bytes, source: str) -> str:
    if data.startswith(files.GZIP_MAGIC):
        data = files.gunzip_bytes(data, source)
    return files.decode_text(data, source)


def read_member_csv(data: bytes, source: str) -> Extracted:
    """The member list of a CSV scrape of any layout (plain or gzip bytes)."""
    reader = csv.reader(files.csv_text(_decode(data, source)))
    with files.csv_errors(reader, source):
        lines = list(reader)
    if not lines or not any(c.strip() for c in lines[0]):
        raise InputError("the CSV file is empty", source=source)
    header = [clean_text(h) for h in lines[0]]
    mapping = map_headers(header, MEMBER_FIELDS, "constituents", source)
    rows: list[dict[str, Any]] = []
    rejected: list[Rejected] = []
    warnings: list[str] = []
    seen: dict[str, int] = {}
    for line, cells in enumerate(lines[1:], 2):
        if not any(c.strip() for c in cells):
            continue
        raw = {name: cells[i] if i < len(cells) else "" for name, i in mapping.items()}
        record = {k: clean_text(v) for k, v in raw.items()}
        if len(cells) < len(header):
            reason = f"line {line}: {len(cells)} fields, header has {len(header)}"
            rejected.append(Rejected(MEMBERS_TABLE, f"line {line}", reason, source, record))
            continue
        if len(cells) > len(header):
            warnings.append(
                f"{source}: line {line}: {len(cells) - len(header)} unquoted extra field(s) "
                f"{cells[len(header) :]} after the {len(header)} header columns ignored"
            )
        row = _member_row(record, line, source, seen, rejected, warnings)
        if row is not None:
            rows.append(row)
    return Extracted(pa.Table.from_pylist(rows, schema=MEMBERS_SCHEMA), rejected, warnings)


def _member_row(
    record: dict[str, str],
    line: int,
    source: str,
    seen: dict[str, int],
    rejected: list[Rejected],
    warnings: list[str],
) -> dict[str, Any] | None:
    check = check_ticker(record.get("ticker", ""))
    if check.ticker is None or not record.get("name"):
        reason = check.reason if check.ticker is None else "name is empty"
        key = check.ticker or record.get("ticker") or f"line {line}"
        rejected.append(Rejected(MEMBERS_TABLE, key, f"line {line}: {reason}", source, record))
        return None
    if check.note:
        warnings.append(f"{source}: line {line}: {check.note}")
    if check.ticker in seen:
        reason = f"line {line}: duplicate of ticker {check.ticker} (line {seen[check.ticker]})"
        rejected.append(Rejected(MEMBERS_TABLE, check.ticker, reason, source, record))
        return None
    seen[check.ticker] = line
    try:
        cik = normalize_cik(record.get("cik", ""))
    except ValueError as exc:
        cik = None
        warnings.append(f"{source}: line {line}: {check.ticker}: CIK stored as null: {exc}")
    added, _note = parse_date_added(record.get("date_added", ""))
    return {
        "ticker": check.ticker,
        "name": record["name"],
        "cik": cik,
        "sector": record.get("sector") or None,
        "sub_industry": record.get("sub_industry") or None,
        "date_added": added,
    }


def read_member_file(path: Path) -> MemberList:
    """A dated CSV list; the date is the first ``YYYY-MM-DD`` or ``YYYYMMDD`` of its name."""
    found = _DATED_NAME.search(path.name)
    try:
        as_of = date(int(found[1]), int(found[2]), int(found[3])) if found else None
    except ValueError:
        as_of = None
    if as_of is None:
        raise InputError("the file name carries no YYYY-MM-DD date", source=str(path))
    return MemberList(as_of, path.name, read_member_csv(files.read_bytes(path), path.name))


def page_members(page: ParsedPage, as_of: date) -> MemberList:
    """The member list of a parsed page (its companies table)."""
    table = page.companies.table.select(MEMBERS_SCHEMA.names).cast(MEMBERS_SCHEMA)
    label = f"wikipedia revision {page.revision}" if page.revision else page.source
    return MemberList(as_of, label, Extracted(table))


def write_member_csv(members: pa.Table) -> bytes:
    """A member list as a gzip CSV in the full layout's headers (for the bundled snapshot)."""
    out = io.StringIO(newline="")
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(["Symbol", "Security", "GICS Sector", "GICS Sub-Industry", "Date added", "CIK"])
    for row in members.to_pylist():
        added = row["date_added"].isoformat() if row["date_added"] else ""
        writer.writerow(
            [
                row["ticker"],
                row["name"],
                row["sector"] or "",
                row["sub_industry"] or "",
                added,
                row["cik"] or "",
            ]
        )
    return gzip.compress(out.getvalue().encode(), mtime=0)


@dataclass(frozen=True)
class ReferenceSpans:
    """An independent membership record: ``ticker,start_date,end_date`` spans (fja05680).

    The service uses it as a seed for one thing only: the day of a change that happened
    between two member lists and that the changes table does not record (a ticker change,
    or a missing addition or removal); which members there were always comes from the
    lists and the changes table. Every span dated this way says so.
    """

    spans: tuple[tuple[str, date, date | None], ...]

    @classmethod
    def read(cls, path: Path) -> ReferenceSpans:
        reader = csv.DictReader(files.csv_text(files.read_text(path)))
        rows = []
        with files.csv_errors(reader, str(path)):
            rows_read = list(reader)
        for line, row in enumerate(rows_read, 2):
            try:
                start = date.fromisoformat(row["start_date"])
                end = date.fromisoformat(row["end_date"]) if row["end_date"] else None
                rows.append((canonical_ticker(row["ticker"]), start, end))
            except (KeyError, ValueError) as exc:
                raise InputError(f"line {line}: unreadable span: {exc}", source=str(path)) from exc
        return cls(tuple(rows))

    def members_on(self, day: date) -> set[str]:
        """The tickers the record lists as members at the end of ``day``."""
        return {t for t, start, end in self.spans if start <= day and (end is None or end > day)}

    def start(self, ticker: str, after: date, until: date) -> date | None:
        """The day a span of ``ticker`` begins within (after, until), if any."""
        days = sorted(s for t, s, _e in self.spans if t == ticker and after < s < until)
        return days[0] if days else None

    def end(self, ticker: str, after: date, until: date) -> date | None:
        """The day a span of ``ticker`` ends within (after, until), if any."""
        days = sorted(e for t, _s, e in self.spans if t == ticker and e and after < e < until)
        return days[0] if days else None


def bundled_member_lists(folder: Path) -> list[MemberList]:
    """Every dated list bundled in ``folder`` (``*.csv`` or ``*.csv.gz``), oldest first."""
    paths = sorted(p for p in folder.iterdir() if p.name.endswith((".csv", ".csv.gz")))
    return sorted((read_member_file(p) for p in paths), key=lambda m: m.as_of)


def archived_member_lists(archive: RawArchive) -> list[MemberList]:
    """The member list of every page revision in the raw archive (each revision once)."""
    lists: dict[str, MemberList] = {}
    for entry in archive.entries(ARCHIVE_SOURCE):
        key = entry.revision or entry.sha256
        if key in lists:
            continue
        page = parse_page(archive.read(entry.path), entry.path)
        as_of = (page.revision_time or entry.fetched_at).date()
        lists[key] = page_members(page, as_of)
    return sorted(lists.values(), key=lambda m: m.as_of)
