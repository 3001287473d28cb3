"""Apple and NVIDIA quarters from FY2019 on match the figures in their own filings."""

from __future__ import annotations

import gzip
import json
from datetime import date
from pathlib import Path
from typing import Any

import pytest

from etl_service.snapshot import SEC_COMPANYFACTS
from etl_service.src.adapters.sec.quarterly import extract_quarterly
from etl_service.src.models.records import Extracted
from etl_service.src.models.schemas import QUARTERLY_REPORTS, arrow_schema

pytestmark = pytest.mark.unit

# (fiscal_year, fiscal_quarter, period_end, revenue, net_income, eps_diluted), from the
# 10-Q three-month facts and, for Q4, the 10-K annual fact minus the Q3 10-Q nine-month
# fact. Q4 EPS is null unless the 10-K itself reports the three months (FY2019-20); EPS is
# the latest filed value, i.e. split-adjusted (Apple 4:1 in 2020, NVIDIA 4:1 2021, 10:1 2024).
APPLE = [
    (2019, 1, "2018-12-29", 84_310_000_000, 19_965_000_000, 1.05),
    (2019, 2, "2019-03-30", 58_015_000_000, 11_561_000_000, 0.61),
    (2019, 3, "2019-06-29", 53_809_000_000, 10_044_000_000, 0.55),
    (2019, 4, "2019-09-28", 64_040_000_000, 13_686_000_000, 0.76),  # 3 months in the 10-K
    (2020, 1, "2019-12-28", 91_819_000_000, 22_236_000_000, 1.25),
    (2020, 2, "2020-03-28", 58_313_000_000, 11_249_000_000, 0.64),
    (2020, 3, "2020-06-27", 59_685_000_000, 11_253_000_000, 0.65),
    (2020, 4, "2020-09-26", 64_698_000_000, 12_673_000_000, 0.73),  # 3 months in the 10-K
    (2021, 1, "2020-12-26", 111_439_000_000, 28_755_000_000, 1.68),
    (2021, 2, "2021-03-27", 89_584_000_000, 23_630_000_000, 1.4),
    (2021, 3, "2021-06-26", 81_434_000_000, 21_744_000_000, 1.3),
    (
        2021,
        4,
        "2021-09-25",
        365_817_000_000 - 282_457_000_000,
        94_680_000_000 - 74_129_000_000,
        None,
    ),
    (2022, 1, "2021-12-25", 123_945_000_000, 34_630_000_000, 2.1),
    (2022, 2, "2022-03-26", 97_278_000_000, 25_010_000_000, 1.52),
    (2022, 3, "2022-06-25", 82_959_000_000, 19_442_000_000, 1.2),
    (
        2022,
        4,
        "2022-09-24",
        394_328_000_000 - 304_182_000_000,
        99_803_000_000 - 79_082_000_000,
        None,
    ),
    (2023, 1, "2022-12-31", 117_154_000_000, 29_998_000_000, 1.88),  # 14-week quarter
    (2023, 2, "2023-04-01", 94_836_000_000, 24_160_000_000, 1.52),
    (2023, 3, "2023-07-01", 81_797_000_000, 19_881_000_000, 1.26),
    (
        2023,
        4,
        "2023-09-30",
        383_285_000_000 - 293_787_000_000,
        96_995_000_000 - 74_039_000_000,
        None,
    ),
    (2024, 1, "2023-12-30", 119_575_000_000, 33_916_000_000, 2.18),
    (2024, 2, "2024-03-30", 90_753_000_000, 23_636_000_000, 1.53),
    (2024, 3, "2024-06-29", 85_777_000_000, 21_448_000_000, 1.4),
    (
        2024,
        4,
        "2024-09-28",
        391_035_000_000 - 296_105_000_000,
        93_736_000_000 - 79_000_000_000,
        None,
    ),
    (2025, 1, "2024-12-28", 124_300_000_000, 36_330_000_000, 2.4),
    (2025, 2, "2025-03-29", 95_359_000_000, 24_780_000_000, 1.65),
    (2025, 3, "2025-06-28", 94_036_000_000, 23_434_000_000, 1.57),
    (
        2025,
        4,
        "2025-09-27",
        416_161_000_000 - 313_695_000_000,
        112_010_000_000 - 84_544_000_000,
        None,
    ),
    (2026, 1, "2025-12-27", 143_756_000_000, 42_097_000_000, 2.84),
]
NVIDIA = [
    (2019, 1, "2018-04-29", 3_207_000_000, 1_244_000_000, 1.98),
    (2019, 2, "2018-07-29", 3_123_000_000, 1_101_000_000, 1.76),
    (2019, 3, "2018-10-28", 3_181_000_000, 1_230_000_000, 1.97),
    (2019, 4, "2019-01-27", 2_205_000_000, 567_000_000, 0.92),  # 3 months in the 10-K
    (2020, 1, "2019-04-28", 2_220_000_000, 394_000_000, 0.64),
    (2020, 2, "2019-07-28", 2_579_000_000, 552_000_000, 0.9),
    (2020, 3, "2019-10-27", 3_014_000_000, 899_000_000, 1.45),
    # 10-K three months; FY − 9M would give 951,000,000 for net income (rounding).
    (2020, 4, "2020-01-26", 3_105_000_000, 950_000_000, 1.53),
    (2021, 1, "2020-04-26", 3_080_000_000, 917_000_000, 1.47),
    (2021, 2, "2020-07-26", 3_866_000_000, 622_000_000, 0.25),
    (2021, 3, "2020-10-25", 4_726_000_000, 1_336_000_000, 0.53),
    (2021, 4, "2021-01-31", 16_675_000_000 - 11_672_000_000, 4_332_000_000 - 2_875_000_000, None),
    (2022, 1, "2021-05-02", 5_661_000_000, 1_912_000_000, 0.76),
    (2022, 2, "2021-08-01", 6_507_000_000, 2_374_000_000, 0.94),
    (2022, 3, "2021-10-31", 7_103_000_000, 2_464_000_000, 0.97),
    (2022, 4, "2022-01-30", 26_914_000_000 - 19_271_000_000, 9_752_000_000 - 6_749_000_000, None),
    (2023, 1, "2022-05-01", 8_288_000_000, 1_618_000_000, 0.64),
    (2023, 2, "2022-07-31", 6_704_000_000, 656_000_000, 0.26),
    (2023, 3, "2022-10-30", 5_931_000_000, 680_000_000, 0.27),
    (2023, 4, "2023-01-29", 26_974_000_000 - 20_923_000_000, 4_368_000_000 - 2_954_000_000, None),
    (2024, 1, "2023-04-30", 7_192_000_000, 2_043_000_000, 0.82),
    (2024, 2, "2023-07-30", 13_507_000_000, 6_188_000_000, 0.25),
    (2024, 3, "2023-10-29", 18_120_000_000, 9_243_000_000, 0.37),
    (2024, 4, "2024-01-28", 60_922_000_000 - 38_819_000_000, 29_760_000_000 - 17_475_000_000, None),
    (2025, 1, "2024-04-28", 26_044_000_000, 14_881_000_000, 0.6),
    (2025, 2, "2024-07-28", 30_040_000_000, 16_599_000_000, 0.67),
    (2025, 3, "2024-10-27", 35_082_000_000, 19_309_000_000, 0.78),
    (
        2025,
        4,
        "2025-01-26",
        130_497_000_000 - 91_166_000_000,
        72_880_000_000 - 50_789_000_000,
        None,
    ),
    (2026, 1, "2025-04-27", 44_062_000_000, 18_775_000_000, 0.76),
    (2026, 2, "2025-07-27", 46_743_000_000, 26_422_000_000, 1.08),
    (2026, 3, "2025-10-26", 57_006_000_000, 31_910_000_000, 1.3),
    (
        2026,
        4,
        "2026-01-25",
        215_938_000_000 - 147_811_000_000,
        120_067_000_000 - 77_107_000_000,
        None,
    ),
    (2027, 1, "2026-04-26", 81_615_000_000, 58_321_000_000, 2.39),
]


