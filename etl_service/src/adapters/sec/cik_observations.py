"""Local evidence of CIKs: who carried which name, ticker and CIK, and when.

Three kinds of observation, all offline:

- ``member``: a constituents table (Wikipedia page or a CSV scraped from it) listed the ticker,
  name and CIK of an index member. Consecutive snapshots with the same ticker, CIK and name
  are folded into one span (``seen_from`` … ``seen_to``), which is what the bundled
  ``constituent_ciks.csv.gz`` holds (``collect_member_spans`` rebuilds it from the raw files).
- ``listing``: SEC's ``company_tickers.json`` mapped the ticker to the CIK and title that day.
- ``filer``: the CIK filed under that name that day (SEC Financial Statement Data Sets
  ``sub.txt``); ``former-name``: the CIK used that name from ``seen_from`` until some day
  before ``seen_to`` (``sub.txt`` gives each filer's most recent former name and, in
  ``changed``, the day that name was first used; not the day it was dropped, as
  ``SBC COMMUNICATIONS INC``/``19950501`` for AT&T Inc. shows).
- ``instance``: the CIK filed an XBRL instance named ``<prefix>-<period>.xml`` that day. The
  prefix is by convention the filer's ticker as of the filing (``wlp-20090630.xml``, CIK
  1156039), so it dates a ticker before any CIK-bearing member list; the convention is not a
  rule (``eme`` for Edison Mission Energy, which had no ticker), so a user of these checks
  the name too.
"""

from __future__ import annotations

import csv
import gzip
import io
import re
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, replace
from datetime import date, datetime
from enum import StrEnum
from pathlib import Path

from etl_service.errors import InputError, SchemaError
from etl_service.src.adapters.files import read_json, read_text
from etl_service.src.adapters.wikipedia import parse_page, read_page_file
from etl_service.src.adapters.wikipedia.normalize import check_ticker, normalize_cik
from etl_service.src.models.tickers import canonical_ticker


class ObservationKind(StrEnum):
    """What an observation says about its CIK."""

    MEMBER = "member"
    LISTING = "listing"
    FILER = "filer"
    FORMER_NAME = "former-name"
    INSTANCE = "instance"


@dataclass(frozen=True)
class CikObservation:
    """A CIK seen with a name (and a ticker, where the source has one) from one date to another.

    ``source_from``/``source_to`` name the snapshots of the first and last sighting.
    """

    kind: ObservationKind
    cik: str
    name: str
    ticker: str | None
    seen_from: date
    seen_to: date
    source_from: str
    source_to: str


MEMBER_SPAN_COLUMNS = ("ticker", "name", "cik", "seen_from", "seen_to", "source_from", "source_to")
FJA_SP500_DATE = date(2025, 11, 16)
"""Date of ``fja05680/sp500`` ``sp500.csv`` (commit 58490ec; the file name carries no date)."""
COMPANY_TICKERS_DATE = date(2024, 5, 14)
"""Date of the bundled ``company_tickers.json`` (last changed in edgartools commit 10d4826e)."""

_FILE_DATE_RE = re.compile(r"_(\d{4}-\d{2}-\d{2}|\d{8})(?:_|\.)")


def _csv_rows(path: Path, required: Sequence[str]) -> Iterator[tuple[int, dict[str, str]]]:
    reader = csv.DictReader(io.StringIO(read_text(path), newline=""))
    missing = [c for c in required if c not in (reader.fieldnames or [])]
    if missing:
        raise SchemaError(f"missing columns {missing}; found {reader.fieldnames}", source=str(path))
    yield from enumerate(reader, start=2)


def _date(value: str, path: Path, line: int, field: str) -> date:
    try:
        return date.fromisoformat(value)
    except ValueError as exc:
        raise InputError(
            "not an ISO date", source=str(path), line=line, field=field, value=value
        ) from exc


def _cik(value: str, path: Path, line: int) -> str | None:
    try:
        return normalize_cik(value)
    except ValueError as exc:
        raise InputError(str(exc), source=str(path), line=line, field="cik", value=value) from exc


# --- member spans -------------------------------------------------------------------------


@dataclass(frozen=True)
class _Snapshot:
    seen: date
    source: str
    rows: list[tuple[str, str, str]]  # ticker, name, cik


def _page_snapshot(path: Path) -> _Snapshot:
    page = parse_page(read_page_file(path), str(path))
    if page.revision_time is None:
        raise InputError("page has no revision time", source=str(path))
    rows = [
        (r["ticker"], r["name"], r["cik"])
        for r in page.companies.table.to_pylist()
        if r["cik"] is not None
    ]
    return _Snapshot(page.revision_time.date(), f"wikipedia rev {page.revision}", rows)


