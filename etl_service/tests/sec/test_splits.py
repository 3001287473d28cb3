"""Stock splits from companyfacts: Apple's and NVIDIA's real ones, a 3:2, and corrections."""

from __future__ import annotations

import gzip
from datetime import date
from typing import Any

import pytest

from etl_service.snapshot import SEC_COMPANYFACTS
from etl_service.src.adapters.sec.quarterly import extract_quarterly
from etl_service.src.adapters.sec.splits import clean_ratio
from etl_service.src.models.schemas import SPLIT_EVENTS, arrow_schema
from etl_service.tests.sec.builders import body, companyfacts, fact

pytestmark = pytest.mark.unit

APPLE, NVIDIA = "0000320193", "0001045810"
Event = tuple[date, date, float, str]
"""(old_basis_before, new_basis_from, split_ratio, split)."""


def _real(cik: str) -> dict[str, Any]:
    extracted = extract_quarterly(
        gzip.decompress((SEC_COMPANYFACTS / f"CIK{cik}.json.gz").read_bytes()), f"CIK{cik}"
    )
    events = extracted.related[SPLIT_EVENTS.name]
    assert events.schema == arrow_schema(SPLIT_EVENTS)
    return {
        "events": events.to_pylist(),
        "reports": {r["period_end"]: r for r in extracted.table.to_pylist()},
    }


def _events(rows: list[dict[str, Any]]) -> list[Event]:
    return [
        (r["old_basis_before"], r["new_basis_from"], r["split_ratio"], r["split"]) for r in rows
    ]


def test_apple_7_for_1_in_2014_and_4_for_1_in_2020() -> None:
    events = _real(APPLE)["events"]
    # The ratio facts name the distribution days, 2014-06-06 and 2020-08-28 (Fridays): the
    # shares traded on the new basis from the next trading day, 2014-06-09 and 2020-08-31.
    assert _events(events) == [
        (date(2014, 6, 6), date(2014, 6, 7), 7.0, "7-for-1"),
        (date(2020, 8, 28), date(2020, 8, 29), 4.0, "4-for-1"),
    ]
    # The EPS agree: the 10-Q of 2014-04-24 still had FY2013 Q2 at 10.09, the one of
    # 2014-07-23 has it at 1.44 (and FY2012 went from 44.15 to 6.31 in the 10-K).
    assert events[0]["derivation"] == (
        "ratio fact 7 dated 2014-06-06 (filed 2014-10-27); EPS of 10 periods refiled divided "
        "by 7 (old basis last filed 2014-04-24, new basis first filed 2014-07-23)"
    )
    assert events[1]["derivation"].startswith("ratio fact 4 dated 2020-08-28 (filed 2021-07-28)")


def test_nvidia_4_for_1_in_2021_and_10_for_1_in_2024() -> None:
    events = _real(NVIDIA)["events"]
    # 2021: the latest filed ratio fact names 2021-07-19, the distribution day (the first
    # filings named 2021-06-03, the day shareholders approved). 2024: the fact is a duration,
    # June 2024 (the split took effect on 2024-06-10), so the basis of June days is unknown.
    assert _events(events) == [
        (date(2021, 7, 19), date(2021, 7, 20), 4.0, "4-for-1"),
        (date(2024, 6, 1), date(2024, 7, 1), 10.0, "10-for-1"),
    ]
    assert events[1]["derivation"] == (
        "ratio fact 10 dated 2024-06-01..2024-06-30 (filed 2025-05-28); EPS of 7 periods "
        "refiled divided by 10 (old basis last filed 2024-05-29, new basis first filed "
        "2024-08-28)"
    )


def test_each_eps_figure_carries_its_filing_date() -> None:
    reports = _real(APPLE)["reports"]
    fy2012_q4 = reports[date(2012, 9, 29)]
    # 8.67 (the quarter) was last filed in the FY2013 10-K, before the 7-for-1 split; the
    # fiscal-year 6.31 in the FY2014 10-K, after it.
    assert (fy2012_q4["eps_diluted"], fy2012_q4["eps_diluted_filed"]) == (8.67, date(2013, 10, 30))
    assert (fy2012_q4["eps_diluted_ytd"], fy2012_q4["eps_diluted_ytd_filed"]) == (
        6.31,
        date(2014, 10, 27),
    )


@pytest.mark.parametrize(
    ("old", "new", "ratio"),
    [
        (44.15, 6.31, 7),  # Apple FY2012, 2014
        (3.75, 0.37, 10),  # NVIDIA FY2024 Q3 basic: 5 cents off 10 x 0.37, within rounding
        (2.18, 0.55, 4),  # Apple FY2019 Q3, 2020
        (1.25, 0.83, 1.5),  # 3-for-2: 1.25 / 1.5 = 0.833 rounds to 0.83
        (0.15, 1.50, 0.1),  # 1-for-10 reverse split
        (6.29, 9.08, None),  # Apple FY2009 restated in 2010 for a new revenue accounting
        (0.92, 1.71, None),  # NVIDIA FY2018 6M: a quarter's 0.92 tagged as six months
        (2.00, 1.93, None),  # a correction
        (0.08, 0.02, None),  # too small to tell a ratio from rounding
        (1.00, -0.50, None),
    ],
)
def test_clean_ratio_within_cents_rounding(old: float, new: float, ratio: float | None) -> None:
    found = clean_ratio(old, new)
    assert (None if found is None else float(found)) == ratio


