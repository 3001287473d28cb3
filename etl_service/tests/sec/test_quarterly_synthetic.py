"""Quarter rules on small synthetic documents: fallback, derivations, EPS, labels, bad input."""

from __future__ import annotations

from datetime import date
from typing import Any

import pytest

from etl_service.errors import InputError, SchemaError
from etl_service.src.adapters.sec.quarterly import extract_quarterly
from etl_service.src.adapters.sec.quarters import FiscalCalendar
from etl_service.src.models.schemas import QUARTERLY_REPORTS, arrow_schema
from etl_service.tests.sec.builders import FY, H1, M9, Q1, Q2, Q3, body, companyfacts, fact

pytestmark = pytest.mark.unit


def k(start: str, end: str, val: float) -> dict[str, Any]:
    """A fact of the 10-K."""
    return fact(start, end, val, form="10-K", accn="0000080424-14-000099", fp="FY")


def _sales(fy_value: float = 83_062_000_000) -> list[dict[str, Any]]:
    return [
        fact(*Q1, 21_207_000_000),
        fact(*H1, 43_100_000_000),
        fact(*Q2, 21_893_000_000),
        fact(*M9, 63_562_000_000),
        fact(*Q3, 20_462_000_000),
        k(*FY, fy_value),
    ]


def _by_end(doc: dict[str, Any]) -> dict[date, dict[str, Any]]:
    result = extract_quarterly(body(doc), "synthetic.json", fiscal_year_end="0630")
    assert result.table.schema == arrow_schema(QUARTERLY_REPORTS)
    return {r["period_end"]: r for r in result.table.to_pylist()}


def test_pg_fy2014_trap_largest_candidate_wins() -> None:
    # Revenues carries a 29.4B "FY" figure (and a matching 9M): a component, not the total.
    doc = companyfacts(
        {
            "SalesRevenueNet": _sales(),
            "Revenues": [fact(*M9, 22_000_000_000), k(*FY, 29_400_000_000)],
        }
    )
    result = extract_quarterly(doc, "pg.json")
    q4 = {r["period_end"]: r for r in result.table.to_pylist()}[date(2014, 6, 30)]
    assert q4["revenue"] == 83_062_000_000 - 63_562_000_000
    assert q4["revenue_concept"] == "SalesRevenueNet"
    assert q4["derivation"].startswith("revenue=FY-9M")
    assert any("disagree" in w and "took SalesRevenueNet" in w for w in result.warnings)


def test_equal_candidates_go_to_the_first_concept_in_priority_order() -> None:
    doc = companyfacts(
        {
            "SalesRevenueNet": [fact(*Q1, 100)],
            "Revenues": [fact(*Q1, 100)],
            "NetIncomeLoss": [fact(*Q1, 10)],
        }
    )
    doc["facts"]["us-gaap"]["EarningsPerShareDiluted"] = {"units": {}}
    row = _by_end(doc)[date(2013, 9, 30)]
    assert row["revenue_concept"] == "Revenues"


def test_fallback_concepts_only_when_no_primary_value() -> None:
    including = "RevenueFromContractWithCustomerIncludingAssessedTax"
    doc = companyfacts({"Revenues": [fact(*Q1, 100)], including: [fact(*Q1, 130), fact(*Q2, 140)]})
    rows = _by_end(doc)
    assert (rows[date(2013, 9, 30)]["revenue"], rows[date(2013, 9, 30)]["revenue_concept"]) == (
        100,
        "Revenues",
    )
    assert rows[date(2013, 12, 31)]["revenue_concept"] == including


def test_missing_q2_and_q3_come_from_ytd_differences() -> None:
    doc = companyfacts(
        {
            "Revenues": [fact(*Q1, 100), fact(*H1, 250), fact(*M9, 420), k(*FY, 600)],
            "NetIncomeLoss": [fact(*Q1, 10), fact(*H1, 25), fact(*M9, 42), k(*FY, 60)],
        }
    )
    rows = _by_end(doc)
    assert [(r["fiscal_quarter"], r["revenue"], r["net_income"]) for r in rows.values()] == [
        (1, 100, 10),
        (2, 150, 15),
        (3, 170, 17),
        (4, 180, 18),
    ]
    assert rows[date(2013, 12, 31)]["derivation"].startswith("revenue=6M-3M; net_income=6M-3M")
    assert rows[date(2014, 3, 31)]["derivation"].startswith("revenue=9M-6M")
    assert rows[date(2014, 3, 31)]["period_start"] == date(2014, 1, 1)


def test_q4_needs_fy_and_9m_starting_on_the_same_date() -> None:
    doc = companyfacts(
        {"Revenues": [fact(*Q1, 100), fact("2013-07-02", "2014-03-31", 420), k(*FY, 600)]}
    )
    assert date(2014, 6, 30) not in _by_end(doc)


