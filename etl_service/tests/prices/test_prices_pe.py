"""P/E = quarter-end close / trailing-twelve-month diluted EPS: each TTM rule, null case and
share basis."""

from __future__ import annotations

import gzip
import json
from collections.abc import Sequence
from datetime import date
from pathlib import Path
from typing import Any

import pyarrow as pa
import pytest

from etl_service.settings import QualitySettings
from etl_service.snapshot import SEC_COMPANYFACTS
from etl_service.src.adapters.fmp.income_statement import map_income_statement
from etl_service.src.adapters.prices.base import CLOSES_SCHEMA
from etl_service.src.adapters.prices.daily_csv import DailyCsvFolder
from etl_service.src.adapters.prices.ishares import IsharesHoldings
from etl_service.src.adapters.sec.quarterly import extract_quarterly
from etl_service.src.models.schemas import (
    COMPANIES,
    PRICES_PE,
    QUARTERLY_REPORTS,
    SPLIT_EVENTS,
    arrow_schema,
)
from etl_service.src.transforms.prices_pe import compute_prices_pe

pytestmark = pytest.mark.unit

APPLE = "0000320193"
NVIDIA = "0001045810"
ALPHABET = "0001652044"
GAP = "no close within 10 calendar days before the period end (gap in history)"
NEGATIVE = "TTM diluted EPS is zero or negative: P/E undefined"
SPLIT_SUM = "the last four quarterly EPS are on different split bases"
SPLIT_YTD = "the year-to-date EPS of the trailing identity are on different split bases"
EPS_MISSING = "diluted EPS missing in one of the last four fiscal quarters"

Report = tuple[int, int, str, str, int | None, float | None, float | None]
"""(fiscal year, quarter, start, end, net income, diluted EPS, year-to-date diluted EPS)."""

