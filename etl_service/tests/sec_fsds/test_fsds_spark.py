"""Quarterly financials from the FSDS 2009q3 release on a local Spark session."""

from __future__ import annotations

import gzip
import zipfile
from collections.abc import Sequence
from datetime import date
from pathlib import Path
from typing import Any

import pytest

from etl_service.errors import EngineError, InputError, SchemaError
from etl_service.snapshot import SEC_COMPANYFACTS
from etl_service.src.adapters.sec.quarterly import extract_quarterly
from etl_service.src.models.records import Extracted
from etl_service.src.models.schemas import QUARTERLY_REPORTS, arrow_schema
from etl_service.tests.conftest import require
from etl_service.tests.sec_fsds.conftest import QUARTER_2009Q3, SHARED_2009Q3
from etl_service.tests.sec_fsds.quarters import SUB_HEADER, write_quarter

pytestmark = [
    pytest.mark.spark,
    # pyspark 4.x warns that it does not fully support pandas 3; the paths used here work
    pytest.mark.filterwarnings("ignore:PySpark does not yet fully support pandas:FutureWarning"),
]

APPLE, NVIDIA, WALMART = "0000320193", "0001045810", "0000104169"
APPLE_10Q = "0001193125-09-153165"


def _read(spark: Any, paths: Sequence[Path]) -> Extracted:
    # imported here: the module needs pyspark, which the spark fixture checks for
    from etl_service.engines.spark.fsds import read_fsds

    return read_fsds(spark, paths)


def _rows(extracted: Extracted) -> dict[tuple[str, date], dict[str, Any]]:
    return {(r["cik"], r["period_end"]): r for r in extracted.table.to_pylist()}


@pytest.fixture(scope="module")
def q3(spark: Any) -> Extracted:
    return _read(spark, [QUARTER_2009Q3])


def test_output_is_the_canonical_schema_one_row_per_company_quarter(q3: Extracted) -> None:
    assert q3.table.schema == arrow_schema(QUARTERLY_REPORTS)
    assert q3.table.num_rows == 16
    keys = [(r["cik"], r["period_end"]) for r in q3.table.to_pylist()]
    assert keys == sorted(set(keys))
    assert len({cik for cik, _ in keys}) == 8
    assert q3.rejected == []


def test_apple_fiscal_2009_q3_as_originally_reported(q3: Extracted) -> None:
    row = _rows(q3)[(APPLE, date(2009, 6, 30))]

    assert row == {
        "cik": APPLE,
        "fiscal_year": 2009,
        "fiscal_quarter": 3,
        # FSDS rounds ddate to the month end: the filing's quarter is 2009-03-29..2009-06-27
        "period_start": date(2009, 4, 1),
        "period_end": date(2009, 6, 30),
        "revenue": 8_337_000_000,
        "net_income": 1_229_000_000,
        "eps_basic": 1.38,
        "eps_diluted": 1.35,
        "eps_diluted_ytd": 4.47,
        "profit_margin": pytest.approx(1_229_000_000 / 8_337_000_000),
        "revenue_concept": "SalesRevenueNet",
        "form": "10-Q",
        "accession": APPLE_10Q,
        "filed": date(2009, 7, 22),
        "derived": False,
        "derivation": None,
        "eps_diluted_filed": date(2009, 7, 22),
        "eps_diluted_ytd_filed": date(2009, 7, 22),
    }
    prior = _rows(q3)[(APPLE, date(2008, 6, 30))]
    assert (prior["fiscal_year"], prior["fiscal_quarter"]) == (2008, 3)
    assert (prior["revenue"], prior["net_income"], prior["eps_diluted"]) == (
        7_464_000_000,
        1_072_000_000,
        1.19,
    )


