"""Constituent rows (field name -> raw cell text) to the canonical ``companies`` table."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

import pyarrow as pa

from etl_service.src.adapters.wikipedia.normalize import (
    check_ticker,
    clean_text,
    normalize_cik,
    parse_date_added,
    parse_founded,
    split_headquarters,
)
from etl_service.src.models.records import Extracted, Rejected
from etl_service.src.models.schemas import COMPANIES, arrow_schema
from etl_service.src.models.tickers import aliases

RawRecord = tuple[int, Mapping[str, str]]
"""A table row (1-based, as the table counts it) and its raw field values."""


def build_companies(records: Iterable[RawRecord], source: str, revision: str | None) -> Extracted:
    """Normalise constituent records; rows that cannot be kept are rejected with the reason."""
    rows: list[dict[str, Any]] = []
    rejected: list[Rejected] = []
    warnings: list[str] = []
    seen: dict[str, int] = {}
    for line, raw in records:
        where = f"{source}: row {line}"
        record = {k: clean_text(v) for k, v in raw.items()}

        def reject(reason: str, key: str, record: dict[str, str] = record) -> None:
            rejected.append(Rejected(COMPANIES.name, key, reason, source, dict(record)))

        check = check_ticker(raw.get("ticker", ""))
        key = check.ticker or record.get("ticker") or f"row {line}"
        if check.ticker is None:
            reject(f"row {line}: {check.reason}", key)
            continue
        if check.note:
            warnings.append(f"{where}: {check.note}")
        ticker = check.ticker
        missing = [f for f in ("name", "sector", "sub_industry") if not record.get(f)]
        if missing:
            reject(f"row {line}: {ticker} has no {', '.join(missing)}", ticker)
            continue
        if ticker in seen:
            reject(
                f"row {line}: duplicate of ticker {ticker} (first on row {seen[ticker]})",
                ticker,
            )
            continue
        seen[ticker] = line
        try:
            cik = normalize_cik(raw.get("cik", ""))
        except ValueError as exc:
            cik = None
            warnings.append(f"{where}: {ticker}: CIK stored as null: {exc}")
        date_added, date_note = parse_date_added(raw.get("date_added", ""))
        if date_note:
            warnings.append(f"{where}: {ticker}: {date_note}; stored as null")
        year_founded, founded_raw = parse_founded(raw.get("year_founded", ""))
        headquarters = record.get("headquarters") or None
        hq_city, hq_region = split_headquarters(headquarters or "")
        rows.append(
            {
                "ticker": ticker,
                "name": record["name"],
                "cik": cik,
                "sector": record["sector"],
                "sub_industry": record["sub_industry"],
                "headquarters": headquarters,
                "hq_city": hq_city,
                "hq_region": hq_region,
                "date_added": date_added,
                "year_founded": year_founded,
                "founded_raw": founded_raw,
                "aliases": "|".join(aliases(ticker)) or None,
                "source_revision": revision,
            }
        )
    table = pa.Table.from_pylist(rows, schema=arrow_schema(COMPANIES))
    return Extracted(table, rejected, warnings)