# The figures below are from ../shared/data/sec/companyfacts/CIK0000320193.json and
# CIK0001045810.json: us-gaap NetIncomeLoss and EarningsPerShareDiluted of 10-Q/10-K filings,
# the latest filed value per period; Q4 net income is FY - 9M; Q4 EPS is null where the 10-K
# does not report the three months; year-to-date EPS spans from the fiscal-year start.
APPLE_FY2016_2018: list[Report] = [
    (2016, 1, "2015-09-27", "2015-12-26", 18_361_000_000, 3.28, 3.28),
    (2016, 2, "2015-12-27", "2016-03-26", 10_516_000_000, 1.90, 5.19),
    (2016, 3, "2016-03-27", "2016-06-25", 7_796_000_000, 1.42, 6.62),
    (2016, 4, "2016-06-26", "2016-09-24", 9_014_000_000, 1.67, 8.31),
    (2017, 1, "2016-09-25", "2016-12-31", 17_891_000_000, 3.36, 3.36),
    (2017, 2, "2017-01-01", "2017-04-01", 11_029_000_000, 2.10, 5.46),
    (2017, 3, "2017-04-02", "2017-07-01", 8_717_000_000, 1.67, 7.14),
    (2017, 4, "2017-07-02", "2017-09-30", 10_714_000_000, 2.07, 9.21),
    (2018, 1, "2017-10-01", "2017-12-30", 20_065_000_000, 3.89, 3.89),
]
# The August 2020 4:1 split: FY2018 figures last filed before it, except FY2018 = 2.98 (the
# FY2020 10-K) and FY2019 Q1 = 1.05 (the FY2020 10-K's quarterly data).
APPLE_FY2018_2019: list[Report] = [
    (2018, 1, "2017-10-01", "2017-12-30", 20_065_000_000, 3.89, 3.89),
    (2018, 2, "2017-12-31", "2018-03-31", 13_822_000_000, 2.73, 6.63),
    (2018, 3, "2018-04-01", "2018-06-30", 11_519_000_000, 2.34, 8.99),
    (2018, 4, "2018-07-01", "2018-09-29", 14_125_000_000, 2.91, 2.98),
    (2019, 1, "2018-09-30", "2018-12-29", 19_965_000_000, 1.05, 1.05),
]
APPLE_FY2023_2026: list[Report] = [
    (2023, 1, "2022-09-25", "2022-12-31", 29_998_000_000, 1.88, 1.88),
    (2023, 2, "2023-01-01", "2023-04-01", 24_160_000_000, 1.52, 3.41),
    (2023, 3, "2023-04-02", "2023-07-01", 19_881_000_000, 1.26, 4.67),
    (2023, 4, "2023-07-02", "2023-09-30", 22_956_000_000, None, 6.13),
    (2024, 1, "2023-10-01", "2023-12-30", 33_916_000_000, 2.18, 2.18),
    (2024, 2, "2023-12-31", "2024-03-30", 23_636_000_000, 1.53, 3.71),
    (2024, 3, "2024-03-31", "2024-06-29", 21_448_000_000, 1.40, 5.11),
    (2024, 4, "2024-06-30", "2024-09-28", 14_736_000_000, None, 6.08),
    (2025, 1, "2024-09-29", "2024-12-28", 36_330_000_000, 2.40, 2.40),
    (2025, 2, "2024-12-29", "2025-03-29", 24_780_000_000, 1.65, 4.05),
    (2025, 3, "2025-03-30", "2025-06-28", 23_434_000_000, 1.57, 5.62),
    (2025, 4, "2025-06-29", "2025-09-27", 27_466_000_000, None, 7.46),
    (2026, 1, "2025-09-28", "2025-12-27", 42_097_000_000, 2.84, 2.84),
]
NVIDIA_FY2017_2018: list[Report] = [  # EPS before the 2021 and 2024 splits; not in order
    (2018, 1, "2017-01-30", "2017-04-30", None, 0.79, None),
    (2018, 2, "2017-05-01", "2017-07-30", None, 0.92, None),
    (2018, 3, "2017-07-31", "2017-10-29", None, 1.33, None),
    (2017, 4, "2016-10-31", "2017-01-29", None, 0.99, None),
]
NVIDIA_FY2009_2010: list[Report] = [
    (2009, 2, "2008-04-27", "2008-07-27", -120_929_000, -0.22, None),
    (2009, 3, "2008-07-28", "2008-10-26", 61_748_000, 0.11, 0.20),
    (2009, 4, "2008-10-27", "2009-01-25", -147_665_000, None, -0.05),
    (2010, 1, "2009-01-26", "2009-04-26", -201_338_000, -0.37, -0.37),
    (2010, 2, "2009-04-27", "2009-07-26", -105_302_000, -0.19, -0.56),
    (2010, 3, "2009-07-27", "2009-10-25", 107_577_000, 0.19, -0.36),
]
# The June 2024 10:1 split: FY2024 Q1 (0.82) and the FY2023 YTD figures were last filed
# before it, FY2023 (0.17), FY2024 (1.19) and the later YTD figures after it.
NVIDIA_FY2023_2027: list[Report] = [
    (2023, 1, "2022-01-31", "2022-05-01", 1_618_000_000, 0.64, 0.64),
    (2023, 2, "2022-05-02", "2022-07-31", 656_000_000, 0.26, 0.90),
    (2023, 3, "2022-08-01", "2022-10-30", 680_000_000, 0.27, 1.17),
    (2023, 4, "2022-10-31", "2023-01-29", 1_414_000_000, None, 0.17),
    (2024, 1, "2023-01-30", "2023-04-30", 2_043_000_000, 0.82, 0.82),
    (2024, 2, "2023-05-01", "2023-07-30", 6_188_000_000, 0.25, 0.33),
    (2024, 3, "2023-07-31", "2023-10-29", 9_243_000_000, 0.37, 0.70),
    (2024, 4, "2023-10-30", "2024-01-28", 12_285_000_000, None, 1.19),
    (2025, 1, "2024-01-29", "2024-04-28", 14_881_000_000, 0.60, 0.60),
    (2025, 2, "2024-04-29", "2024-07-28", 16_599_000_000, 0.67, 1.27),
    (2025, 3, "2024-07-29", "2024-10-27", 19_309_000_000, 0.78, 2.04),
    (2025, 4, "2024-10-28", "2025-01-26", 22_091_000_000, None, 2.94),
    (2026, 1, "2025-01-27", "2025-04-27", 18_775_000_000, 0.76, 0.76),
    (2026, 2, "2025-04-28", "2025-07-27", 26_422_000_000, 1.08, 1.84),
    (2026, 3, "2025-07-28", "2025-10-26", 31_910_000_000, 1.30, 3.14),
    (2026, 4, "2025-10-27", "2026-01-25", 42_960_000_000, None, 4.90),
    (2027, 1, "2026-01-26", "2026-04-26", 58_321_000_000, 2.39, 2.39),
]

# Expected TTM EPS and derivation per period end, worked out by hand from the rows above.
APPLE_TTM = {
    "2023-09-30": (6.13, "fiscal-year EPS FY2023"),
    "2023-12-30": (6.43, "FY2023 + 3M FY2024 - 3M FY2023"),  # 2.18 + 6.13 - 1.88
    "2024-03-30": (6.43, "FY2023 + 6M FY2024 - 6M FY2023"),  # 3.71 + 6.13 - 3.41
    "2024-06-29": (6.57, "FY2023 + 9M FY2024 - 9M FY2023"),  # 5.11 + 6.13 - 4.67
    "2024-09-28": (6.08, "fiscal-year EPS FY2024"),  # the FY2024 10-K
    "2024-12-28": (6.30, "FY2024 + 3M FY2025 - 3M FY2024"),  # 2.40 + 6.08 - 2.18
    "2025-03-29": (6.42, "FY2024 + 6M FY2025 - 6M FY2024"),  # 4.05 + 6.08 - 3.71
    "2025-06-28": (6.59, "FY2024 + 9M FY2025 - 9M FY2024"),  # 5.62 + 6.08 - 5.11
    "2025-09-27": (7.46, "fiscal-year EPS FY2025"),
    "2025-12-27": (7.90, "FY2025 + 3M FY2026 - 3M FY2025"),  # 2.84 + 7.46 - 2.40
}
NVIDIA_TTM = {
    "2023-01-29": (0.17, "fiscal-year EPS FY2023"),
    "2024-01-28": (1.19, "fiscal-year EPS FY2024"),
    "2024-07-28": (2.13, "FY2024 + 6M FY2025 - 6M FY2024"),  # 1.27 + 1.19 - 0.33
    "2024-10-27": (2.53, "FY2024 + 9M FY2025 - 9M FY2024"),  # 2.04 + 1.19 - 0.70
    "2025-01-26": (2.94, "fiscal-year EPS FY2025"),
    "2025-04-27": (3.10, "FY2025 + 3M FY2026 - 3M FY2025"),  # 0.76 + 2.94 - 0.60
    "2025-07-27": (3.51, "FY2025 + 6M FY2026 - 6M FY2025"),  # 1.84 + 2.94 - 1.27
    "2025-10-26": (4.04, "FY2025 + 9M FY2026 - 9M FY2025"),  # 3.14 + 2.94 - 2.04
    "2026-01-25": (4.90, "fiscal-year EPS FY2026"),
    "2026-04-26": (6.53, "FY2026 + 3M FY2027 - 3M FY2026"),  # 2.39 + 4.90 - 0.76
}