# A company with fiscal years ending in June whose 10-Qs and 10-K state diluted and basic EPS.
Q1_2014, Q3_2014, M9_2014 = (
    ("2013-07-01", "2013-09-30"),
    ("2014-01-01", "2014-03-31"),
    ("2013-07-01", "2014-03-31"),
)


def _eps(period: tuple[str, str], value: float, filed: str) -> dict[str, Any]:
    return fact(*period, value, filed=filed, accn=f"0000080424-{filed}")


def _document(
    diluted: list[tuple[tuple[str, str], float, str]],
    ratio_facts: list[dict[str, Any]] | None = None,
) -> dict[str, Any]:
    doc = companyfacts(
        {"EarningsPerShareDiluted": [_eps(period, v, filed) for period, v, filed in diluted]}
    )
    if ratio_facts:
        doc["facts"]["us-gaap"]["StockholdersEquityNoteStockSplitConversionRatio1"] = {
            "units": {"pure": ratio_facts}
        }
    return doc


def _synthetic(doc: dict[str, Any]) -> list[dict[str, Any]]:
    extracted = extract_quarterly(body(doc), "synthetic.json")
    rows: list[dict[str, Any]] = extracted.related[SPLIT_EVENTS.name].to_pylist()
    return rows


# Filed before a 3-for-2 split (10-Qs of 2013-11-05 and 2014-05-08), then again after it in
# the comparative columns of the next year's 10-Qs (2014-11-06 and 2015-05-07).
THREE_FOR_TWO = [
    (Q1_2014, 1.20, "2013-11-05"),
    (Q3_2014, 1.25, "2014-05-08"),
    (M9_2014, 3.70, "2014-05-08"),
    (Q1_2014, 0.80, "2014-11-06"),
    (Q3_2014, 0.83, "2015-05-07"),
    (M9_2014, 2.47, "2015-05-07"),
]


def test_a_3_for_2_split_from_restated_eps_alone() -> None:
    [event] = _synthetic(_document(THREE_FOR_TWO))
    # The new basis started after the last old filing (2014-05-08) and by the first new one.
    assert (event["old_basis_before"], event["new_basis_from"]) == (
        date(2014, 5, 9),
        date(2014, 11, 6),
    )
    assert (event["split_ratio"], event["split"]) == (1.5, "3-for-2")
    assert event["derivation"] == (
        "EPS of 3 periods refiled divided by 3/2 (old basis last filed 2014-05-08, new basis "
        "first filed 2014-11-06)"
    )


def test_a_ratio_fact_dates_the_split_within_the_eps_window() -> None:
    ratio = {"end": "2014-06-13", "val": 1.5, "accn": "a", "form": "10-Q", "filed": "2014-11-06"}
    [event] = _synthetic(_document(THREE_FOR_TWO, [ratio]))
    assert (event["old_basis_before"], event["new_basis_from"]) == (
        date(2014, 6, 13),
        date(2014, 6, 14),
    )
    assert event["derivation"].startswith("ratio fact 3/2 dated 2014-06-13 (filed 2014-11-06); ")
    # Alone, the fact still makes a split, and says that no EPS confirms it.
    [alone] = _synthetic(_document(THREE_FOR_TWO[:3], [ratio]))
    assert alone["split"] == "3-for-2"
    assert alone["derivation"].endswith("; no EPS restated by it")


def test_corrections_are_not_splits() -> None:
    corrected = [
        (Q1_2014, 2.00, "2013-11-05"),
        (Q3_2014, 1.50, "2014-05-08"),
        (Q1_2014, 1.93, "2014-11-06"),  # not a clean ratio
        (Q3_2014, 1.00, "2015-05-07"),  # 3/2 exactly, but one period alone
    ]
    assert _synthetic(_document(corrected)) == []


def test_a_restatement_across_two_splits_is_theirs_not_a_third() -> None:
    # Two periods refiled divided by 2 around mid-2014, two by 5 around 2020, and two not
    # filed between 2013 and 2021, so divided by 10: that is 2 x 5, not a 10-for-1 split.
    periods = [(f"{y}-01-01", f"{y}-03-31") for y in (2011, 2012, 2017, 2018, 2008, 2009)]
    filings = [
        (periods[0], 14.00, "2014-04-24", 7.00, "2014-07-23"),
        (periods[1], 21.00, "2014-04-24", 10.50, "2014-10-27"),
        (periods[2], 8.00, "2020-07-31", 1.60, "2020-10-30"),
        (periods[3], 12.00, "2020-07-31", 2.40, "2020-10-30"),
        (periods[4], 10.00, "2013-10-30", 1.00, "2021-01-28"),
        (periods[5], 20.00, "2013-10-30", 2.00, "2021-01-28"),
    ]
    doc = _document(
        [
            (p, v, f)
            for p, old, f_old, new, f_new in filings
            for v, f in ((old, f_old), (new, f_new))
        ]
    )
    assert [e["split"] for e in _synthetic(doc)] == ["2-for-1", "5-for-1"]
