"""Sector aggregates over the members on each quarter's last day, former members included,
computed after the quality gates, with a count beside every average."""

from __future__ import annotations

from datetime import date
from typing import Any

import pyarrow as pa
import pytest

from etl_service.engines.duckdb import DuckDbSession
from etl_service.src.models.schemas import (
    COMPANIES,
    FORMER_MEMBERS,
    INDEX_MEMBERSHIP,
    PRICES_PE,
    QUARTERLY_REPORTS,
    arrow_schema,
)
from etl_service.src.transforms.curate import aggregate
from etl_service.tests.support.builders import quarterly_reports

pytestmark = pytest.mark.unit

NOW, GONE = "0000000001", "0000000002"


def _table(schema: pa.Schema, rows: list[dict[str, object]]) -> pa.Table:
    return pa.Table.from_pylist(
        [{name: row.get(name) for name in schema.names} for row in rows], schema=schema
    )


def _aggregates(former_sector: str | None) -> dict[str, dict[str, Any]]:
    session = DuckDbSession()
    reports = quarterly_reports([1_000, 3_000])
    reports = reports.set_column(
        reports.schema.get_field_index("cik"), "cik", pa.array([NOW, GONE])
    ).set_column(
        reports.schema.get_field_index("period_end"),
        "period_end",
        pa.array([date(2015, 6, 30)] * 2, pa.date32()),
    )
    session.register("quarterly_reports", reports.cast(arrow_schema(QUARTERLY_REPORTS)))
    session.register(
        "companies",
        _table(
            arrow_schema(COMPANIES),
            [
                {
                    "ticker": "NOW",
                    "name": "Now Co",
                    "cik": NOW,
                    "sector": "Energy",
                    "sub_industry": "Oil",
                }
            ],
        ),
    )
    session.register(
        "former_members",
        _table(
            arrow_schema(FORMER_MEMBERS),
            [{"ticker": "GONE", "removed": date(2016, 1, 4), "cik": GONE, "sector": former_sector}],
        ),
    )
    spans = [
        {"ticker": "NOW", "cik": NOW, "valid_from": date(2000, 1, 3), "derivation": "test"},
        {
            "ticker": "GONE",
            "cik": GONE,
            "valid_from": date(2001, 1, 2),
            "valid_to": date(2016, 1, 4),
            "derivation": "test",
        },
    ]
    session.register("index_membership", _table(arrow_schema(INDEX_MEMBERSHIP), spans))
    session.register("prices_pe", _table(arrow_schema(PRICES_PE), []))
    closes = pa.table(
        {
            "ticker": pa.array([], pa.string()),
            "period_end": pa.array([], pa.date32()),
            "price_date": pa.array([], pa.date32()),
            "closing_price": pa.array([], pa.float64()),
            "price_source": pa.array([], pa.string()),
            "note": pa.array([], pa.string()),
        }
    )
    session.register("calendar_closes", closes)
    rows = aggregate(session).to_pylist()
    session.close()
    return {row["name"]: row for row in rows if row["level"] == "sector"}


def test_a_former_member_counts_in_the_quarters_it_was_a_member() -> None:
    energy = _aggregates("Energy")["Energy"]
    assert (energy["n_companies"], energy["n_revenue"], energy["avg_revenue"]) == (2, 2, 2_000.0)
    assert (energy["n_pe"], energy["avg_pe"]) == (0, None)


def test_the_median_interpolates_and_ignores_nulls() -> None:
    energy = _aggregates("Energy")["Energy"]
    # Between the two revenues, as DuckDB's and Spark's MEDIAN both interpolate.
    assert energy["median_revenue"] == 2_000.0
    assert energy["median_pe"] is None


def test_a_former_member_without_a_known_sector_is_not_averaged() -> None:
    energy = _aggregates(None)["Energy"]
    assert (energy["n_companies"], energy["avg_revenue"]) == (1, 1_000.0)
