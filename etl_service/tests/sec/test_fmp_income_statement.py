"""FMP income statements (v3 and stable field names) mapped to QUARTERLY_REPORTS."""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path

import httpx
import pytest
from pydantic import SecretStr

from etl_service.errors import SchemaError
from etl_service.settings import Settings
from etl_service.src.adapters.fmp.client import FmpClient
from etl_service.src.adapters.fmp.income_statement import (
    fetch_income_statement,
    map_income_statement,
)
from etl_service.src.adapters.http import HttpFetcher
from etl_service.src.models.schemas import QUARTERLY_REPORTS, arrow_schema
from etl_service.tests.support.replay_server import Reply, replay_server

pytestmark = pytest.mark.unit

FIXTURES = Path(__file__).parents[1] / "fixtures" / "sec" / "fmp"
V3 = FIXTURES / "AAPL_income-statement_annual_v3_2023-09-26.json"
STABLE = FIXTURES / "AAPL_income-statement_annual_stable_2025-09-23.json"


def test_v3_annual_statements() -> None:
    result = map_income_statement(json.loads(V3.read_bytes()), "annual", "v3")
    assert result.table.schema == arrow_schema(QUARTERLY_REPORTS)
    assert result.rejected == []
    rows = result.table.to_pylist()
    assert len(rows) == 12
    assert [r["period_end"] for r in rows] == sorted(r["period_end"] for r in rows)
    fy2022 = rows[-1]
    assert fy2022 == {
        "cik": "0000320193",
        "fiscal_year": 2022,
        "fiscal_quarter": 0,
        "period_start": date(2021, 9, 26),
        "period_end": date(2022, 9, 24),
        "revenue": 394_328_000_000,  # = SEC companyfacts FY2022 revenue
        "net_income": 99_803_000_000,
        "eps_basic": 6.15,
        "eps_diluted": 6.11,
        "eps_diluted_ytd": 6.11,  # an annual statement spans the fiscal year
        "eps_diluted_filed": None,  # restated as of the answer, a date FMP does not give
        "eps_diluted_ytd_filed": None,
        "profit_margin": pytest.approx(99_803 / 394_328),
        "revenue_concept": "fmp:revenue",
        "form": None,
        "accession": "0000320193-22-000108",
        "filed": date(2022, 10, 28),
        "derived": True,
        "derivation": "period_start=previous period_end+1d",
    }
    assert rows[0]["period_start"] == date(2010, 9, 25)
    assert rows[0]["derivation"] == "period_start=period_end-1y+1d (no previous statement)"


def test_stable_field_names_map_to_the_same_columns() -> None:
    result = map_income_statement(json.loads(STABLE.read_bytes()), "annual", "stable")
    (row,) = result.table.to_pylist()
    assert (row["fiscal_year"], row["period_end"], row["filed"]) == (
        2024,
        date(2024, 9, 28),
        date(2024, 11, 1),
    )
    assert (row["revenue"], row["net_income"]) == (391_035_000_000, 93_736_000_000)
    assert (row["eps_basic"], row["eps_diluted"]) == (6.11, 6.08)
    assert row["accession"] is None  # the stable API has no filing link


def test_bad_records_are_rejected_with_reasons() -> None:
    good = json.loads(STABLE.read_bytes())[0]
    euro = {**good, "reportedCurrency": "EUR", "date": "2023-09-30"}
    no_revenue = {k: v for k, v in good.items() if k != "revenue"} | {"date": "2022-09-24"}
    bad_eps = {**good, "epsDiluted": "n/a", "date": "2021-09-25"}
    result = map_income_statement([good, euro, no_revenue, "junk", bad_eps], "annual", "fmp")
    assert result.table.num_rows == 1
    reasons = [r.reason for r in result.rejected]
    assert any("unreadable value" in r and "'n/a'" in r for r in reasons)
    assert any("not reported in USD" in r and "'EUR'" in r for r in reasons)
    assert any("missing field" in r and "'revenue'" in r for r in reasons)
    assert any("not an object" in r for r in reasons)
    with pytest.raises(SchemaError, match="expected a JSON list"):
        map_income_statement({"Error": "x"}, "annual", "fmp")


def test_non_finite_and_out_of_range_figures_are_rejected_not_loaded() -> None:
    good = json.loads(STABLE.read_bytes())[0]
    payload = json.loads(
        json.dumps([good, {**good, "date": "2022-09-24"}, {**good, "date": "2021-09-25"}])
        .replace('"revenue": ' + json.dumps(good["revenue"]), '"revenue": NaN', 1)
        .replace('"netIncome": ' + json.dumps(good["netIncome"]), '"netIncome": 1e400', 1)
        .replace('"epsDiluted": ' + json.dumps(good["epsDiluted"]), '"epsDiluted": 1e30', 1)
    )
    result = map_income_statement(payload, "annual", "fmp")
    assert result.table.num_rows == 2  # the first (NaN revenue, infinite net income) is out
    reasons = [r.reason for r in result.rejected]
    assert reasons == ["fmp: value is not a finite number (field 'revenue', value nan)"]
    assert result.rejected[0].record["revenue"] == "nan"  # stored as JSON, which has no NaN


def test_quarterly_fetch_over_the_stable_api(settings: Settings) -> None:
    record = json.loads(STABLE.read_bytes())[0]
    quarters = [
        {**record, "period": "Q3", "date": "2024-06-29", "revenue": 85_777_000_000},
        {**record, "period": "Q4", "date": "2024-09-28", "revenue": 94_930_000_000},
    ]
    with replay_server() as server:
        server.script(
            "/stable/income-statement", Reply(500), Reply(200, json.dumps(quarters).encode())
        )
        fetcher = HttpFetcher(httpx.Client(), settings.http, "test", use_cache=False)
        client = FmpClient(fetcher, SecretStr("k"), server.base_url)
        result = fetch_income_statement(client, "AAPL", "quarter")
        query = server.hits("/stable/income-statement")[-1].path
    assert "symbol=AAPL" in query
    assert "period=quarter" in query
    rows = result.table.to_pylist()
    assert [(r["fiscal_quarter"], r["revenue"], r["eps_diluted_ytd"]) for r in rows] == [
        (3, 85_777_000_000, None),
        (4, 94_930_000_000, None),  # FMP has no year-to-date figures
    ]
    assert rows[1]["period_start"] == date(2024, 6, 30)
    assert rows[0]["period_start"] == date(2024, 3, 30)