def _csv_snapshot(path: Path, seen: date, source: str) -> _Snapshot:
    rows: list[tuple[str, str, str]] = []
    reader = csv.DictReader(io.StringIO(read_text(path), newline=""))
    fields = reader.fieldnames or []
    name_field = next((f for f in ("Security", "Company", "Name") if f in fields), None)
    if "Symbol" not in fields or "CIK" not in fields or name_field is None:
        raise SchemaError(f"need Symbol, Security and CIK; found {fields}", source=str(path))
    for line, row in enumerate(reader, start=2):
        ticker = check_ticker(row["Symbol"]).ticker
        cik = _cik(row["CIK"], path, line)
        if ticker and cik and row[name_field].strip():
            rows.append((ticker, row[name_field].strip(), cik))
    return _Snapshot(seen, source, rows)


def constituents_csv_date(path: Path) -> date:
    """The scrape date in a file name: ``…_2023-04-13_6517cdb.csv`` or ``…_20221108.csv``."""
    match = _FILE_DATE_RE.search(path.name)
    if not match:
        raise InputError("no date in the file name", source=str(path))
    return datetime.strptime(match[1].replace("-", ""), "%Y%m%d").date()


def _member_spans(snapshots: Iterable[_Snapshot]) -> list[CikObservation]:
    """Fold snapshots into spans of consecutive sightings of one (ticker, name, CIK)."""
    open_spans: dict[str, CikObservation] = {}
    spans: list[CikObservation] = []
    for snapshot in sorted(snapshots, key=lambda s: (s.seen, s.source)):
        still_open: dict[str, CikObservation] = {}
        for ticker, name, cik in snapshot.rows:
            if ticker in still_open:
                continue
            current = open_spans.pop(ticker, None)
            if current is not None and (current.name, current.cik) == (name, cik):
                still_open[ticker] = replace(
                    current, seen_to=snapshot.seen, source_to=snapshot.source
                )
                continue
            if current is not None:
                spans.append(current)
            still_open[ticker] = CikObservation(
                ObservationKind.MEMBER,
                cik,
                name,
                ticker,
                snapshot.seen,
                snapshot.seen,
                snapshot.source,
                snapshot.source,
            )
        spans.extend(open_spans.values())  # not in this snapshot: the span ends
        open_spans = still_open
    spans.extend(open_spans.values())
    return sorted(spans, key=lambda s: (s.ticker or "", s.seen_from, s.cik))


def collect_member_spans(
    shared_data: Path, wikipedia_pages: Sequence[Path]
) -> list[CikObservation]:
    """Member spans from raw files: Wikipedia pages and the constituents CSVs that carry a CIK.

    Args:
        shared_data: the folder of the shared recorded data (``constituents/…`` below it).
        wikipedia_pages: saved pages, plain or gzipped (constituents tables with a CIK column).
    """
    snapshots = [_page_snapshot(p) for p in wikipedia_pages]
    folder = shared_data / "constituents"
    for path in sorted((folder / "datasets_s-and-p-500-companies").glob("constituents_*.csv")):
        header = read_text(path).partition("\n")[0]
        if "CIK" in header.split(","):  # the 3-column files before 2023 have none
            commit = path.stem.rsplit("_", 1)[-1]
            source = f"datasets/s-and-p-500-companies constituents.csv @ {commit}"
            snapshots.append(_csv_snapshot(path, constituents_csv_date(path), source))
    for path in sorted((folder / "riazarbi_sp500-scraper").glob("wikipedia_sp500_*.csv")):
        source = f"riazarbi/sp500-scraper wikipedia/sp500/csv/{path.name.rsplit('_', 1)[-1]}"
        snapshots.append(_csv_snapshot(path, constituents_csv_date(path), source))
    fja = folder / "fja05680_sp500" / "sp500.csv"
    snapshots.append(_csv_snapshot(fja, FJA_SP500_DATE, "fja05680/sp500 sp500.csv @ 58490ec"))
    return _member_spans(snapshots)


def write_member_spans(spans: Iterable[CikObservation], path: Path) -> None:
    """Write member spans as CSV (gzipped when ``path`` ends in ``.gz``, reproducibly)."""
    out = io.StringIO(newline="")
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(MEMBER_SPAN_COLUMNS)
    for s in spans:
        writer.writerow(
            (s.ticker, s.name, s.cik, s.seen_from, s.seen_to, s.source_from, s.source_to)
        )
    data = out.getvalue().encode()
    if path.suffix == ".gz":
        data = gzip.compress(data, compresslevel=9, mtime=0)
    path.write_bytes(data)