def _reports(cik: str, reports: Sequence[Report]) -> list[dict[str, Any]]:
    return [
        {
            "cik": cik,
            "fiscal_year": fy,
            "fiscal_quarter": fq,
            "period_start": date.fromisoformat(start),
            "period_end": date.fromisoformat(end),
            "net_income": net_income,
            "eps_diluted": eps,
            "eps_diluted_ytd": ytd,
            "derived": False,
        }
        for fy, fq, start, end, net_income, eps, ytd in reports
    ]


def _table(rows: list[dict[str, Any]], schema: pa.Schema) -> pa.Table:
    return pa.Table.from_pylist([{n: r.get(n) for n in schema.names} for r in rows], schema=schema)


def _companies(pairs: list[tuple[str, str]]) -> pa.Table:
    rows = [
        {"ticker": t, "name": t, "cik": c, "sector": "IT", "sub_industry": "x"} for t, c in pairs
    ]
    return _table(rows, arrow_schema(COMPANIES))


@pytest.fixture(scope="module")
def closes() -> pa.Table:
    path = Path(__file__).resolve().parents[2] / "snapshot" / "prices" / "stooq_daily"
    return DailyCsvFolder(path).closes(["AAPL", "NVDA", "GOOG", "GOOGL"]).table


@pytest.fixture(scope="module")
def ishares() -> pa.Table:
    path = Path(__file__).resolve().parents[2] / "snapshot" / "prices" / "ishares_ivv_holdings"
    return IsharesHoldings.from_folder(path).closes(["AAPL", "NVDA"]).table


def _pe(reports: pa.Table | list[dict[str, Any]], closes: pa.Table, companies: pa.Table) -> Any:
    if isinstance(reports, list):
        reports = _table(reports, arrow_schema(QUARTERLY_REPORTS))
    table = compute_prices_pe(reports, closes, companies)
    assert table.schema == arrow_schema(PRICES_PE)
    return {r["period_end"].isoformat(): r for r in table.to_pylist()}


def _apple(reports: Sequence[Report], closes: pa.Table) -> Any:
    return _pe(_reports(APPLE, reports), closes, _companies([("AAPL", APPLE)]))


def test_rule_1_sums_four_quarters_even_when_a_q4_has_its_own_eps(closes: pa.Table) -> None:
    got = _apple(APPLE_FY2016_2018, closes)
    assert len(got) == 9
    fy17q4 = got["2017-09-30"]
    # 3.36 + 2.10 + 1.67 + 2.07 = 9.20; the 10-K's fiscal-year EPS is 9.21 (rounding).
    assert (fy17q4["eps_ttm"], fy17q4["eps_ttm_derivation"]) == (
        9.20,
        "sum of 4 quarterly EPS, FY2017 Q1 to FY2017 Q4",
    )
    assert fy17q4["closing_price"] == 153.57
    assert fy17q4["price_date"] == date(2017, 9, 29)
    assert fy17q4["price_earnings_ratio"] == pytest.approx(153.57 / 9.20)
    assert (fy17q4["fiscal_year"], fy17q4["fiscal_quarter"], fy17q4["note"]) == (2017, 4, None)
    assert got["2016-09-24"]["eps_ttm"] == 8.27  # 3.28 + 1.90 + 1.42 + 1.67
    assert (
        got["2016-09-24"]["eps_ttm_derivation"] == "sum of 4 quarterly EPS, FY2016 Q1 to FY2016 Q4"
    )
    for end, quarter in (("2015-12-26", 1), ("2016-03-26", 2), ("2016-06-25", 3)):
        row = got[end]
        assert (row["eps_ttm"], row["eps_ttm_derivation"], row["price_earnings_ratio"]) == (
            None,
            None,
            None,
        )
        assert row["closing_price"] is not None
        assert row["note"] == (
            f"fewer than four fiscal quarters reported; no FY2015 Q{quarter} report one year "
            "earlier"
        )
    # Missing price: FY2018 Q1 ends after the price history (2017-11-10); P/E null, not 0.
    fy18q1 = got["2017-12-30"]
    assert fy18q1["eps_ttm"] == 9.73  # 2.10 + 1.67 + 2.07 + 3.89
    assert fy18q1["closing_price"] is None
    assert fy18q1["price_earnings_ratio"] is None
    assert fy18q1["note"] == (
        "no close within 10 calendar days before the period end: history ends 2017-11-10"
    )


