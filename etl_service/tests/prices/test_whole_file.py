"""Clean daily price files read whole with pyarrow: the same closes as row by row, and any
doubt sends the file to the row path with its file:line reasons."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pyarrow as pa
import pytest

from etl_service.src.adapters.prices import base
from etl_service.src.adapters.prices.base import EARLIEST_DATE, PriceValidator
from etl_service.src.adapters.prices.daily_csv import DailyCsvFolder
from etl_service.src.adapters.prices.files import read_prices
from etl_service.src.adapters.prices.whole_file import CleanSeries, read_clean

pytestmark = pytest.mark.unit

HEADER = "Date,Open,High,Low,Close,Volume"
FIELDS = {"Date": 0, "Open": 1, "High": 2, "Low": 3, "Close": 4, "Volume": 5}
GOOD = [
    "2024-01-02,10,11,9,10.5,1000",
    "2024-01-03,10.5,12,10,11.25,2000",
    "2024-01-04,11,11.5,10.5,1.1e1,3000",
]


def _clean(*rows: str) -> tuple[pa.Array, pa.Array, dict[str, pa.Array]] | None:
    text = "\n".join([HEADER, *rows]) + "\n"
    return read_clean(text, HEADER.split(","), FIELDS, EARLIEST_DATE, date(2030, 1, 1))


def test_a_clean_file_gives_its_dates_closes_and_raw_cells() -> None:
    result = _clean(*GOOD)
    assert result is not None
    dates, closes, cells = result
    assert dates.to_pylist() == [date(2024, 1, 2), date(2024, 1, 3), date(2024, 1, 4)]
    assert closes.to_pylist() == [10.5, 11.25, 11.0]
    assert cells["Close"].to_pylist() == ["10.5", "11.25", "1.1e1"]


@pytest.mark.parametrize(
    "bad",
    [
        '2024-01-05,1,1,1,"12",1',  # quoted
        "",  # a blank line
        "2024-1-05,1,1,1,12,1",  # not strict ISO
        "20240105,1,1,1,12,1",  # ISO basic: fromisoformat reads it, Arrow does not
        "2024-02-30,1,1,1,12,1",  # no such day
        "2031-01-05,1,1,1,12,1",  # after the latest date
        "1899-12-29,1,1,1,12,1",  # before 1900 (and out of order)
        "2024-01-05,1,1,1,1_000,1",  # float() reads it; not plain
        "2024-01-05,1,1,1,nan,1",
        "2024-01-05,1,1,1,1e400,1",  # not finite
        "2024-01-05,1,1,1,0,1",  # not positive
        "2024-01-05,1,1,1, 12,1",  # spaces
        "2024-01-04,1,1,1,12,1",  # a duplicate date
        "2024-01-01,1,1,1,12,1",  # out of order
        "2024-01-05,1,1,1,12",  # a missing field
        "2024-01-05,1,1,1,12,1,7",  # an extra field
    ],
)
def test_any_doubt_leaves_the_file_to_the_row_path(bad: str) -> None:
    assert _clean(*GOOD, bad) is None


def test_the_snapshot_folder_reads_the_same_whole_as_row_by_row(
    stooq_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    whole = DailyCsvFolder(stooq_dir).closes()
    monkeypatch.setattr(base.PriceValidator, "takes_series", lambda _self, _ticker: False)
    rows = DailyCsvFolder(stooq_dir).closes()
    order = [("ticker", "ascending"), ("date", "ascending")]
    assert whole.table.num_rows == 41_684
    assert whole.table.sort_by(order).equals(rows.table.sort_by(order))
    assert whole.rejected == rows.rejected == []


def test_every_snapshot_file_is_clean_enough_to_be_read_whole(
    stooq_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    added: list[str] = []
    original = PriceValidator.add_series

    def add_series(self: PriceValidator, series: CleanSeries) -> None:
        added.append(series.ticker)
        original(self, series)

    monkeypatch.setattr(PriceValidator, "add_series", add_series)
    DailyCsvFolder(stooq_dir).closes()
    assert len(added) == 20


def test_a_later_row_of_a_whole_file_ticker_is_checked_against_its_rows(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (tmp_path / "aapl.us.csv").write_text(f"{HEADER}\n2024-01-03,1,1,1,99,1\n")  # read first
    (tmp_path / "aapl.us.txt").write_text("\n".join([HEADER, *GOOD]) + "\n")
    whole = read_prices(tmp_path)
    monkeypatch.setattr(base.PriceValidator, "takes_series", lambda _self, _ticker: False)
    rows = read_prices(tmp_path)
    csv, txt = tmp_path / "aapl.us.csv", tmp_path / "aapl.us.txt"
    reasons = sorted(r.reason for r in whole.rejected)
    assert reasons == sorted(r.reason for r in rows.rejected)
    assert f"{csv}:2: duplicate date 2024-01-03 for AAPL (also {txt}:3)" in reasons
    assert f"{txt}:3: duplicate date 2024-01-03 for AAPL" in reasons
    assert [r.record for r in whole.rejected] == [r.record for r in rows.rejected]
    assert whole.table.equals(rows.table)