def read_member_spans(path: Path) -> list[CikObservation]:
    """Member spans as written by ``write_member_spans``."""
    spans: list[CikObservation] = []
    for line, row in _csv_rows(path, MEMBER_SPAN_COLUMNS):
        cik = _cik(row["cik"], path, line)
        if cik is None:
            raise InputError("empty CIK", source=str(path), line=line, field="cik")
        spans.append(
            CikObservation(
                ObservationKind.MEMBER,
                cik,
                row["name"],
                row["ticker"],
                _date(row["seen_from"], path, line, "seen_from"),
                _date(row["seen_to"], path, line, "seen_to"),
                row["source_from"],
                row["source_to"],
            )
        )
    return spans


# --- SEC files ----------------------------------------------------------------------------


def read_company_tickers(path: Path, seen: date = COMPANY_TICKERS_DATE) -> list[CikObservation]:
    """SEC ``company_tickers.json`` (plain or gzipped) as listings; tickers in index form."""
    try:
        entries = read_json(path)
        rows = [(str(e["ticker"]), str(e["title"]), str(e["cik_str"])) for e in entries.values()]
    except (ValueError, KeyError, TypeError, AttributeError) as exc:
        raise InputError(f"not a company_tickers.json file: {exc!r}", source=str(path)) from exc
    source = f"sec company_tickers.json ({seen.isoformat()})"
    out: list[CikObservation] = []
    for ticker, title, raw_cik in rows:
        cik = _cik(raw_cik, path, 0)
        if cik:
            out.append(
                CikObservation(
                    ObservationKind.LISTING,
                    cik,
                    title,
                    canonical_ticker(ticker),
                    seen,
                    seen,
                    source,
                    source,
                )
            )
    return out


def read_fsds_filers(path: Path, label: str) -> list[CikObservation]:
    """Names under which CIKs filed, from a Financial Statement Data Sets ``sub.txt``.

    Each (CIK, name) is kept once, dated by its latest filing; a submission's ``former`` name
    becomes a ``former-name`` observation from ``changed`` to the latest such filing.
    """
    latest: dict[tuple[str, str], date] = {}
    former: dict[tuple[str, str], tuple[date, date]] = {}
    reader = csv.DictReader(io.StringIO(read_text(path), newline=""), delimiter="\t")
    if not {"cik", "name", "filed", "former", "changed"} <= set(reader.fieldnames or []):
        raise SchemaError(f"not a sub.txt file; found {reader.fieldnames}", source=str(path))
    for line, row in enumerate(reader, start=2):
        cik = _cik(row["cik"], path, line)
        if cik is None:
            continue
        filed = _yyyymmdd(row["filed"], path, line, "filed")
        key = (cik, row["name"].strip())
        latest[key] = max(filed, latest.get(key, filed))
        if row["former"].strip() and row["changed"].strip():
            since = _yyyymmdd(row["changed"], path, line, "changed")
            old_key = (cik, row["former"].strip())
            until = max(filed, former.get(old_key, (since, filed))[1])
            former[old_key] = (since, until)
    out = [
        CikObservation(ObservationKind.FILER, cik, name, None, day, day, label, label)
        for (cik, name), day in sorted(latest.items())
    ]
    out.extend(
        CikObservation(ObservationKind.FORMER_NAME, cik, name, None, since, until, label, label)
        for (cik, name), (since, until) in sorted(former.items())
        if (cik, name) not in latest
    )
    return out


_INSTANCE_PREFIX_RE = re.compile(r"^([a-z]{1,5})-\d{8}\.xml$")


def read_fsds_instances(path: Path, label: str) -> list[CikObservation]:
    """Ticker-like XBRL instance prefixes per CIK from a ``sub.txt``, one per (CIK, prefix),
    dated by the earliest and latest filing that used it."""
    seen: dict[tuple[str, str], tuple[str, date, date]] = {}
    reader = csv.DictReader(io.StringIO(read_text(path), newline=""), delimiter="\t")
    if not {"cik", "name", "filed", "instance"} <= set(reader.fieldnames or []):
        raise SchemaError(f"not a sub.txt file; found {reader.fieldnames}", source=str(path))
    for line, row in enumerate(reader, start=2):
        cik = _cik(row["cik"], path, line)
        match = _INSTANCE_PREFIX_RE.match(row["instance"].strip().lower())
        if cik is None or match is None:
            continue
        filed = _yyyymmdd(row["filed"], path, line, "filed")
        key = (cik, match.group(1).upper())
        name, first, last = seen.get(key, (row["name"].strip(), filed, filed))
        seen[key] = (name, min(first, filed), max(last, filed))
    return [
        CikObservation(ObservationKind.INSTANCE, cik, name, ticker, first, last, label, label)
        for (cik, ticker), (name, first, last) in sorted(seen.items())
    ]


def _yyyymmdd(value: str, path: Path, line: int, field: str) -> date:
    try:
        return datetime.strptime(value.strip(), "%Y%m%d").date()
    except ValueError as exc:
        raise InputError(
            "not a YYYYMMDD date", source=str(path), line=line, field=field, value=value
        ) from exc
