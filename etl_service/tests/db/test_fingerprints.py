"""PostgreSQL loads send only changed rows, and stay correct when fingerprints cannot be trusted."""

from __future__ import annotations

import pyarrow as pa
import pytest
import sqlalchemy as sa

from etl_service.src.db import migrate
from etl_service.src.db.engine import create_engine
from etl_service.src.db.loader import TableLoad, load_tables
from etl_service.src.models.schemas import SUB_INDUSTRIES, LoadMode, arrow_schema
from etl_service.tests.support.builders import quarterly_reports

pytestmark = pytest.mark.postgres

SYNC = {"sub_industries": LoadMode.SYNC}


@pytest.fixture
def engine(postgres_url: str) -> sa.Engine:
    engine = create_engine(postgres_url)
    migrate.upgrade(engine)
    return engine


def _subs(rows: dict[str, str]) -> dict[str, pa.Table]:
    table = pa.Table.from_pylist(
        [{"sub_industry": k, "sector": v} for k, v in rows.items()],
        schema=arrow_schema(SUB_INDUSTRIES),
    )
    return {"sub_industries": table}


def _state(engine: sa.Engine) -> tuple[list[tuple[str, str]], int]:
    with engine.connect() as conn:
        rows = conn.execute(sa.text("SELECT * FROM sub_industries ORDER BY 1")).all()
        blob = conn.execute(sa.text("SELECT fingerprints FROM load_state")).scalar()
    prints = 0 if blob is None else pa.ipc.open_stream(pa.py_buffer(blob)).read_all().num_rows
    return [(r[0], r[1]) for r in rows], prints


def test_only_changed_and_new_rows_are_sent_and_missing_keys_deleted(engine: sa.Engine) -> None:
    first = {f"S{i}": "Energy" for i in range(100)}
    assert load_tables(engine, _subs(first), SYNC)["sub_industries"] == TableLoad(100, 100, 0)
    second = {**first, "S1": "Utilities", "S200": "Financials"}
    del second["S2"]
    assert load_tables(engine, _subs(second), SYNC)["sub_industries"] == TableLoad(100, 2, 1)
    rows, prints = _state(engine)
    assert dict(rows) == second
    assert prints == 100
    assert load_tables(engine, _subs(second), SYNC)["sub_industries"] == TableLoad(100, 0, 0)


def test_a_write_outside_the_fingerprints_forces_a_full_comparison(engine: sa.Engine) -> None:
    data = {"A": "Energy", "B": "Energy"}
    load_tables(engine, _subs(data), SYNC)
    with engine.begin() as conn:  # a foreign writer changes a row and bypasses the loader
        conn.execute(sa.text("UPDATE sub_industries SET sector = 'X' WHERE sub_industry = 'A'"))
        conn.execute(sa.text("UPDATE load_state SET hasher = 'other-hasher'"))
    result = load_tables(engine, _subs(data), SYNC)["sub_industries"]
    assert result == TableLoad(2, 1, 0)
    assert dict(_state(engine)[0]) == data
    with engine.connect() as conn:
        hasher: str = conn.execute(sa.text("SELECT hasher FROM load_state")).scalar_one()
    assert hasher.startswith("duckdb-")


def test_merges_that_bypass_fingerprints_drop_them(engine: sa.Engine) -> None:
    from etl_service.src.db.loader import merge_from_staging
    from etl_service.src.models.schemas import SUB_INDUSTRIES as SPEC

    load_tables(engine, _subs({"A": "Energy"}), SYNC)
    with engine.begin() as conn:
        conn.execute(
            sa.text("CREATE TEMP TABLE other AS SELECT 'A' AS sub_industry, 'Y' AS sector")
        )
        merge_from_staging(conn, SPEC, "other", LoadMode.MERGE, 1)
    assert _state(engine) == ([("A", "Y")], 0)
    assert load_tables(engine, _subs({"A": "Energy"}), SYNC)["sub_industries"] == TableLoad(1, 1, 0)
    assert _state(engine) == ([("A", "Energy")], 1)


def test_two_tables_in_one_load_use_their_own_temporary_tables(engine: sa.Engine) -> None:
    tables = {**_subs({"A": "Energy"}), "quarterly_reports": quarterly_reports([1, 2])}
    load_tables(engine, tables, SYNC)
    tables = {**_subs({"A": "Utilities"}), "quarterly_reports": quarterly_reports([1, 3])}
    result = load_tables(engine, tables, SYNC)
    assert result == {
        "sub_industries": TableLoad(1, 1, 0),
        "quarterly_reports": TableLoad(2, 1, 0),
    }


def test_compare_marks_changed_rows_in_the_new_tables_order() -> None:
    from etl_service.src.db.fingerprints import compare

    old = pa.table({"key_hash": [1, 2, 3], "row_hash": [10, 20, 30]})
    new = pa.table({"key_hash": list(range(5000, 0, -1)), "row_hash": [0] * 4997 + [30, 21, 10]})
    changed, merged, stale = compare(old, new)
    flags = changed.column("changed").to_pylist()
    assert flags[-3:] == [False, True, False]  # keys 3, 2, 1: only key 2 changed
    assert sum(flags) == 4997 + 1
    assert stale == 0
    assert merged.num_rows == 5000
