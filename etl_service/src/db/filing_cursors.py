"""The incremental state of financials in the database: filing cursors and the last load.

A container that starts empty resumes from here: nothing about incremental runs is kept
in local files.
"""

from __future__ import annotations

import json
from collections.abc import Collection, Sequence

import pyarrow as pa
import pyarrow.compute as pc
import sqlalchemy as sa

from etl_service.src.adapters.sec.incremental import FilingCursor
from etl_service.src.db.loader import connect
from etl_service.src.db.reader import read_tables
from etl_service.src.db.tables import TABLES
from etl_service.src.models.records import Extracted, Rejected
from etl_service.src.models.schemas import QUARTERLY_REPORTS, SPLIT_EVENTS

_CURSORS = TABLES["filing_cursors"]
_QUARANTINE = TABLES["quarantine"]
_BATCH = 500


class DatabaseFilingState:
    """``FilingState`` over the run's database; cursors are written by ``save`` only."""

    def __init__(self, engine: sa.Engine, run_id: str) -> None:
        self.engine = engine
        self.run_id = run_id
        self._staged: list[FilingCursor] | None = None

    def cursors(self) -> dict[str, FilingCursor]:
        with connect(self.engine) as conn:
            rows = conn.execute(sa.select(_CURSORS)).mappings().all()
        return {
            r["cik"]: FilingCursor(r["cik"], r["accession"], r["filed"], r["checked_through"])
            for r in rows
        }

    def previous(self, ciks: Collection[str]) -> Extracted:
        tables = read_tables(self.engine, [QUARTERLY_REPORTS, SPLIT_EVENTS])
        wanted = pa.array(sorted(ciks), pa.string())
        reports, splits = (
            _only(tables[spec.name], wanted, spec.key) for spec in (QUARTERLY_REPORTS, SPLIT_EVENTS)
        )
        return Extracted(reports, self._quarantined(set(ciks)), [], {SPLIT_EVENTS.name: splits})

    def _quarantined(self, ciks: set[str]) -> list[Rejected]:
        """The quarantined financials rows of ``ciks`` (keys ``CIK`` or ``CIK|...``): kept, as
        the run that would reject them again does not fetch these companies."""
        query = sa.select(_QUARANTINE).where(_QUARANTINE.c.table_name == QUARTERLY_REPORTS.name)
        with connect(self.engine) as conn:
            rows = conn.execute(query).mappings().all()
        return [
            Rejected(
                r["table_name"],
                r["record_key"],
                r["reason"],
                r["source"],
                r["record"] if isinstance(r["record"], dict) else json.loads(r["record"] or "{}"),
            )
            for r in rows
            if r["record_key"].split("|", 1)[0] in ciks
        ]

    def stage(self, cursors: Sequence[FilingCursor]) -> None:
        self._staged = list(cursors)

    def save(self) -> None:
        """Replace the staged companies' cursors in one transaction; with none staged, the
        run's financials did not come from SEC's API, so no cursor describes them: all go."""
        if self._staged is None:
            with connect(self.engine) as conn, conn.begin():
                conn.execute(sa.delete(_CURSORS))
            return
        rows = [
            {
                "cik": c.cik,
                "accession": c.accession,
                "filed": c.filed,
                "checked_through": c.checked_through,
                "run_id": self.run_id,
            }
            for c in self._staged
        ]
        with connect(self.engine) as conn, conn.begin():
            for start in range(0, len(rows), _BATCH):
                batch = rows[start : start + _BATCH]
                ciks = [r["cik"] for r in batch]
                conn.execute(sa.delete(_CURSORS).where(_CURSORS.c.cik.in_(ciks)))
                conn.execute(sa.insert(_CURSORS), batch)
        self._staged = None


def _only(table: pa.Table, ciks: pa.Array, order: tuple[str, ...]) -> pa.Table:
    kept = table.filter(pc.is_in(table["cik"], value_set=ciks))
    return kept.sort_by([(name, "ascending") for name in order])