def test_nvidia_quarters_in_any_input_order_ending_on_sundays(closes: pa.Table) -> None:
    got = _pe(_reports(NVIDIA, NVIDIA_FY2017_2018), closes, _companies([("NVDA", NVIDIA)]))
    row = got["2017-10-29"]
    assert row["eps_ttm"] == 4.03  # 0.99 + 0.79 + 0.92 + 1.33
    assert row["eps_ttm_derivation"] == "sum of 4 quarterly EPS, FY2017 Q4 to FY2018 Q3"
    assert row["price_earnings_ratio"] == pytest.approx(201.86 / 4.03)


def test_apple_rules_2_and_3_from_reported_figures(ishares: pa.Table) -> None:
    got = _apple(APPLE_FY2023_2026, ishares)
    assert {end: (r["eps_ttm"], r["eps_ttm_derivation"]) for end, r in got.items()} == {
        **APPLE_TTM,
        "2022-12-31": (None, None),
        "2023-04-01": (None, None),
        "2023-07-01": (None, None),
    }
    assert got["2023-04-01"]["note"] == (
        f"{GAP}; fewer than four fiscal quarters reported; no FY2022 Q2 report one year earlier"
    )
    # The iShares files hold quarter-end closes only: two fiscal period ends have one within
    # 10 days (2024-03-28, the Thursday before Good Friday, and 2024-06-28).
    fy24q2, fy24q3 = got["2024-03-30"], got["2024-06-29"]
    assert (fy24q2["price_date"], fy24q2["closing_price"]) == (date(2024, 3, 28), 171.48)
    assert fy24q2["price_earnings_ratio"] == pytest.approx(171.48 / 6.43)  # 26.67
    assert (fy24q3["price_date"], fy24q3["closing_price"]) == (date(2024, 6, 28), 210.62)
    assert fy24q3["price_earnings_ratio"] == pytest.approx(210.62 / 6.57)  # 32.06
    assert fy24q2["note"] is None
    assert got["2024-09-28"]["note"] == GAP
    assert got["2024-09-28"]["price_earnings_ratio"] is None


def test_nvidia_rule_3_and_reported_figures_on_different_split_bases(closes: pa.Table) -> None:
    got = _pe(_reports(NVIDIA, NVIDIA_FY2023_2027), closes, _companies([("NVDA", NVIDIA)]))
    ttm = {end: (r["eps_ttm"], r["eps_ttm_derivation"]) for end, r in got.items()}
    assert {end: v for end, v in ttm.items() if v[0] is not None} == NVIDIA_TTM
    # FY2025 Q1: 0.60 + 1.19 - 0.82 would be 0.97, but 0.82 is the pre-split 3M FY2024 EPS
    # (net income / EPS: 2.5 billion shares against about 25 billion for the other two).
    assert got["2024-04-28"]["eps_ttm"] is None
    assert got["2024-04-28"]["note"].endswith(f"{EPS_MISSING}; {SPLIT_YTD}")
    for end in ("2023-04-30", "2023-07-30", "2023-10-29"):
        assert got[end]["eps_ttm"] is None
        assert got[end]["note"].endswith(SPLIT_YTD)


def test_apple_2020_split_between_filings_refuses_both_rules(closes: pa.Table) -> None:
    got = _apple(APPLE_FY2018_2019, closes)
    # Four quarters filed before the split: a consistent sum, preferred to FY2018 = 2.98.
    assert got["2018-09-29"]["eps_ttm"] == 11.87  # 3.89 + 2.73 + 2.34 + 2.91
    fy19q1 = got["2018-12-29"]
    assert fy19q1["eps_ttm"] is None
    assert fy19q1["note"].endswith(f"{SPLIT_SUM}; {SPLIT_YTD}")


def test_only_eps_of_ten_cents_or_more_is_checked_for_split_bases(closes: pa.Table) -> None:
    # Hand-made on Apple's calendar: (net income, EPS) per quarter of fiscal 2017.
    def ttm(figures: list[tuple[int, float]]) -> tuple[Any, Any]:
        quarters = [
            (*q[:4], ni, eps, None)
            for q, (ni, eps) in zip(APPLE_FY2016_2018[4:8], figures, strict=True)
        ]
        row = _apple(quarters, closes)["2017-09-30"]
        return row["eps_ttm"], row["note"]

    # 0.01 and 0.05 on 100 million would imply 10 and 2 billion shares against 1 billion for
    # the 0.30s: cents rounding makes such small EPS meaningless, so they are not compared.
    small = [(100_000_000, 0.01), (100_000_000, 0.05), (300_000_000, 0.30), (300_000_000, 0.30)]
    assert ttm(small) == (0.66, None)
    # 0.50 on 100 million implies 0.2 billion shares: a factor of 5, refused.
    mixed = [(100_000_000, 0.10), (100_000_000, 0.50), (300_000_000, 0.30), (300_000_000, 0.30)]
    assert ttm(mixed) == (None, f"{SPLIT_SUM}; fiscal-year diluted EPS FY2017 not reported")


