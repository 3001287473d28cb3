"""Companies that left the index and are not members today, from the membership history.

One row per exit: a span that ends without the company going on under another ticker
(a ticker change starts a span of the same CIK on the day the old one ends) and whose CIK
is not a current member's. Name, sector and sub-industry come from the latest member list
that named the ticker while it was a member, else the name from the changes table's
removal; what no source gives stays null, and ``attributes_source`` says why.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from typing import Any

import pyarrow as pa

from etl_service.src.adapters.member_lists import MemberList
from etl_service.src.models.records import Extracted
from etl_service.src.models.schemas import FORMER_MEMBERS, arrow_schema
from etl_service.src.models.tickers import canonical_ticker
from etl_service.src.transforms.membership import cik_of_span

UNKNOWN_CIK = "unknown: no list or page with a CIK lists this ticker, and no resolver found one"


@dataclass(frozen=True)
class _Seen:
    as_of: date
    source: str
    name: str | None
    sector: str | None
    sub_industry: str | None


def _observations(history: Sequence[MemberList]) -> dict[str, list[_Seen]]:
    seen: dict[str, list[_Seen]] = defaultdict(list)
    for listed in history:
        columns = ("ticker", "name", "sector", "sub_industry")
        for row in listed.members.table.select(list(columns)).to_pylist():
            seen[row["ticker"]].append(
                _Seen(listed.as_of, listed.source, row["name"], row["sector"], row["sub_industry"])
            )
    for rows in seen.values():
        rows.sort(key=lambda s: s.as_of)
    return seen


def _removal_names(changes: pa.Table) -> dict[tuple[str, date], str]:
    rows = changes.select(["change_date", "removed_ticker", "removed_name"]).to_pylist()
    return {
        (canonical_ticker(r["removed_ticker"]), r["change_date"]): r["removed_name"]
        for r in rows
        if r["removed_ticker"] and r["removed_name"]
    }


def build_former_members(
    membership: pa.Table,
    companies: pa.Table,
    history: Sequence[MemberList],
    changes: pa.Table,
    known_ciks: pa.Table | None = None,
) -> Extracted:
    """``FORMER_MEMBERS`` rows from the spans of ``membership``.

    Args:
        membership: ``index_membership`` spans.
        companies: today's constituents (their CIKs are not former members).
        history: the member lists the spans were built from (names and sectors).
        changes: the changes table (names of removed companies).
        known_ciks: CIKs found elsewhere (``ticker, removed, cik, method``): a row counts for
            the exit of the same ticker within ``CIK_MATCH_DAYS`` of its removal day.
    """
    resolved = _resolved(known_ciks)
    spans = membership.to_pylist()
    current = {c for c in companies.column("cik").to_pylist() if c}
    starts = {(s["cik"], s["valid_from"]) for s in spans if s["cik"]}
    starts |= {(s["ticker"], s["valid_from"]) for s in spans}
    seen = _observations(history)
    removal_names = _removal_names(changes)
    rows: list[dict[str, Any]] = []
    warnings: list[str] = []
    for span in spans:
        ticker, cik, removed = span["ticker"], span["cik"], span["valid_to"]
        if removed is None or cik in current:
            continue
        if (cik, removed) in starts or (ticker, removed) in starts:
            continue  # a ticker change, or the same ticker going on: not an exit
        cik_method: str | None
        if cik:
            how = cik_of_span(span["derivation"] or "")
            cik_method = how or "observed with this ticker in a member list"
        else:
            cik, cik_method = _nearest_cik(resolved.get(ticker, []), removed)
        rows.append(
            {
                "ticker": ticker,
                "removed": removed,
                "cik": cik,
                "cik_method": cik_method or UNKNOWN_CIK,
                "first_added": span["valid_from"],
                **_attributes(ticker, span["valid_from"], removed, seen, removal_names),
            }
        )
    unnamed = sum(1 for r in rows if r["sector"] is None)
    if unnamed:
        warnings.append(
            f"former members: {unnamed} of {len(rows)} have no known sector "
            "(no member list names them); they are not in the sector aggregates"
        )
    rows.sort(key=lambda r: (r["ticker"], r["removed"]))
    return Extracted(pa.Table.from_pylist(rows, schema=arrow_schema(FORMER_MEMBERS)), [], warnings)


CIK_MATCH_DAYS = 31
"""How far a mapping's removal day may lie from the history's for the same exit."""


def _resolved(known: pa.Table | None) -> dict[str, list[tuple[date, str, str]]]:
    out: dict[str, list[tuple[date, str, str]]] = defaultdict(list)
    if known is None:
        return out
    for row in known.select(["ticker", "removed", "cik", "method"]).to_pylist():
        if row["cik"]:
            out[canonical_ticker(row["ticker"])].append((row["removed"], row["cik"], row["method"]))
    return out


def _nearest_cik(
    candidates: list[tuple[date, str, str]], removed: date
) -> tuple[str | None, str | None]:
    near = [(abs((day - removed).days), cik, method) for day, cik, method in candidates]
    near = [c for c in near if c[0] <= CIK_MATCH_DAYS]
    if not near:
        return None, None
    _gap, cik, method = min(near)
    return cik, f"former-member CIK mapping: {method}"


def _attributes(
    ticker: str,
    start: date,
    end: date,
    seen: Mapping[str, list[_Seen]],
    removal_names: Mapping[tuple[str, date], str],
) -> dict[str, Any]:
    during = [s for s in seen.get(ticker, []) if start <= s.as_of <= end]
    named = [s for s in during if s.name]
    with_sector = [s for s in during if s.sector]
    name = named[-1].name if named else removal_names.get((ticker, end))
    sector = with_sector[-1] if with_sector else None
    if named:
        source = f"name from {named[-1].source} ({named[-1].as_of})"
    elif name:
        source = f"name from the changes table's removal on {end}"
    else:
        source = "name unknown: no member list or removal names it"
    if sector is not None:
        source += f"; sector from {sector.source} ({sector.as_of})"
    else:
        source += "; sector unknown: no member list with a sector lists it while a member"
    return {
        "name": name,
        "sector": sector.sector if sector else None,
        "sub_industry": sector.sub_industry if sector else None,
        "attributes_source": source,
    }


def with_former_ciks(membership: pa.Table, former: pa.Table) -> pa.Table:
    """``membership`` with the CIK of a former member's last span filled from ``former``."""
    found = {
        (r["ticker"], r["removed"]): r["cik"]
        for r in former.select(["ticker", "removed", "cik"]).to_pylist()
        if r["cik"]
    }
    rows = membership.to_pylist()
    for row in rows:
        if row["cik"] is None and (row["ticker"], row["valid_to"]) in found:
            row["cik"] = found[(row["ticker"], row["valid_to"])]
            row["derivation"] += "; CIK from the former-member CIK mapping"
    return pa.Table.from_pylist(rows, schema=membership.schema)