def test_eps_is_never_subtracted_but_computed_from_quarter_shares() -> None:
    q4 = ("2014-04-01", "2014-06-30")
    doc = companyfacts(
        {
            "Revenues": [fact(*M9, 900), k(*FY, 1_200)],
            "NetIncomeLoss": [fact(*M9, 90), k(*FY, 123)],
            "EarningsPerShareBasic": [fact(*M9, 0.9), k(*FY, 1.2)],
            "EarningsPerShareDiluted": [fact(*M9, 0.88), k(*FY, 1.18)],
            "WeightedAverageNumberOfDilutedSharesOutstanding": [k(*q4, 110)],
        }
    )
    row = _by_end(doc)[date(2014, 6, 30)]
    assert row["eps_diluted"] == round(33 / 110, 2)  # not 1.18 - 0.88
    assert row["eps_basic"] is None
    assert row["derivation"] == (
        "revenue=FY-9M; net_income=FY-9M; eps_basic=null (not reported for the quarter); "
        "eps_diluted=net_income/WeightedAverageNumberOfDilutedSharesOutstanding"
    )
    assert row["derived"] is True


def test_only_10q_10k_count_and_the_latest_filing_wins() -> None:
    doc = companyfacts(
        {
            "Revenues": [
                fact(*Q1, 100, filed="2013-11-01"),
                fact(*Q1, 105, form="10-Q/A", accn="0000080424-14-000002", filed="2014-01-10"),
                fact(*Q1, 999, form="8-K", accn="0000080424-14-000003", filed="2014-02-01"),
            ],
        }
    )
    row = _by_end(doc)[date(2013, 9, 30)]
    assert (row["revenue"], row["form"], row["accession"]) == (
        105,
        "10-Q/A",
        "0000080424-14-000002",
    )


@pytest.mark.parametrize(
    ("start", "end", "weeks"),
    [
        ("2013-06-30", "2013-10-05", 14),
        ("2013-06-30", "2013-10-19", 16),
        ("2013-06-30", "2013-09-21", 12),
    ],
)
def test_13_14_16_and_12_week_quarters(start: str, end: str, weeks: int) -> None:
    doc = companyfacts({"Revenues": [fact(start, end, 100), k("2013-06-30", "2014-06-28", 400)]})
    rows = _by_end(doc)
    row = rows[date.fromisoformat(end)]
    assert ((row["period_end"] - row["period_start"]).days + 1) // 7 == weeks
    assert (row["fiscal_year"], row["fiscal_quarter"]) == (2014, 1)


def test_fiscal_labels_from_year_ends() -> None:
    nvidia = FiscalCalendar((date(2024, 1, 28), date(2025, 1, 26)))
    assert nvidia.label(date(2025, 1, 26)) == (2025, 4)
    assert nvidia.label(date(2024, 4, 28)) == (2025, 1)
    assert nvidia.label(date(2025, 4, 27)) == (2026, 1)  # beyond the last known year end
    assert nvidia.label(date(2023, 10, 29)) == (2024, 3)
    saturday_closest_to_dec_31 = FiscalCalendar((date(2022, 1, 1), date(2022, 12, 31)))
    assert saturday_closest_to_dec_31.label(date(2022, 1, 1)) == (2021, 4)
    assert saturday_closest_to_dec_31.label(date(2022, 4, 2)) == (2022, 1)
    apple = FiscalCalendar.from_month_day("0926", 2023, 2025)
    assert apple.label(date(2024, 9, 28)) == (2024, 4)
    assert apple.label(date(2024, 12, 28)) == (2025, 1)


def test_fiscal_year_end_parameter_and_its_validation() -> None:
    doc = companyfacts({"Revenues": [fact(*Q1, 100)]})
    with pytest.raises(InputError, match="fiscal-year end"):
        extract_quarterly(doc, "x.json")  # no 10-K anywhere
    row = extract_quarterly(doc, "x.json", fiscal_year_end="0630").table.to_pylist()[0]
    assert (row["fiscal_year"], row["fiscal_quarter"]) == (2014, 1)
    with pytest.raises(InputError, match="MMDD"):
        extract_quarterly(doc, "x.json", fiscal_year_end="June")


def test_malformed_json_names_file_and_line() -> None:
    with pytest.raises(InputError, match=r"bad\.json:line 2: malformed JSON"):
        extract_quarterly(b'{"cik": 1,\n "facts": }', "bad.json")


