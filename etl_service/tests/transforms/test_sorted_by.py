"""``sorted_by``: key order without a sort when the table already has it, else Arrow's sort."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, timedelta

import pyarrow as pa
import pytest

from etl_service.src.transforms.sql_runner import MIN_RUN_ROWS, sorted_by

pytestmark = pytest.mark.unit

KEYS = ("ticker", "date")


def closes(rows: Sequence[tuple[str | None, date, float]], chunks: int = 1) -> pa.Table:
    table = pa.table(
        {
            "ticker": [r[0] for r in rows],
            "date": pa.array([r[1] for r in rows], pa.date32()),
            "close": [r[2] for r in rows],
        }
    )
    if chunks == 1 or len(rows) < chunks:
        return table
    size = -(-len(rows) // chunks)
    return pa.concat_tables(table.slice(i, size) for i in range(0, len(rows), size))


IN_ORDER = [
    ("AAPL", date(2024, 1, 2), 185.6),
    ("AAPL", date(2024, 1, 3), 184.3),
    ("AAPL", date(2024, 1, 3), 184.3),  # a tie keeps its place
    ("MSFT", date(2023, 12, 29), 376.0),
    ("MSFT", date(2024, 1, 2), 370.9),
]


@pytest.mark.parametrize("chunks", [1, 2, 5])
def test_a_table_in_key_order_is_returned_as_it_is(chunks: int) -> None:
    table = closes(IN_ORDER, chunks)
    assert sorted_by(table, KEYS) is table


@pytest.mark.parametrize(
    "rows",
    [
        [IN_ORDER[1], IN_ORDER[0], *IN_ORDER[2:]],  # dates out of order within a ticker
        [*IN_ORDER[3:], *IN_ORDER[:3]],  # tickers out of order, dates of each in order
        [IN_ORDER[0], IN_ORDER[3], IN_ORDER[1]],  # a later ticker between two rows
    ],
)
@pytest.mark.parametrize("chunks", [1, 2])
def test_a_table_out_of_order_is_sorted(rows: list[tuple[str, date, float]], chunks: int) -> None:
    table = closes(rows, chunks)
    result = sorted_by(table, KEYS)
    assert result.to_pylist() == table.sort_by([(k, "ascending") for k in KEYS]).to_pylist()
    assert result is not table


def test_null_keys_are_left_to_the_sort() -> None:
    table = closes([(None, date(2024, 1, 2), 1.0), ("AAPL", date(2024, 1, 2), 2.0)])
    assert sorted_by(table, KEYS)["ticker"].to_pylist() == ["AAPL", None]


def test_empty_and_single_row_tables_are_in_order() -> None:
    for rows in ([], IN_ORDER[:1]):
        table = closes(rows)
        assert sorted_by(table, KEYS) is table


def _series(ticker: str, days: int, first_day: int = 1) -> list[tuple[str | None, date, float]]:
    start = date(2024, 1, 1) + timedelta(days=first_day)
    return [(ticker, start + timedelta(days=i), float(i)) for i in range(days)]


def _same_as_a_sort(table: pa.Table) -> pa.Table:
    result = sorted_by(table, KEYS)
    assert result.to_pylist() == table.sort_by([(k, "ascending") for k in KEYS]).to_pylist()
    return result


def test_runs_of_tickers_each_in_date_order_are_reordered_without_copying() -> None:
    days = MIN_RUN_ROWS + 5
    table = closes([*_series("MSFT", days), *_series("AAPL", days), *_series("IBM", days)], 2)
    result = _same_as_a_sort(table)
    # zero-copy: every chunk of the result is a slice over the input's own buffers
    inputs = {chunk.buffers()[1].address for chunk in table["close"].chunks}
    assert {chunk.buffers()[1].address for chunk in result["close"].chunks} <= inputs


@pytest.mark.parametrize(
    "rows",
    [
        # a ticker in two separate runs
        [*_series("MSFT", 70), *_series("AAPL", 70), *_series("MSFT", 70, first_day=100)],
        # a run out of date order
        [*_series("MSFT", 70), *_series("AAPL", 70)[::-1]],
        # runs too short to slice
        [*_series("MSFT", 3), *_series("AAPL", 3)],
    ],
    ids=["split run", "run out of order", "short runs"],
)
def test_other_orders_get_a_full_sort(rows: list[tuple[str | None, date, float]]) -> None:
    table = closes(rows)
    result = _same_as_a_sort(table)
    assert result.column("close").num_chunks == 1  # a sort's fresh copy, not slices
