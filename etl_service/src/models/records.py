"""What an extraction or transformation returns: the rows kept and the rows rejected."""

from __future__ import annotations

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


@dataclass
class Extracted:
    """Rows conforming to a canonical Arrow schema, plus the rejected rows and warnings."""

    table: pa.Table
    rejected: list[Rejected] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    related: dict[str, pa.Table] = field(default_factory=dict)
    """Tables read from the same documents, by canonical name (the SEC's ``split_events``)."""