@pytest.mark.parametrize(
    ("doc", "match"),
    [
        (b"[1, 2]", "expected a JSON object"),
        (b'{"cik": 1}', "no 'facts' object"),
        (b'{"cik": "x", "facts": {}}', "invalid CIK"),
        (b'{"cik": 1, "facts": {"us-gaap": []}}', "taxonomy is not an object"),
    ],
)
def test_wrong_structure_is_a_schema_error(doc: bytes, match: str) -> None:
    with pytest.raises(SchemaError, match=match):
        extract_quarterly(doc, "odd.json")


def test_no_revenue_facts_keeps_net_income_and_warns() -> None:
    doc = companyfacts({"NetIncomeLoss": [fact(*Q1, 10), k(*FY, 40)]})
    result = extract_quarterly(doc, "bank.json")
    rows = result.table.to_pylist()
    assert [(r["revenue"], r["net_income"], r["profit_margin"]) for r in rows] == [(None, 10, None)]
    assert any("no revenue facts" in w for w in result.warnings)


def test_company_without_any_facts_is_skipped_with_a_warning() -> None:
    result = extract_quarterly(companyfacts({}), "empty.json")
    assert result.table.num_rows == 0
    assert result.table.schema == arrow_schema(QUARTERLY_REPORTS)
    assert any("skipped" in w for w in result.warnings)


def test_unexpected_units_and_malformed_facts_are_skipped_with_warnings() -> None:
    doc = companyfacts({"Revenues": [fact(*Q1, 100)]}, unit="EUR")
    doc["facts"]["us-gaap"]["NetIncomeLoss"] = {
        "units": {"USD": [fact(*Q1, 10), {"start": "2013-07-01", "end": "soon", "val": 1}]}
    }
    result = extract_quarterly(doc, "eur.json", fiscal_year_end="0630")
    assert any("unexpected unit 'EUR'" in w and "1 facts skipped" in w for w in result.warnings)
    assert any("malformed fact skipped" in w for w in result.warnings)
    assert result.table.column("revenue").to_pylist() == [None]


def _revenue_all_quarters() -> list[dict[str, Any]]:
    return [fact(*Q1, 100), fact(*H1, 250), fact(*M9, 420), k(*FY, 600)]


def _ytd(doc: dict[str, Any]) -> list[tuple[int, float | None, float | None]]:
    return [
        (r["fiscal_quarter"], r["eps_diluted"], r["eps_diluted_ytd"]) for r in _by_end(doc).values()
    ]


def test_year_to_date_eps_is_the_reported_span_from_the_fiscal_year_start() -> None:
    amended = fact(*FY, 2.25, form="10-K/A", accn="0000080424-14-000120", filed="2014-10-01")
    press = fact(*FY, 9.99, form="8-K", accn="0000080424-14-000130", filed="2014-11-01")
    doc = companyfacts(
        {
            "Revenues": _revenue_all_quarters(),
            "EarningsPerShareDiluted": [
                fact(*Q1, 0.50),
                fact(*H1, 1.10),
                fact(*Q2, 0.60),
                fact(*M9, 1.60),
                fact(*Q3, 0.50),
                k(*FY, 2.20),
                amended,
                press,
            ],
        }
    )
    assert _ytd(doc) == [(1, 0.50, 0.50), (2, 0.60, 1.10), (3, 0.50, 1.60), (4, None, 2.25)]
    q4 = _by_end(doc)[date(2014, 6, 30)]
    assert q4["derivation"].endswith("eps_diluted=null (not reported for the quarter)")


def test_year_to_date_eps_is_never_computed() -> None:
    quarterly_only = companyfacts(
        {
            "Revenues": _revenue_all_quarters(),
            "NetIncomeLoss": [fact(*Q1, 10), fact(*H1, 25), fact(*M9, 42), k(*FY, 60)],
            "EarningsPerShareDiluted": [fact(*Q2, 0.60), fact(*Q3, 0.50)],
            "WeightedAverageNumberOfDilutedSharesOutstanding": [fact(*Q1, 20)],
        }
    )
    # Q1's EPS is computed (10 / 20 shares): still no year-to-date figure; nor a sum for Q2.
    assert _ytd(quarterly_only) == [
        (1, 0.5, None),
        (2, 0.60, None),
        (3, 0.50, None),
        (4, None, None),
    ]


def test_year_to_date_eps_must_start_on_the_fiscal_year_start() -> None:
    doc = companyfacts(
        {
            "Revenues": _revenue_all_quarters(),
            "EarningsPerShareDiluted": [fact("2013-07-08", "2014-03-31", 1.60)],
            "EarningsPerShareBasicAndDiluted": [fact(*H1, 1.10)],
        }
    )
    assert [ytd for _, _, ytd in _ytd(doc)] == [None, 1.10, None, None]