def test_ttm_eps_zero_or_negative_gives_null_pe_under_every_rule(closes: pa.Table) -> None:
    # Rule 1, hand-made losses on Apple's real fiscal calendar.
    losses = [
        (*q[:4], None, eps, None)
        for q, eps in zip(APPLE_FY2016_2018[4:8], [-1.0, 0.5, 0.25, 0.25], strict=True)
    ]
    row = _apple(losses, closes)["2017-09-30"]
    assert (row["eps_ttm"], row["price_earnings_ratio"], row["closing_price"]) == (
        0.0,
        None,
        153.57,
    )
    assert row["note"] == NEGATIVE
    # Rules 2 and 3 on NVIDIA's real fiscal 2009-2010 losses.
    got = _pe(_reports(NVIDIA, NVIDIA_FY2009_2010), closes, _companies([("NVDA", NVIDIA)]))
    fy09, fy10q3 = got["2009-01-25"], got["2009-10-25"]
    assert (fy09["eps_ttm"], fy09["eps_ttm_derivation"]) == (-0.05, "fiscal-year EPS FY2009")
    assert (fy09["closing_price"], fy09["price_earnings_ratio"], fy09["note"]) == (
        7.1535,
        None,
        NEGATIVE,
    )
    # -0.36 + -0.05 - 0.20
    assert (fy10q3["eps_ttm"], fy10q3["eps_ttm_derivation"]) == (
        -0.61,
        "FY2009 + 9M FY2010 - 9M FY2009",
    )
    assert (fy10q3["price_earnings_ratio"], fy10q3["note"]) == (None, NEGATIVE)


def _without(reports: list[Report], end: str) -> list[Report]:
    return [r for r in reports if r[3] != end]


def _no_ytd(reports: list[Report], end: str) -> list[Report]:
    return [(*r[:6], None) if r[3] == end else r for r in reports]


@pytest.mark.parametrize(
    ("reports", "reason"),
    [
        (_no_ytd(APPLE_FY2023_2026, "2025-03-29"), "6M FY2025 diluted EPS not reported"),
        (_without(APPLE_FY2023_2026, "2024-03-30"), "no FY2024 Q2 report one year earlier"),
        (_no_ytd(APPLE_FY2023_2026, "2024-03-30"), "6M FY2024 diluted EPS not reported"),
        (_without(APPLE_FY2023_2026, "2024-09-28"), "no single FY2024 Q4 report"),
        (_no_ytd(APPLE_FY2023_2026, "2024-09-28"), "fiscal-year diluted EPS FY2024 not reported"),
        (
            _without(APPLE_FY2023_2026, "2024-12-28"),
            "FY2024 Q4 does not end just before FY2025 Q1",
        ),
    ],
)
def test_each_missing_figure_of_rule_3_is_named(
    reports: list[Report], reason: str, ishares: pa.Table
) -> None:
    row = _apple(reports, ishares)["2025-03-29"]  # fiscal 2025 Q2
    assert (row["eps_ttm"], row["eps_ttm_derivation"], row["price_earnings_ratio"]) == (
        None,
        None,
        None,
    )
    assert row["note"].endswith(f"; {reason}")


def test_a_q4_without_fiscal_year_eps(ishares: pa.Table) -> None:
    row = _apple(_no_ytd(APPLE_FY2023_2026, "2024-09-28"), ishares)["2024-09-28"]
    assert row["eps_ttm"] is None
    assert row["note"] == f"{GAP}; {EPS_MISSING}; fiscal-year diluted EPS FY2024 not reported"


def test_a_gap_or_a_missing_eps_breaks_the_trailing_four_quarters(closes: pa.Table) -> None:
    gap = _without(APPLE_FY2016_2018, "2016-06-25")
    got = _apple(gap, closes)
    assert got["2016-12-31"]["eps_ttm"] == 8.39  # rule 3: 3.36 + 8.31 - 3.28
    assert got["2016-12-31"]["eps_ttm_derivation"] == "FY2016 + 3M FY2017 - 3M FY2016"
    assert got["2017-09-30"]["eps_ttm"] == 9.20
    no_ytd = [(*r[:6], None) for r in gap]
    assert _apple(no_ytd, closes)["2016-12-31"]["note"] == (
        "the last four fiscal quarters are not consecutive; 3M FY2017 diluted EPS not reported"
    )
    missing = [(*r[:5], None, None) if r[3] == "2017-04-01" else r for r in APPLE_FY2016_2018]
    row = _apple(missing, closes)["2017-09-30"]
    # Rule 2 takes over for the Q4: the 10-K's fiscal-year EPS.
    assert (row["eps_ttm"], row["eps_ttm_derivation"]) == (9.21, "fiscal-year EPS FY2017")
    row = _apple([(*r[:6], None) for r in missing], closes)["2017-07-01"]
    assert (row["price_earnings_ratio"], row["note"]) == (
        None,
        f"{EPS_MISSING}; 9M FY2017 diluted EPS not reported",
    )


