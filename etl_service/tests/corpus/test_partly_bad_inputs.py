"""A file that is fine but for some values: those rows or facts are rejected with a reason
naming them, and the rest goes on (exit 0)."""

from __future__ import annotations

import csv
import io
from pathlib import Path

import pytest

from etl_service.cli import main
from etl_service.tests.corpus import builders as b

pytestmark = pytest.mark.unit


def _rows(out: Path) -> list[dict[str, str]]:
    return list(csv.DictReader(io.StringIO(out.read_text())))


def test_bad_price_rows_are_rejected_by_line_and_the_others_kept(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    lines = [
        "2024-01-02,1,1,1,10.5,1",
        "2024-01-03,1,1,1,1\xe9,1",  # Latin-1
        '2024-01-04,1,1,1,"' + "9" * b.LONG_LINE + '",1',  # over the csv field limit
        "2024-01-05,1,1,1,NaN,1",
        "2024-01-08,1,1,1,1e400,1",
        "2999-01-02,1,1,1,11,1",
        "1850-01-02,1,1,1,11,1",
        "2024-01-09,1,1,1,11.5,1",
    ]
    given = b.file("aapl.us.txt", b.daily(*lines, encoding="latin-1"))(tmp_path)
    out = tmp_path / "closes.csv"

    assert main(["extract", "prices", "--input", str(given), "--out", str(out)]) == 0

    assert [(r["date"], r["close"]) for r in _rows(out)] == [
        ("2024-01-02", "10.5"),
        ("2024-01-09", "11.5"),
    ]
    err = capsys.readouterr().err
    for reason in (
        f"{given}:3: not UTF-8 text: byte b'\\xe9' at offset ",
        f"{given}:4: unreadable CSV line: field larger than field limit",
        f"{given}:5: Close 'NaN' is not a finite number",
        f"{given}:6: Close '1e400' is not a finite number",
        f"{given}:7: date 2999-01-02 is in the future",
        f"{given}:8: date 1850-01-02 is before 1900",
    ):
        assert reason in err
    assert "Traceback" not in err


def test_out_of_range_facts_are_rejected_naming_cik_concept_period_and_value(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    body = b.companyfacts(1_000_000).replace(
        b'"start": "2013-10-01", "end": "2013-12-31", "val": 1000000',
        b'"start": "2013-10-01", "end": "2013-12-31", "val": NaN',
    )
    given = b.file("CIK0000080424.json", body)(tmp_path)
    out = tmp_path / "reports.csv"

    assert main(["extract", "financials", "--input", str(given), "--out", str(out)]) == 0

    assert [(r["period_end"], r["revenue"]) for r in _rows(out)] == [("2013-09-30", "1000000")]
    err = capsys.readouterr().err
    assert (
        "fact rejected: CIK 0000080424: Revenues 2013-10-01..2013-12-31 value nan is not a "
        "finite number"
    ) in err