def test_nvidia_and_walmart_are_labelled_from_their_fiscal_year_end(q3: Extracted) -> None:
    # sub.txt says fy=2009 fp=Q2 for NVIDIA's filing; its fiscal year ends in January
    # (fye 0131), so the quarter ending July 2009 is fiscal 2010 Q2
    rows = _rows(q3)
    nvidia = rows[(NVIDIA, date(2009, 7, 31))]
    assert (nvidia["fiscal_year"], nvidia["fiscal_quarter"]) == (2010, 2)
    assert nvidia["period_start"] == date(2009, 5, 1)
    assert (nvidia["revenue"], nvidia["net_income"]) == (776_520_000, -105_302_000)
    assert (nvidia["eps_basic"], nvidia["eps_diluted"], nvidia["eps_diluted_ytd"]) == (
        -0.19,
        -0.19,
        -0.56,
    )
    assert (nvidia["form"], nvidia["accession"]) == ("10-Q", "0001045810-09-000024")
    walmart = rows[(WALMART, date(2009, 7, 31))]
    assert (walmart["fiscal_year"], walmart["fiscal_quarter"]) == (2010, 2)
    assert (walmart["revenue"], walmart["revenue_concept"]) == (100_910_000_000, "Revenues")
    assert (walmart["net_income"], walmart["eps_diluted"]) == (3_442_000_000, 0.88)
    assert any(
        "CIK 0000104169: revenue candidates disagree for 2009-05-01..2009-07-31" in w
        for w in q3.warnings
    )


def test_amendments_and_filters_follow_the_companyfacts_rules(q3: Extracted) -> None:
    rows = _rows(q3)
    # Qwest: the 10-Q/A filed a day after the 10-Q wins; Express Scripts: two 10-Q/A the
    # same day, the later accession wins
    qwest = rows[("0001037949", date(2009, 6, 30))]
    assert (qwest["form"], qwest["accession"], qwest["filed"]) == (
        "10-Q/A",
        "0001047469-09-007075",
        date(2009, 7, 31),
    )
    assert rows[("0000885721", date(2009, 6, 30))]["accession"] == "0000885721-09-000066"
    # Exxon's ProfitLoss is a company extension (version = adsh): only us-gaap counts
    exxon = rows[("0000034088", date(2009, 6, 30))]
    assert (exxon["revenue"], exxon["net_income"]) == (None, 3_950_000_000)
    # AES also filed an 8-K, which does not count
    assert rows[("0000874761", date(2009, 6, 30))]["form"] == "10-Q"
    assert {cik for cik, _ in rows}.isdisjoint({"0000016868", "0000049938", "0000065100"})
    warnings = "\n".join(q3.warnings)
    assert "CIK 0000049938: NetIncomeLoss reported in unexpected unit 'CAD'" in warnings
    assert "EarningsPerShareDiluted reported in unexpected unit 'CAD/shares'" in warnings
    assert "CIK 0000065100 (MERRILL LYNCH & CO., INC.) filed 10-Q 0000950123-09-032231" in warnings
    assert "CIK 0001002638 has no quarterly revenue or net income facts; skipped" in warnings


def test_apple_matches_companyfacts_except_for_a_later_restatement(q3: Extracted) -> None:
    body = gzip.decompress((SEC_COMPANYFACTS / "CIK0000320193.json.gz").read_bytes())
    facts = {
        (r["fiscal_year"], r["fiscal_quarter"]): r
        for r in extract_quarterly(body, "companyfacts").table.to_pylist()
    }
    fsds = {(r["fiscal_year"], r["fiscal_quarter"]): r for r in q3.table.to_pylist()}
    exact_dates = ("period_start", "period_end")

    # fiscal 2008 Q3 was never restated: every value and the filing are the same; only the
    # dates differ (companyfacts 2008-03-30..2008-06-28, FSDS rounded to month ends)
    same = [c for c in QUARTERLY_REPORTS.column_names if c not in exact_dates]
    assert {c: fsds[(2008, 3)][c] for c in same} == {c: facts[(2008, 3)][c] for c in same}
    assert facts[(2008, 3)]["period_end"] == date(2008, 6, 28)
    # fiscal 2009 Q3: companyfacts keeps the latest filed value, the 10-K of 2010-10-27
    # restated for the retrospective change in revenue recognition (iPhone, Apple TV);
    # the 2009q3 release holds the 10-Q as originally filed
    assert (facts[(2009, 3)]["revenue"], facts[(2009, 3)]["net_income"]) == (
        9_734_000_000,
        1_828_000_000,
    )
    assert (facts[(2009, 3)]["form"], facts[(2009, 3)]["filed"]) == ("10-K", date(2010, 10, 27))
    assert (fsds[(2009, 3)]["revenue"], fsds[(2009, 3)]["net_income"]) == (
        8_337_000_000,
        1_229_000_000,
    )


