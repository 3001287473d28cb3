"""What an extraction or transformation returns: the rows kept and the rows rejected."""

from __future__ import annotations

import math
import reprlib
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import pyarrow as pa


@dataclass(frozen=True)
class Rejected:
    """A row that was not kept, with the reason; it goes to the quarantine table."""

    table: str
    record_key: str
    reason: str
    source: str | None = None
    record: dict[str, Any] = field(default_factory=dict)


_REPR = reprlib.Repr()
_REPR.maxlevel, _REPR.maxstring, _REPR.maxother = 3, 80, 80


def short_repr(value: object) -> str:
    """``repr(value)`` bounded in depth and length, however deep or long the value is."""
    return _REPR.repr(value)


def plain_record(row: Mapping[Any, Any]) -> dict[str, Any]:
    """A source row fit for ``Rejected.record``: text and finite numbers kept, anything else
    (NaN, nested values) as bounded text, since the record is stored as JSON."""
    return {
        str(k): v
        if isinstance(v, str | int) or (isinstance(v, float) and math.isfinite(v))
        else short_repr(v)
        for k, v in row.items()
    }


@dataclass
class Extracted:
    """Rows conforming to a canonical Arrow schema, plus the rejected rows and warnings."""

    table: pa.Table
    rejected: list[Rejected] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    related: dict[str, pa.Table] = field(default_factory=dict)
    """Tables read from the same documents, by canonical name (the SEC's ``split_events``)."""
