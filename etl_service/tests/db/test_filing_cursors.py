"""Filing cursors and the previous load's financials, on SQLite and PostgreSQL alike."""

from __future__ import annotations

from datetime import date

import sqlalchemy as sa

from etl_service.src.adapters.sec.incremental import FilingCursor
from etl_service.src.db.filing_cursors import DatabaseFilingState
from etl_service.src.db.tables import TABLES


def _report(cik: str, end: date, revenue: int) -> dict[str, object]:
    return {
        "cik": cik,
        "fiscal_year": end.year,
        "fiscal_quarter": 1,
        "period_start": date(end.year, 1, 1),
        "period_end": end,
        "revenue": revenue,
        "derived": False,
    }


def test_cursors_are_replaced_per_company_and_kept_for_the_others(engine: sa.Engine) -> None:
    day = date(2024, 11, 8)
    first = DatabaseFilingState(engine, "run1")
    first.stage([FilingCursor(f"{c:010d}", None, None, day) for c in range(1, 601)])
    first.save()
    second = DatabaseFilingState(engine, "run2")
    second.stage([FilingCursor("0000000002", "0000000002-24-000001", day, date(2024, 11, 11))])
    second.save()
    cursors = second.cursors()
    assert len(cursors) == 600
    assert cursors["0000000002"] == FilingCursor(
        "0000000002", "0000000002-24-000001", day, date(2024, 11, 11)
    )
    assert cursors["0000000001"] == FilingCursor("0000000001", None, None, day)
    with engine.connect() as conn:
        runs: list[str] = list(
            conn.execute(sa.text("SELECT DISTINCT run_id FROM filing_cursors")).scalars()
        )
        assert sorted(runs) == ["run1", "run2"]


def test_previous_reads_back_the_kept_companies_reports_and_quarantine(
    engine: sa.Engine,
) -> None:
    with engine.begin() as conn:
        conn.execute(
            sa.insert(TABLES["quarterly_reports"]),
            [
                _report("0000000001", date(2024, 6, 30), 20),
                _report("0000000001", date(2024, 3, 31), 10),
                _report("0000000002", date(2024, 3, 31), 99),
            ],
        )
        conn.execute(
            sa.insert(TABLES["quarantine"]),
            [
                {
                    "table_name": "quarterly_reports",
                    "record_key": "0000000001|2023-12-31",
                    "reason": "duplicate period",
                    "first_run_id": "run0",
                    "source": "CIK0000000001.json",
                    "record": {"cik": "0000000001", "period_end": "2023-12-31"},
                }
            ],
        )
    previous = DatabaseFilingState(engine, "run1").previous({"0000000001"})
    rows = previous.table.to_pylist()
    assert [(r["cik"], r["period_end"], r["revenue"]) for r in rows] == [
        ("0000000001", date(2024, 3, 31), 10),
        ("0000000001", date(2024, 6, 30), 20),
    ]
    [rejected] = previous.rejected
    assert (rejected.record_key, rejected.reason) == ("0000000001|2023-12-31", "duplicate period")
    assert rejected.record == {"cik": "0000000001", "period_end": "2023-12-31"}
    assert previous.related["split_events"].num_rows == 0