def _amendment_quarter(folder: Path) -> Path:
    """A later quarter in which Apple amends its 2009-06 quarter's revenue."""
    adsh = "0001193125-09-999999"
    sub = [(adsh, "320193", "APPLE INC", "10-Q/A", "20091105", "0930", "2009", "Q3")]
    num = [
        (adsh, "SalesRevenueNet", "us-gaap/2008", "", "20090630", "1", "USD", "9000000000", ""),
        (adsh, "SalesRevenueNet", "us-gaap/2008", "", "20090630", "3", "USD", "1.0E10", ""),
    ]
    return write_quarter(folder, sub, num)


def test_zip_and_several_quarters_latest_filed_wins(
    spark: Any, q3: Extracted, tmp_path: Path
) -> None:
    archive = tmp_path / "2009q3.zip"
    with zipfile.ZipFile(archive, "w") as zf:
        for name in ("sub.txt", "num.txt"):
            zf.writestr(name, gzip.decompress((QUARTER_2009Q3 / f"{name}.gz").read_bytes()))

    both = _read(spark, [archive, _amendment_quarter(tmp_path / "2009q4")])

    amended = _rows(both)[(APPLE, date(2009, 6, 30))]
    assert (amended["revenue"], amended["net_income"]) == (9_000_000_000, 1_229_000_000)
    assert (amended["form"], amended["accession"], amended["filed"]) == (
        "10-Q/A",
        "0001193125-09-999999",
        date(2009, 11, 5),
    )
    assert f"{archive}/sub.txt: CIK 0000065100 (MERRILL LYNCH & CO., INC.)" in "\n".join(
        both.warnings
    )
    unchanged = {k: v for k, v in _rows(both).items() if k != (APPLE, date(2009, 6, 30))}
    assert unchanged == {k: v for k, v in _rows(q3).items() if k != (APPLE, date(2009, 6, 30))}