def _load(cik: str) -> bytes:
    return gzip.decompress((SEC_COMPANYFACTS / f"CIK{cik}.json.gz").read_bytes())


@pytest.fixture(scope="module")
def apple() -> Extracted:
    return extract_quarterly(_load("0000320193"), "CIK0000320193.json")


@pytest.fixture(scope="module")
def nvidia() -> Extracted:
    return extract_quarterly(_load("0001045810"), "CIK0001045810.json")


def _rows(result: Extracted) -> list[dict[str, Any]]:
    return [r for r in result.table.to_pylist() if r["fiscal_year"] >= 2019]


@pytest.mark.parametrize(("company", "expected"), [("apple", APPLE), ("nvidia", NVIDIA)])
def test_every_quarter_from_fy2019_matches_the_filings(
    company: str, expected: list[tuple[Any, ...]], request: pytest.FixtureRequest
) -> None:
    result: Extracted = request.getfixturevalue(company)
    got = [
        (
            r["fiscal_year"],
            r["fiscal_quarter"],
            r["period_end"].isoformat(),
            r["revenue"],
            r["net_income"],
            r["eps_diluted"],
        )
        for r in _rows(result)
    ]
    assert got == expected


@pytest.mark.parametrize("company", ["apple", "nvidia"])
def test_table_is_clean(company: str, request: pytest.FixtureRequest) -> None:
    result: Extracted = request.getfixturevalue(company)
    table = result.table
    assert table.schema == arrow_schema(QUARTERLY_REPORTS)
    ends = table.column("period_end").to_pylist()
    assert ends == sorted(ends)
    assert len(set(ends)) == len(ends)
    labels = list(
        zip(
            table.column("fiscal_year").to_pylist(),
            table.column("fiscal_quarter").to_pylist(),
            strict=True,
        )
    )
    assert len(set(labels)) == len(labels)
    assert result.warnings == []
    # NVIDIA's FY2011 10-K restated fiscal 2011 Q2 as ending 2010-07-31; its 10-Q said
    # 2010-08-01, which Q3 (from 2010-08-02) continues. One row is kept, the other rejected.
    expected_rejects = ["0001045810|2010-07-31"] if company == "nvidia" else []
    assert [r.record_key for r in result.rejected] == expected_rejects
    for row in table.to_pylist():
        assert row["profit_margin"] == pytest.approx(row["net_income"] / row["revenue"])
        assert row["derived"] == (row["derivation"] is not None)


