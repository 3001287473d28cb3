"""The loader's contract, run on every database: idempotent, atomic, change-skipping."""

from __future__ import annotations

import pyarrow as pa
import pytest
import sqlalchemy as sa

from etl_service.errors import LoadError
from etl_service.src.db.loader import TableLoad, load_tables
from etl_service.src.models.schemas import (
    COMPANIES,
    PRICES_PE,
    QUARANTINE,
    LoadMode,
    arrow_schema,
)
from etl_service.tests.support.builders import quarterly_reports


def _fetch(engine: sa.Engine, table: str) -> list[tuple[object, ...]]:
    with engine.connect() as conn:
        return [tuple(r) for r in conn.execute(sa.text(f"SELECT * FROM {table} ORDER BY 1, 5"))]


def test_first_load_then_identical_rerun_writes_nothing(engine: sa.Engine) -> None:
    data = quarterly_reports([100, 200, 300, None])
    assert load_tables(engine, {"quarterly_reports": data}, {}) == {
        "quarterly_reports": TableLoad(4, 4, 0)
    }
    before = _fetch(engine, "quarterly_reports")
    assert load_tables(engine, {"quarterly_reports": data}, {}) == {
        "quarterly_reports": TableLoad(4, 0, 0)
    }
    assert _fetch(engine, "quarterly_reports") == before
    assert before[0][11] == 'Revenues, with ünïcode and "quotes", commas'
    assert before[0][13] == ""
    assert before[0][14] is None
    assert before[3][5] is None


def test_changed_rows_update_and_sync_deletes_missing_keys(engine: sa.Engine) -> None:
    load_tables(engine, {"quarterly_reports": quarterly_reports([100, 200, 300])}, {})
    result = load_tables(engine, {"quarterly_reports": quarterly_reports([100, 250])}, {})
    assert result["quarterly_reports"] == TableLoad(2, 1, 0)
    assert [r[5] for r in _fetch(engine, "quarterly_reports")] == [100, 250, 300]
    synced = load_tables(
        engine,
        {"quarterly_reports": quarterly_reports([100, 250])},
        {"quarterly_reports": LoadMode.SYNC},
    )
    assert synced["quarterly_reports"] == TableLoad(2, 0, 1)
    assert [r[5] for r in _fetch(engine, "quarterly_reports")] == [100, 250]


def test_a_failing_table_rolls_back_every_table_of_the_load(engine: sa.Engine) -> None:
    load_tables(engine, {"quarterly_reports": quarterly_reports([1, 2])}, {})
    with engine.begin() as conn:  # the second table's target is gone: its merge must fail
        conn.exec_driver_sql("DROP TABLE prices_pe")
    prices = pa.Table.from_pylist([], schema=arrow_schema(PRICES_PE))
    with pytest.raises(LoadError, match="previous data kept"):
        load_tables(
            engine, {"quarterly_reports": quarterly_reports([7, 8, 9]), "prices_pe": prices}, {}
        )
    assert [r[5] for r in _fetch(engine, "quarterly_reports")] == [1, 2]


def test_rows_that_do_not_fit_the_schema_are_refused_by_name(engine: sa.Engine) -> None:
    nameless = pa.Table.from_pylist(
        [{c: None for c in COMPANIES.column_names} | {"ticker": "AAPL"}],
        schema=arrow_schema(COMPANIES).set(1, pa.field("name", pa.string(), nullable=True)),
    )
    with pytest.raises(LoadError, match=r"companies: rows do not fit.*'name'"):
        load_tables(engine, {"companies": nameless}, {})


def test_duplicate_keys_are_refused_before_anything_is_written(engine: sa.Engine) -> None:
    load_tables(engine, {"quarterly_reports": quarterly_reports([1, 2])}, {})
    duplicate_keys = pa.concat_tables([quarterly_reports([5]), quarterly_reports([6])])
    with pytest.raises(LoadError, match="1 duplicate keys"):
        load_tables(engine, {"quarterly_reports": duplicate_keys}, {})
    assert [r[5] for r in _fetch(engine, "quarterly_reports")] == [1, 2]


def test_reconcile_keeps_existing_rows_untouched_and_deletes_missing(engine: sa.Engine) -> None:
    def rows(run: str, keys: list[str]) -> pa.Table:
        return pa.Table.from_pylist(
            [
                {"table_name": "t", "record_key": k, "reason": "bad", "first_run_id": run}
                | {"source": None, "record": None}
                for k in keys
            ],
            schema=arrow_schema(QUARANTINE),
        )

    modes = {"quarantine": LoadMode.RECONCILE}
    load_tables(engine, {"quarantine": rows("run1", ["a", "b"])}, modes)
    result = load_tables(engine, {"quarantine": rows("run2", ["b", "c"])}, modes)
    assert result["quarantine"] == TableLoad(2, 1, 1)
    with engine.connect() as conn:
        kept = conn.execute(sa.text("SELECT record_key, first_run_id FROM quarantine ORDER BY 1"))
        assert [tuple(r) for r in kept] == [("b", "run1"), ("c", "run2")]
