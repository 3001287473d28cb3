"""One observed (or implied) list of index members, and the name form used to match them."""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date
from typing import Any

import pyarrow as pa

from etl_service.src.models.tickers import canonical_ticker


@dataclass(frozen=True)
class Snapshot:
    """The members listed on one date: canonical ticker -> CIK (and date added when known)."""

    as_of: date
    source: str
    members: Mapping[str, str | None]
    date_added: Mapping[str, date | None] = field(default_factory=dict)
    names: Mapping[str, str] = field(default_factory=dict)
    sectors: Mapping[str, str] = field(default_factory=dict)
    cik_sources: Mapping[str, str] = field(default_factory=dict)
    """Where a CIK the list itself does not show came from (``cik_sightings``)."""

    @classmethod
    def from_table(cls, as_of: date, table: pa.Table, source: str) -> Snapshot:
        """A snapshot of a table with ``ticker`` and ``cik`` (optionally ``date_added``,
        ``name``, ``sector``)."""
        tickers = [canonical_ticker(t) for t in table.column("ticker").to_pylist()]

        def column(name: str) -> list[Any]:
            if name in table.column_names:
                return list(table.column(name).to_pylist())
            return [None] * len(tickers)

        return cls(
            as_of,
            source,
            dict(zip(tickers, column("cik"), strict=True)),
            dict(zip(tickers, column("date_added"), strict=True)),
            {t: n for t, n in zip(tickers, column("name"), strict=True) if n},
            {t: n for t, n in zip(tickers, column("sector"), strict=True) if n},
        )


_NAME_NOISE = re.compile(
    r"\b(the|inc|incorporated|corp|corporation|co|company|ltd|limited|plc|group|holdings?|"
    r"class [a-z]|cl [a-z])\b"
)


def normalized_name(name: str) -> str:
    """A company name reduced for matching: case, punctuation and legal suffixes removed."""
    lowered = re.sub(r"[^a-z0-9 ]", " ", name.lower().replace("&", " and "))
    return " ".join(_NAME_NOISE.sub(" ", lowered).split())