def test_q4_rows_are_derived_and_say_how(apple: Extracted) -> None:
    by_end = {r["period_end"]: r for r in apple.table.to_pylist()}
    q4 = by_end[date(2024, 9, 28)]
    assert q4["derived"] is True
    assert q4["derivation"] == (
        "revenue=FY-9M; net_income=FY-9M; eps_basic=null (not reported for the quarter); "
        "eps_diluted=null (not reported for the quarter)"
    )
    # The FY fact's latest filing (the FY2025 10-K) is credited.
    assert (q4["form"], q4["accession"], q4["filed"]) == (
        "10-K",
        "0000320193-25-000079",
        date(2025, 10, 31),
    )
    q3 = by_end[date(2024, 6, 29)]
    assert (q3["derived"], q3["derivation"], q3["eps_basic"]) == (False, None, 1.4)
    assert q3["revenue_concept"] == "RevenueFromContractWithCustomerExcludingAssessedTax"


def test_revenue_concept_follows_the_period(apple: Extracted) -> None:
    concepts = {r["period_end"]: r["revenue_concept"] for r in apple.table.to_pylist()}
    assert concepts[date(2016, 6, 25)] == "SalesRevenueNet"
    assert concepts[date(2017, 7, 1)] == "Revenues"  # SalesRevenueNet and Revenues agree
    assert concepts[date(2018, 6, 30)] == "RevenueFromContractWithCustomerExcludingAssessedTax"