def test_annual_rows_take_the_fiscal_year_eps_and_are_never_summed(closes: pa.Table) -> None:
    fixture = Path(__file__).parents[1] / "fixtures" / "sec" / "fmp"
    payload = json.loads((fixture / "AAPL_income-statement_annual_v3_2023-09-26.json").read_bytes())
    annual = map_income_statement(payload, "annual", "fmp").table
    got = _pe(annual, closes, _companies([("AAPL", APPLE)]))
    assert len(got) == 12
    assert {r["eps_ttm_derivation"] for r in got.values()} == {
        f"fiscal-year EPS FY{year}" for year in range(2011, 2023)
    }
    # FMP restated FY2016 EPS for the 2020 4:1 split (the 10-K said 8.31); the Stooq close,
    # adjusted as of 2017, is not, so this pair shows the EPS only.
    fy2016 = got["2016-09-24"]
    assert (fy2016["eps_ttm"], fy2016["closing_price"]) == (2.08, 110.36)
    assert got["2022-09-24"]["eps_ttm"] == 6.11
    assert got["2022-09-24"]["note"] == (
        "no close within 10 calendar days before the period end: history ends 2017-11-10"
    )


def test_share_classes_of_one_cik_each_get_a_row(closes: pa.Table) -> None:
    # Hand-made EPS on a calendar-quarter fiscal year; the prices are the real GOOG/GOOGL closes.
    quarters: list[Report] = [
        (2016, 4, "2016-10-01", "2016-12-31", None, 6.0, None),
        (2017, 1, "2017-01-01", "2017-03-31", None, 6.0, None),
        (2017, 2, "2017-04-01", "2017-06-30", None, 6.0, None),
        (2017, 3, "2017-07-01", "2017-09-30", None, 6.0, None),
    ]
    companies = _companies([("GOOGL", ALPHABET), ("GOOG", ALPHABET), ("AAPL", APPLE)])
    table = compute_prices_pe(
        _table(_reports(ALPHABET, quarters), arrow_schema(QUARTERLY_REPORTS)), closes, companies
    )
    got = {(r["ticker"], r["period_end"].isoformat()): r for r in table.to_pylist()}
    assert set(got) == {(t, q[3]) for t in ("GOOG", "GOOGL") for q in quarters}
    googl, goog = got[("GOOGL", "2017-09-30")], got[("GOOG", "2017-09-30")]
    assert googl["eps_ttm"] == goog["eps_ttm"] == 24.0
    assert googl["price_date"] == goog["price_date"] == date(2017, 9, 29)
    assert (googl["closing_price"], goog["closing_price"]) == (973.36, 959.11)  # googl/goog.us.txt
    assert googl["price_earnings_ratio"] == pytest.approx(973.36 / 24.0)
    assert googl["cik"] == goog["cik"] == ALPHABET


def test_a_repeated_fiscal_label_still_gives_one_row_per_report(closes: pa.Table) -> None:
    twice = [*APPLE_FY2023_2026, (2025, 2, "2025-01-05", "2025-04-05", None, 1.0, 4.0)]
    got = _apple(twice, closes)
    assert len(got) == len(twice)
    assert got["2025-04-05"]["eps_ttm"] is None  # its previous Q2 is the other FY2025 Q2


@pytest.fixture(scope="module")
def extracted() -> tuple[pa.Table, pa.Table]:
    """Apple's and NVIDIA's quarterly reports and split events, from their real filings."""
    parts = [
        extract_quarterly(
            gzip.decompress((SEC_COMPANYFACTS / f"CIK{cik}.json.gz").read_bytes()),
            f"CIK{cik}.json",
        )
        for cik in (APPLE, NVIDIA)
    ]
    return (
        pa.concat_tables([p.table for p in parts]),
        pa.concat_tables([p.related[SPLIT_EVENTS.name] for p in parts]),
    )


def test_the_sec_extractor_feeds_the_same_ttm_on_the_as_traded_basis(
    extracted: tuple[pa.Table, pa.Table], ishares: pa.Table
) -> None:
    reports, splits = extracted
    companies = _companies([("AAPL", APPLE), ("NVDA", NVIDIA)])
    table = compute_prices_pe(reports, ishares, companies, splits)
    got = {(r["ticker"], r["period_end"].isoformat()): r for r in table.to_pylist()}
    assert table.num_rows == reports.num_rows == 143
    # Up to FY2025 Q1 NVIDIA's figures are put on the shares of their period end, before the
    # June 2024 10-for-1 split; those filed after it count 10 times (rounded to cents on the
    # new basis: FY2023 = 0.17 counts 1.70, its own 10-K said 1.74).
    nvidia = {
        **NVIDIA_TTM,
        "2023-01-29": (1.70, "fiscal-year EPS FY2023, split factors 10"),
        "2023-04-30": (1.88, "FY2023 + 3M FY2024 - 3M FY2023, split factors 10, 1, 1"),
        "2024-01-28": (11.9, "fiscal-year EPS FY2024, split factors 10"),
        # 1.19 x 10 + 0.60 x 10 - 0.82: the mix of bases rule 3 refused before
        "2024-04-28": (17.08, "FY2024 + 3M FY2025 - 3M FY2024, split factors 10, 10, 1"),
    }
    # Apple's figures from FY2023 on were all filed after its last split (2020): unchanged.
    for ticker, expected in (("AAPL", APPLE_TTM), ("NVDA", nvidia)):
        for end, value in expected.items():
            row = got[(ticker, end)]
            assert (row["eps_ttm"], row["eps_ttm_derivation"]) == value, (ticker, end)
            assert row["share_basis"] == "as traded"
    fy24q2 = got[("AAPL", "2024-03-30")]
    assert (fy24q2["closing_price"], fy24q2["split_factor"]) == (171.48, 1.0)  # as traded
    assert fy24q2["price_earnings_ratio"] == pytest.approx(171.48 / 6.43)  # 26.67
    assert got[("AAPL", "2024-06-29")]["price_earnings_ratio"] == pytest.approx(210.62 / 6.57)
    apple_recent = [r for (t, _), r in got.items() if t == "AAPL" and r["fiscal_year"] >= 2018]
    assert len(apple_recent) == 33
    assert all(r["eps_ttm"] is not None for r in apple_recent)  # the 2020 split bridged
    for row in got.values():  # a basis whenever there is a figure
        has_figure = row["eps_ttm"] is not None or row["closing_price"] is not None
        assert (row["share_basis"] == "as traded") is has_figure