def test_bad_rows_are_rejected_with_file_field_and_value(spark: Any, tmp_path: Path) -> None:
    good, bad_filed, other = "0000000001-09-000001", "0000000002-09-000001", "0000000003-09-000001"
    sub = [
        (good, "1", "GOOD CO", "10-Q", "20090805", "1231", "2009", "Q2"),
        (bad_filed, "2", "BAD DATE CO", "10-Q", "2009-08-05", "1231", "2009", "Q2"),
        (other, "3", "FOREIGN CO", "6-K", "20090805", "1231", "2009", "Q2"),
    ]

    def num(adsh: str, tag: str, ddate: str, qtrs: str, value: str) -> tuple[str, ...]:
        return (adsh, tag, "us-gaap/2009", "", ddate, qtrs, "USD", value, "")

    rows = [
        num(good, "Revenues", "20090630", "1", "1000.0000"),
        num(good, "NetIncomeLoss", "20090630", "1", "100.0000"),
        num(good, "Revenues", "20080630", "1", "12,5x"),
        num(good, "NetIncomeLoss", "2008063O", "1", "90"),
        num(good, "NetIncomeLoss", "20070630", "one", "80"),
        num(good, "ProfitLoss", "20090630", "1", ""),
        num(good, "Revenues", "20090630", "0", "abc"),  # an instant: never read
        num(good, "Assets", "20090630", "0", "not read either"),
        num(bad_filed, "Revenues", "20090630", "1", "5"),
        num(other, "Revenues", "20090630", "1", "7"),  # a 6-K: not counted
        num("0000000009-09-000001", "Revenues", "20090630", "1", "9"),
    ]
    folder = write_quarter(tmp_path / "bad", sub, rows)
    sub_file, num_file = folder / "sub.txt", folder / "num.txt"

    extracted = _read(spark, [folder])

    assert [(r["cik"], r["revenue"], r["net_income"]) for r in extracted.table.to_pylist()] == [
        ("0000000001", 1000, 100)
    ]
    assert sorted((r.record_key, r.reason) for r in extracted.rejected) == [
        (
            f"{good}|NetIncomeLoss|20070630|one",
            f"{num_file}: not a number of quarters (field 'qtrs', value 'one')",
        ),
        (
            f"{good}|NetIncomeLoss|2008063O|1",
            f"{num_file}: not a yyyymmdd date (field 'ddate', value '2008063O')",
        ),
        (
            f"{good}|ProfitLoss|20090630|1",
            f"{num_file}: no value, nil in the filing (field 'value')",
        ),
        (
            f"{good}|Revenues|20080630|1",
            f"{num_file}: not a finite number (field 'value', value '12,5x')",
        ),
        (
            f"{bad_filed}|Revenues|20090630|1",
            f"{sub_file}: not a yyyymmdd date (field 'filed', value '2009-08-05')",
        ),
        (
            "0000000009-09-000001|Revenues|20090630|1",
            f"{num_file}: submission 0000000009-09-000001 is not in sub.txt",
        ),
    ]
    assert extracted.rejected[0].table == "quarterly_reports"
    assert {r.source for r in extracted.rejected} == {str(num_file)}
    assert any(
        w.startswith(f"{sub_file}: CIK 0000000002 (BAD DATE CO) filed 10-Q")
        for w in extracted.warnings
    )


def test_missing_file_and_wrong_header_fail_before_any_spark_job(
    spark: Any, tmp_path: Path
) -> None:
    missing = tmp_path / "2009q3"
    missing.mkdir()
    (missing / "sub.txt").write_text("\t".join(SUB_HEADER) + "\n")
    wrong = write_quarter(
        tmp_path / "2009q4", [], [], num_header=("adsh", "tag", "version", "ddate", "qtrs")
    )

    with pytest.raises(InputError, match=r"missing file num\.txt") as info:
        _read(spark, [QUARTER_2009Q3, missing])
    assert info.value.source == str(missing)
    with pytest.raises(SchemaError, match="missing column in the header") as schema_info:
        _read(spark, [wrong])
    assert (schema_info.value.source, schema_info.value.field) == (
        str(wrong / "num.txt"),
        "uom",
    )
    with pytest.raises(InputError, match="no quarter given"):
        _read(spark, [])


# toPandas warns before it re-raises a failure in the middle of an Arrow collection
@pytest.mark.filterwarnings("ignore:toPandas attempted Arrow optimization:UserWarning")
def test_truncated_gzip_is_an_engine_error_naming_the_input(spark: Any, tmp_path: Path) -> None:
    folder = tmp_path / "2009q3"
    folder.mkdir()
    (folder / "sub.txt.gz").write_bytes((QUARTER_2009Q3 / "sub.txt.gz").read_bytes())
    (folder / "num.txt.gz").write_bytes((QUARTER_2009Q3 / "num.txt.gz").read_bytes()[:30_000])

    with pytest.raises(EngineError) as info:
        _read(spark, [folder])

    message = str(info.value)
    assert message.startswith(f"Spark failed reading {folder}: ")
    assert f"{folder / 'num.txt.gz'}" in message
    assert message.endswith("caused by java.io.EOFException: Unexpected end of input stream")


def test_the_complete_2009q3_release(spark: Any) -> None:
    require(SHARED_2009Q3.is_dir(), f"shared data missing: {SHARED_2009Q3}")

    full = _read(spark, [SHARED_2009Q3])

    assert full.table.num_rows == 828
    assert full.rejected == []
    row = _rows(full)[(APPLE, date(2009, 6, 30))]
    assert (row["revenue"], row["accession"]) == (8_337_000_000, APPLE_10Q)