def test_labels_come_from_the_fiscal_year_end_not_from_fy_fp(nvidia: Extracted) -> None:
    raw = json.loads(_load("0001045810"))
    facts = raw["facts"]["us-gaap"]["Revenues"]["units"]["USD"]
    filing_labels = {
        (f["fy"], f["fp"]) for f in facts if f["end"] == "2025-01-26" and f["form"] == "10-K"
    }
    assert (2026, "FY") in filing_labels  # the comparative in the FY2026 10-K says fy=2026
    by_end = {r["period_end"]: r for r in nvidia.table.to_pylist()}
    assert (
        by_end[date(2025, 1, 26)]["fiscal_year"],
        by_end[date(2025, 1, 26)]["fiscal_quarter"],
    ) == (2025, 4)
    assert (
        by_end[date(2024, 4, 28)]["fiscal_year"],
        by_end[date(2024, 4, 28)]["fiscal_quarter"],
    ) == (2025, 1)


def test_eps_is_the_latest_filed_split_adjusted_value(nvidia: Extracted) -> None:
    by_end = {r["period_end"]: r for r in nvidia.table.to_pylist()}
    # The FY2025 Q1 10-Q said 5.98; the FY2026 Q1 10-Q restated it after the 10:1 split.
    assert by_end[date(2024, 4, 28)]["eps_diluted"] == 0.6
    assert by_end[date(2024, 4, 28)]["accession"] == "0001045810-25-000116"


# Diluted EPS from the fiscal-year start to the period end (us-gaap:EarningsPerShareDiluted,
# latest 10-Q/10-K filing of the span), keyed by period end.
APPLE_YTD = {
    "2019-09-28": 2.97,  # FY2019, from the FY2021 10-K; that 10-K era also gave Q4 alone (0.76)
    "2023-12-30": 2.18,  # 3M FY2024, from the FY2025 Q1 10-Q (filed 2025-01-31)
    "2024-03-30": 3.71,  # 6M FY2024
    "2024-06-29": 5.11,  # 9M FY2024
    "2024-09-28": 6.08,  # FY2024, from the FY2025 10-K (filed 2025-10-31)
    "2024-12-28": 2.40,  # 3M FY2025
}
NVIDIA_YTD = {
    "2008-07-27": None,  # the only 6M fact runs from 2008-01-25; fiscal 2009 began 2008-01-28
    "2008-10-26": 0.20,  # 9M FY2009 from 2008-01-28 = the FY2008 10-K's year end + 1 day
    "2023-04-30": 0.82,  # 3M FY2024 as last filed, before the 2024 10:1 split
    "2025-01-26": 2.94,  # FY2025, from the FY2026 10-K (filed 2026-02-25)
    "2025-04-27": 0.76,  # 3M FY2026
    "2025-07-27": 1.84,  # 6M FY2026
    "2025-10-26": 3.14,  # 9M FY2026
    "2026-01-25": 4.90,  # FY2026
}


@pytest.mark.parametrize(("company", "expected"), [("apple", APPLE_YTD), ("nvidia", NVIDIA_YTD)])
def test_year_to_date_eps_is_the_reported_figure(
    company: str, expected: dict[str, float | None], request: pytest.FixtureRequest
) -> None:
    result: Extracted = request.getfixturevalue(company)
    rows = {r["period_end"].isoformat(): r for r in result.table.to_pylist()}
    assert {end: rows[end]["eps_diluted_ytd"] for end in expected} == expected
    for row in _rows(result):
        assert row["eps_diluted_ytd"] is not None
        if row["fiscal_quarter"] == 1:
            assert row["eps_diluted_ytd"] == row["eps_diluted"]
    # Reported, not derived: the flag and the derivation ignore it.
    assert rows["2024-06-29" if company == "apple" else "2025-10-26"]["derived"] is False


def test_snapshot_readme_names_source_and_licence() -> None:
    text = (Path(SEC_COMPANYFACTS) / "README.md").read_text()
    assert "dgunning/edgartools" in text
    assert "MIT" in text
    assert "public data" in text
