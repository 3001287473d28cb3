"""Rows of "Selected changes to the list of S&P 500 components" to ``index_changes``."""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from datetime import date
from typing import Any

import pyarrow as pa

from etl_service.src.adapters.wikipedia.constituents import RawRecord
from etl_service.src.adapters.wikipedia.normalize import check_ticker, clean_text, parse_change_date
from etl_service.src.models.records import Extracted, Rejected
from etl_service.src.models.schemas import INDEX_CHANGES, arrow_schema
from etl_service.src.models.tickers import is_ticker

_JOINED_RE = re.compile(r"^[A-Z.]{2,}(?:\s*/\s*[A-Z.]{2,})+$")


def change_key(day: date, added: str | None, removed: str | None) -> str:
    """The natural key of a change: ``YYYY-MM-DD|added|removed``."""
    return f"{day.isoformat()}|{added or ''}|{removed or ''}"


def split_joined_tickers(value: str) -> list[str] | None:
    """``UA/UAA`` (two share classes in one cell) as ``[UA, UAA]``; None for anything else.

    Only parts of two or more letters count, so ``BRK/B`` stays a class suffix.
    """
    text = clean_text(value)
    if not _JOINED_RE.match(text):
        return None
    parts = [p.strip() for p in text.split("/")]
    return parts if all(is_ticker(p) for p in parts) else None


def _side(
    raw: Mapping[str, str], prefix: str, line: int
) -> tuple[list[str | None], str | None, str | None, str | None]:
    """Tickers of one side (one None when empty), its name, a note, or a rejection reason."""
    value = clean_text(raw.get(f"{prefix}_ticker", ""))
    name = clean_text(raw.get(f"{prefix}_name", "")) or None
    if not value:
        note = f"row {line}: {prefix} name {name!r} has no ticker" if name else None
        return [None], name, note, None
    if joined := split_joined_tickers(value):
        return list(joined), name, f"row {line}: {prefix} {value!r} split into {joined}", None
    check = check_ticker(value)
    if check.ticker is None:
        return [], name, None, f"row {line}: {prefix} {check.reason}"
    note = f"row {line}: {check.note}" if check.note else None
    return [check.ticker], name, note, None


def build_changes(records: Iterable[RawRecord], source: str) -> Extracted:
    """Normalise change records.

    A cell naming two share classes (``UA/UAA``) becomes one row per ticker; the other side of
    the change stays on the first of them only, so every addition and removal is counted once.
    """
    rows: list[dict[str, Any]] = []
    rejected: list[Rejected] = []
    warnings: list[str] = []
    seen: dict[str, int] = {}
    for line, raw in records:
        record = {k: clean_text(v) for k, v in raw.items()}
        fallback_key = f"row {line}"
        try:
            day = parse_change_date(raw.get("date", ""))
        except ValueError as exc:
            rejected.append(
                Rejected(INDEX_CHANGES.name, fallback_key, f"row {line}: {exc}", source, record)
            )
            continue
        added, added_name, added_note, added_bad = _side(raw, "added", line)
        removed, removed_name, removed_note, removed_bad = _side(raw, "removed", line)
        if added_bad or removed_bad:
            reason = "; ".join(r for r in (added_bad, removed_bad) if r)
            rejected.append(
                Rejected(INDEX_CHANGES.name, f"{day}|{fallback_key}", reason, source, record)
            )
            continue
        warnings.extend(f"{source}: {n}" for n in (added_note, removed_note) if n)
        if added == [None] and removed == [None] and not (added_name or removed_name):
            rejected.append(
                Rejected(
                    INDEX_CHANGES.name,
                    f"{day}|{fallback_key}",
                    f"row {line}: neither an addition nor a removal",
                    source,
                    record,
                )
            )
            continue
        reason_text = record.get("reason") or None
        pairs = _pair_sides(added, removed)
        for (add_ticker, with_add_name), (rem_ticker, with_rem_name) in pairs:
            key = change_key(day, add_ticker, rem_ticker)
            if key in seen:
                rejected.append(
                    Rejected(
                        INDEX_CHANGES.name,
                        key,
                        f"row {line}: duplicate of the change on row {seen[key]}",
                        source,
                        record,
                    )
                )
                continue
            seen[key] = line
            rows.append(
                {
                    "change_key": key,
                    "change_date": day,
                    "added_ticker": add_ticker,
                    "added_name": added_name if with_add_name else None,
                    "removed_ticker": rem_ticker,
                    "removed_name": removed_name if with_rem_name else None,
                    "reason": reason_text,
                }
            )
    table = pa.Table.from_pylist(rows, schema=arrow_schema(INDEX_CHANGES))
    return Extracted(table, rejected, warnings)


Side = tuple[str | None, bool]


def _pair_sides(added: list[str | None], removed: list[str | None]) -> list[tuple[Side, Side]]:
    """Rows of one change: the longer side's tickers, the other side on the first row only."""
    count = max(len(added), len(removed))
    pairs: list[tuple[Side, Side]] = []
    for i in range(count):
        add: Side = (added[i], True) if i < len(added) else (None, False)
        rem: Side = (removed[i], True) if i < len(removed) else (None, False)
        pairs.append((add, rem))
    return pairs