APPLE_FY2009_2012_PE = {
    # period end: (price date, Stooq close x 7, TTM EPS as filed before the 2014 split, P/E)
    "2009-06-27": (date(2009, 6, 26), 127.687, 8.98, 14.22),
    "2009-09-26": (date(2009, 9, 25), 163.499, 9.07, 18.03),
    "2009-12-26": (date(2009, 12, 24), 187.397, 10.24, 18.30),
    "2010-03-27": (date(2010, 3, 26), 206.99, 11.78, 17.57),
    "2010-06-26": (date(2010, 6, 25), 239.085, 13.28, 18.00),
    "2010-09-25": (date(2010, 9, 24), 262.038, 15.15, 17.30),
    "2010-12-25": (date(2010, 12, 23), 290.094, 17.91, 16.20),
    "2011-03-26": (date(2011, 3, 25), 315.133, 20.98, 15.02),
    "2011-06-25": (date(2011, 6, 24), 292.551, 25.26, 11.58),
    "2011-09-24": (date(2011, 9, 23), 362.432, 27.67, 13.10),
    "2011-12-31": (date(2011, 12, 30), 363.055, 35.11, 10.34),
    "2012-03-31": (date(2012, 3, 30), 537.453, 41.01, 13.11),
    "2012-06-30": (date(2012, 6, 29), 523.495, 42.54, 12.31),
    "2012-09-29": (date(2012, 9, 28), 600.579, 44.16, 13.60),
}


def test_apple_fy2009_to_fy2012_pe_on_the_as_traded_basis(
    extracted: tuple[pa.Table, pa.Table], closes: pa.Table
) -> None:
    reports, splits = extracted
    table = compute_prices_pe(reports, closes, _companies([("AAPL", APPLE)]), splits)
    got = {r["period_end"].isoformat(): r for r in table.to_pylist()}
    pe_band = QualitySettings()
    for end, (price_date, close, eps, pe) in APPLE_FY2009_2012_PE.items():
        row = got[end]
        # The Stooq close is in the shares of 2017 (after the 7-for-1 split); x 7 is as traded.
        assert (row["price_date"], row["closing_price"], row["split_factor"]) == (
            price_date,
            close,
            7.0,
        ), end
        assert (row["eps_ttm"], row["share_basis"], row["note"]) == (eps, "as traded", None)
        assert row["price_earnings_ratio"] == pytest.approx(pe, abs=0.005)
        assert pe_band.pe_min <= row["price_earnings_ratio"] <= pe_band.pe_max  # not gated
    # FY2012 Q4 as traded: 667.10 / 44.15 = 15.11 (the 10-K's fiscal-year EPS; the four
    # quarters add up to 44.16). Stooq's close is also lowered by the dividends paid from
    # August 2012 to November 2017 (600.579 / 667.10 = 0.900), which no filing here undoes:
    # the P/E is 10% low, hence the tolerance.
    fy12q4 = got["2012-09-29"]
    assert fy12q4["price_earnings_ratio"] == pytest.approx(667.10 / 44.15, rel=0.11)
    assert fy12q4["eps_ttm_derivation"] == "sum of 4 quarterly EPS, FY2012 Q1 to FY2012 Q4"
    # The first quarters after it mix figures filed before (x 1) and after (x 7) the split.
    fy13q1 = got["2012-12-29"]
    assert (fy13q1["eps_ttm"], fy13q1["eps_ttm_derivation"]) == (
        44.08,  # 12.30 + 9.32 + 8.67 + 1.97 x 7
        "sum of 4 quarterly EPS, FY2012 Q2 to FY2013 Q1, split factors 1, 1, 1, 7",
    )
    # The spot checks of the figures as reported still hold after the split.
    assert got["2017-09-30"]["price_earnings_ratio"] == pytest.approx(153.57 / 9.20)  # 16.69
    assert got["2017-09-30"]["split_factor"] == 1.0


def test_the_dividend_bias_of_a_stooq_close_against_an_as_traded_one(
    closes: pa.Table, ishares: pa.Table
) -> None:
    # The one day both sources have for AAPL: 2009-09-30. After undoing the 7-for-1 split the
    # Stooq close is still 10.4% below the traded one: the dividends of 2012-2017.
    def close(table: pa.Table) -> float:
        [row] = [
            r for r in table.to_pylist() if (r["ticker"], r["date"]) == ("AAPL", date(2009, 9, 30))
        ]
        return float(row["close"])

    assert (close(closes), close(ishares)) == (23.736, 185.37)
    assert close(closes) * 7 / close(ishares) == pytest.approx(0.896, abs=0.001)


