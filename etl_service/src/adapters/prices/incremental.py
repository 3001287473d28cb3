"""Appending new days to a ticker's stored closes instead of fetching its whole history.

A live run asks the vendor only for the days from ``OVERLAP_DAYS`` before the last stored
close. The days both hold must agree: a vendor re-expresses the whole history after a split
or dividend (its closes are adjusted), so a disagreement means the stored history is on an
old basis and the ticker's file is fetched whole again. Agreeing, the stored days before the
fetched ones and the fetched days make the history, all on the basis of the new last day.
"""

from __future__ import annotations

from collections.abc import Callable, Collection
from dataclasses import dataclass
from datetime import date, timedelta

import pyarrow as pa
import pyarrow.compute as pc

OVERLAP_DAYS = 14
"""Calendar days already stored that an appending fetch asks for again (about ten trading
days: enough to see a re-adjusted history, few enough to stay a small download)."""

RELATIVE_TOLERANCE = 1e-9
"""Closes that differ by more than this (relative) are on different bases."""

StoredCloses = Callable[[Collection[str]], pa.Table]
"""The closes the last run stored for some tickers (rows of ``CLOSES_SCHEMA``)."""


def fetch_from(stored: pa.Table) -> date:
    """The first day an appending fetch asks for: ``OVERLAP_DAYS`` before the last stored."""
    last: date = pc.max(stored["date"]).as_py()
    return last - timedelta(days=OVERLAP_DAYS)


@dataclass(frozen=True)
class Appended:
    """The combined history, or why the ticker's file must be fetched whole."""

    table: pa.Table | None
    new_days: int = 0
    refetch_because: str | None = None


def append(stored: pa.Table, fetched: pa.Table) -> Appended:
    """``stored`` followed by the days of ``fetched`` from its first day on, when the days
    both hold agree; otherwise the reason to fetch the whole file."""
    if fetched.num_rows == 0:
        return Appended(None, refetch_because="the vendor sent no days from the overlap on")
    first_fetched: date = pc.min(fetched["date"]).as_py()
    last_stored: date = pc.max(stored["date"]).as_py()
    common = stored.select(["date", "close"]).join(
        fetched.select(["date", "close"]), "date", join_type="inner", right_suffix="_fetched"
    )
    if common.num_rows == 0:
        return Appended(
            None, refetch_because=f"no day in common with the stored history (to {last_stored})"
        )
    stored_close, fetched_close = common["close"], common["close_fetched"]
    bound = pc.multiply(pc.max_element_wise(pc.abs(stored_close), 1.0), RELATIVE_TOLERANCE)
    differs = pc.greater(pc.abs(pc.subtract(stored_close, fetched_close)), bound)
    if pc.any(differs).as_py():
        day = common.filter(differs)["date"][0].as_py()
        return Appended(
            None,
            refetch_because=f"the stored close of {day} differs from the vendor's now "
            "(history re-adjusted)",
        )
    kept = stored.filter(pc.less(stored["date"], pa.scalar(first_fetched, pa.date32())))
    combined = pa.concat_tables([kept, fetched.cast(stored.schema)])
    new_days = int(pc.sum(pc.greater(fetched["date"], last_stored)).as_py() or 0)
    return Appended(_on_new_basis(combined), new_days)


def _on_new_basis(closes: pa.Table) -> pa.Table:
    """Adjusted closes dated by the last day, as a whole file fetched now would be."""
    adjusted = closes["adjusted_as_of"]
    if adjusted.null_count == len(adjusted):
        return closes
    last = pc.max(closes["date"])
    basis = pc.if_else(pc.is_null(adjusted), pa.scalar(None, pa.date32()), last)
    index = closes.schema.get_field_index("adjusted_as_of")
    return closes.set_column(index, closes.schema.field(index), basis)