SYNTHETIC = "0000080424"


def _split_case(window: tuple[str, str], adjusted: bool) -> dict[str, dict[str, Any]]:
    """Calendar quarters of 2013-2014 with 150 million net income each: 1.50 a share filed
    before a 3-for-2 split, 1.00 after it; the close is 40 in post-split shares (60 before
    the split as traded)."""
    quarters = [
        (2013, 1, "2013-01-01", "2013-03-31", 1.50, "2013-05-01"),
        (2013, 2, "2013-04-01", "2013-06-30", 1.50, "2013-08-01"),
        (2013, 3, "2013-07-01", "2013-09-30", 1.50, "2013-11-01"),
        (2013, 4, "2013-10-01", "2013-12-31", 1.50, "2014-02-10"),
        (2014, 1, "2014-01-01", "2014-03-31", 1.00, "2014-05-01"),
    ]
    reports = [
        {
            "cik": SYNTHETIC,
            "fiscal_year": fy,
            "fiscal_quarter": fq,
            "period_start": date.fromisoformat(start),
            "period_end": date.fromisoformat(end),
            "net_income": 150_000_000,
            "eps_diluted": eps,
            "eps_diluted_filed": date.fromisoformat(filed),
            "derived": False,
        }
        for fy, fq, start, end, eps, filed in quarters
    ]
    as_traded = [60.0, 60.0, 60.0, 60.0, 40.0]
    closes = pa.Table.from_pylist(
        [
            {
                "ticker": "SYN",
                "date": date.fromisoformat(q[3]),
                "close": 40.0 if adjusted else traded,
                "source": "test",
                "adjusted_as_of": date(2017, 11, 10) if adjusted else None,
            }
            for q, traded in zip(quarters, as_traded, strict=True)
        ],
        schema=CLOSES_SCHEMA,
    )
    splits = pa.Table.from_pylist(
        [
            {
                "cik": SYNTHETIC,
                "old_basis_before": date.fromisoformat(window[0]),
                "new_basis_from": date.fromisoformat(window[1]),
                "split_ratio": 1.5,
                "split": "3-for-2",
                "derivation": "test",
            }
        ],
        schema=arrow_schema(SPLIT_EVENTS),
    )
    table = compute_prices_pe(
        _table(reports, arrow_schema(QUARTERLY_REPORTS)),
        closes,
        _companies([("SYN", SYNTHETIC)]),
        splits,
    )
    return {r["period_end"].isoformat(): r for r in table.to_pylist()}


@pytest.mark.parametrize("adjusted", [True, False])
def test_a_3_for_2_split_puts_close_and_eps_on_the_shares_as_traded(adjusted: bool) -> None:
    got = _split_case(("2014-03-07", "2014-03-10"), adjusted)
    before, after = got["2013-12-31"], got["2014-03-31"]
    # Before the split: 4 x 1.50, and the adjusted close 40 x 1.5 = 60 as traded.
    assert (before["closing_price"], before["eps_ttm"], before["share_basis"]) == (
        60.0,
        6.0,
        "as traded",
    )
    assert before["split_factor"] == (1.5 if adjusted else 1.0)
    assert before["eps_ttm_derivation"] == "sum of 4 quarterly EPS, FY2013 Q1 to FY2013 Q4"
    # After it: the three 1.50 filed before count 1.00 each; no mix of bases is refused.
    assert (after["closing_price"], after["eps_ttm"], after["split_factor"]) == (40.0, 4.0, 1.0)
    assert after["eps_ttm_derivation"] == (
        "sum of 4 quarterly EPS, FY2013 Q2 to FY2014 Q1, split factors 0.6667, 0.6667, 0.6667, 1"
    )
    assert before["price_earnings_ratio"] == after["price_earnings_ratio"] == 10.0


def test_a_price_date_in_a_split_window() -> None:
    # The split took effect some day from 2014-03-25 to 2014-04-04: 2014-03-31 is unknown.
    adjusted = _split_case(("2014-03-25", "2014-04-05"), adjusted=True)["2014-03-31"]
    # An adjusted close keeps its own basis, and the EPS joins it.
    assert (adjusted["closing_price"], adjusted["eps_ttm"], adjusted["split_factor"]) == (
        40.0,
        4.0,
        1.0,
    )
    assert adjusted["share_basis"] == "split-adjusted to 2017-11-10"
    assert adjusted["price_earnings_ratio"] == 10.0
    # An as-traded close on an unknown basis gives no P/E.
    traded = _split_case(("2014-03-25", "2014-04-05"), adjusted=False)["2014-03-31"]
    assert (traded["closing_price"], traded["eps_ttm"], traded["share_basis"]) == (
        None,
        None,
        None,
    )
    assert traded["price_earnings_ratio"] is None
    assert traded["note"] == (
        "the close has no known share basis: a split's window; "
        "no known share basis on the price date: it falls in a split's window"
    )
