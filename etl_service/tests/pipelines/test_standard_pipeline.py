"""The main job end to end on the bundled snapshot: contents, idempotency, atomicity, errors."""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import time
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from pyiceberg.catalog.sql import SqlCatalog

from etl_service.cli import main
from etl_service.errors import EXIT_CODES
from etl_service.pipelines.compose import build_lake
from etl_service.settings import Settings
from etl_service.snapshot import SEC_COMPANYFACTS
from etl_service.src.db import queries
from etl_service.src.db.engine import create_engine
from etl_service.src.models.schemas import CURATED_TABLES, Zone
from etl_service.tests.pipelines.conftest import run_cli as _run
from etl_service.tests.pipelines.conftest import snapshot_settings
from etl_service.tests.support.tables import checksums, table_rows

APPLE, NVIDIA = "0000320193", "0001045810"


@pytest.mark.unit
def test_snapshot_run_loads_503_companies_in_11_sectors(loaded: Settings) -> None:
    engine = create_engine(loaded.database_url_value)
    sectors = queries.sectors(engine)
    assert len(sectors) == 11
    assert sum(s["companies"] for s in sectors) == 503
    it = next(s for s in sectors if s["sector"] == "Information Technology")
    assert it["companies"] == 69
    reports = table_rows(engine, "quarterly_reports")
    assert {r[0] for r in reports} == {APPLE, NVIDIA}
    run = table_rows(engine, "pipeline_runs")[-1]
    assert run[3] == "succeeded"
    assert run[5] == "snapshot"
    assert run[6]["companies"] == 503


@pytest.mark.unit
def test_apple_history_has_real_filing_numbers_and_pe(loaded: Settings) -> None:
    engine = create_engine(loaded.database_url_value)
    history = {r["period_end"].isoformat(): r for r in queries.company_history(engine, "AAPL")}
    fy24q4 = history["2024-09-28"]
    assert (fy24q4["fiscal_year"], fy24q4["fiscal_quarter"]) == (2024, 4)
    assert fy24q4["revenue"] == 94_930_000_000
    fy17q4 = history["2017-09-30"]
    assert fy17q4["closing_price"] == pytest.approx(153.57)
    assert fy17q4["price_earnings_ratio"] == pytest.approx(153.57 / fy17q4["eps_ttm"])


@pytest.mark.unit
def test_apple_fy2009_to_fy2012_pe_passes_the_gate_as_traded(loaded: Settings) -> None:
    engine = create_engine(loaded.database_url_value)
    history = {r["period_end"].isoformat(): r for r in queries.company_history(engine, "AAPL")}
    # FY2009 Q3 to FY2012 Q4: the Stooq close x 7 (before the 2014 split) over EPS as filed.
    span = [r for end, r in history.items() if "2009-06-27" <= end <= "2012-09-29"]
    assert len(span) == 14
    assert all(r["share_basis"] == "as traded" for r in span)
    assert all(10 < r["price_earnings_ratio"] < 19 for r in span)
    fy12q4 = history["2012-09-29"]
    assert (fy12q4["closing_price"], fy12q4["eps_ttm"]) == (pytest.approx(600.579), 44.16)
    assert not [r for r in table_rows(engine, "quarantine") if r[0] == "prices_pe"]
    splits = [(r[2], r[4]) for r in table_rows(engine, "split_events") if r[0] == APPLE]
    assert splits == [(date(2014, 6, 7), "7-for-1"), (date(2020, 8, 29), "4-for-1")]


@pytest.mark.unit
def test_sector_query_prints_real_numbers(
    loaded: Settings, capsys: pytest.CaptureFixture[str]
) -> None:
    os.environ["ETL_DATABASE_URL"] = loaded.database_url_value
    try:
        assert main(["query", "sector", "information technology", "--format", "json"]) == 0
    finally:
        del os.environ["ETL_DATABASE_URL"]
    rows = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    q4_2024 = next(r for r in rows if r["quarter_end"] == "2024-12-31")
    # Apple (FY2025 Q1, ends 2024-12-28) and NVIDIA (FY2025 Q4, ends 2025-01-26) both count.
    assert q4_2024["n_companies"] == 2
    assert q4_2024["avg_revenue"] == pytest.approx((124_300_000_000 + 39_331_000_000) / 2)


@pytest.mark.unit
def test_the_embedded_catalog_holds_every_curated_table_with_the_database_rows(
    loaded: Settings,
) -> None:
    lake_root = Path(loaded.lake_uri).absolute()
    catalog = SqlCatalog("etl", uri=f"sqlite:///{lake_root / 'catalog.db'}")
    engine = create_engine(loaded.database_url_value)
    for spec in CURATED_TABLES:
        table = catalog.load_table(f"sp500.{spec.name}")
        with engine.connect() as conn:
            rows: int = conn.execute(sa.text(f"SELECT count(*) FROM {spec.name}")).scalar_one()
        assert table.scan().count() == rows, spec.name
        assert table.location() == f"file://{lake_root}/curated/{spec.name}"
    reports = catalog.load_table("sp500.quarterly_reports")
    assert [f.name for f in reports.spec().fields] == ["fiscal_year"]
    closes = catalog.load_table("sp500_processed.daily_closes").scan().to_arrow()
    assert {"AAPL", "NVDA", "BRK.B"} <= set(closes.column("ticker").to_pylist())


def _snapshot_ids(settings: Settings) -> dict[str, list[int]]:
    lake = build_lake(settings)
    return {
        row["table"]: [h["snapshot_id"] for h in lake.history(*_zone_and_name(row["table"]))]
        for row in lake.tables()
    }


def _zone_and_name(qualified: str) -> tuple[Zone, str]:
    namespace, name = qualified.split(".")
    return (Zone.PROCESSED if namespace.endswith("_processed") else Zone.CURATED), name


@pytest.mark.unit
def test_second_run_changes_nothing(loaded: Settings) -> None:
    engine = create_engine(loaded.database_url_value)
    before = checksums(engine, None) | {
        "quarantine": checksums(engine, ["quarantine"])["quarantine"]
    }
    snapshots = _snapshot_ids(loaded)
    assert len(snapshots) == len(CURATED_TABLES) + 4
    assert _run(loaded) == 0
    after = checksums(engine, None) | {
        "quarantine": checksums(engine, ["quarantine"])["quarantine"]
    }
    assert after == before
    assert _snapshot_ids(loaded) == snapshots  # no table got a new snapshot


def _only_apple(tmp: Path) -> Path:
    folder = tmp / "only_apple"
    folder.mkdir()
    shutil.copy(SEC_COMPANYFACTS / f"CIK{APPLE}.json.gz", folder)
    return folder


_KILLABLE = """
import sys, time, pathlib
import etl_service.src.db.loader as loader
original = loader._stage_sqlite
def slow_stage(conn, spec, table):
    original(conn, spec, table)
    if spec.name == "quarterly_reports":
        pathlib.Path(sys.argv[1]).write_text("loading")
        time.sleep(120)
loader._stage_sqlite = slow_stage
from etl_service.cli import main
sys.exit(main(["run"]))
"""


@pytest.mark.unit
def test_sigkill_during_load_keeps_the_previous_state(tmp_path: Path) -> None:
    first = snapshot_settings(tmp_path, sec={"bulk_path": _only_apple(tmp_path)})
    assert _run(first) == 0
    engine = create_engine(first.database_url_value)
    before = checksums(engine)
    assert {r[0] for r in table_rows(engine, "quarterly_reports")} == {APPLE}

    full = snapshot_settings(tmp_path)
    marker = tmp_path / "loading.marker"
    env = {k: v for k, v in os.environ.items() if not k.startswith("ETL_")} | {
        "ETL_DATA_DIR": str(full.data_dir),
        "ETL_DATABASE_URL": full.database_url_value,
        "ETL_LAKE_URI": full.lake_uri,
        "ETL_SOURCE": "snapshot",
    }
    proc = subprocess.Popen([sys.executable, "-c", _KILLABLE, str(marker)], env=env)
    deadline = time.monotonic() + 60
    while not marker.exists():
        assert proc.poll() is None, "the run ended before reaching the load"
        assert time.monotonic() < deadline, "the run never reached the load"
        time.sleep(0.05)
    proc.send_signal(signal.SIGKILL)
    proc.wait()

    assert checksums(engine) == before
    lake = build_lake(full)
    assert {r["cik"] for r in lake.read(Zone.CURATED, "quarterly_reports").to_pylist()} == {APPLE}
    assert _run(full) == 0
    statuses = [r[3] for r in table_rows(engine, "pipeline_runs")]
    assert sorted(statuses) == ["abandoned", "succeeded", "succeeded"]
    assert {r[0] for r in table_rows(engine, "quarterly_reports")} == {APPLE, NVIDIA}


@pytest.mark.unit
def test_an_unreadable_company_file_is_quarantined_and_the_run_goes_on(tmp_path: Path) -> None:
    bulk = _only_apple(tmp_path)
    (bulk / f"CIK{NVIDIA}.json").write_text('{"cik": 1045810, "facts": {')
    settings = snapshot_settings(tmp_path, sec={"bulk_path": bulk})
    assert _run(settings) == 0
    engine = create_engine(settings.database_url_value)
    assert {r[0] for r in table_rows(engine, "quarterly_reports")} == {APPLE}
    [bad] = [r for r in table_rows(engine, "quarantine") if r[1] == NVIDIA]
    assert bad[0] == "quarterly_reports"
    assert f"CIK{NVIDIA}.json:line 1: malformed JSON" in bad[2]
    assert bad[4] == str(bulk / f"CIK{NVIDIA}.json")
    run = table_rows(engine, "pipeline_runs")[-1]
    assert run[3] == "succeeded"
    assert run[6]["quarantine"] >= 1
    assert "financials: 1 unreadable companyfacts quarantined" in run[8]


@pytest.mark.unit
def test_unwritable_lake_is_a_clear_error_with_no_writes(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    settings = snapshot_settings(tmp_path).model_copy(update={"lake_uri": "/proc/etl-lake"})
    assert _run(settings) == EXIT_CODES["store unavailable or load failed"]
    assert "the lake /proc/etl-lake is not writable" in capsys.readouterr().err
    db_file = settings.data_dir / "etl.db"
    assert (
        not db_file.exists()
        or sa.inspect(create_engine(f"sqlite:///{db_file}")).get_table_names() == []
    )


@pytest.mark.unit
def test_unreachable_database_is_a_clear_error_with_no_writes(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    settings = snapshot_settings(tmp_path, database_url="postgresql://etl@127.0.0.1:1/etl")
    assert _run(settings) == EXIT_CODES["store unavailable or load failed"]
    assert "cannot reach the database" in capsys.readouterr().err
    assert not (settings.data_dir / "lake").exists()


@pytest.mark.postgres
def test_postgres_run_gives_the_same_query_results_as_sqlite(
    loaded: Settings, postgres_url: str, tmp_path: Path
) -> None:
    pg = snapshot_settings(tmp_path, database_url=postgres_url)
    assert _run(pg) == 0
    sqlite_engine = create_engine(loaded.database_url_value)
    pg_engine = create_engine(postgres_url)
    for engine_pair in [(sqlite_engine, pg_engine)]:
        a, b = engine_pair
        assert queries.sectors(a) == queries.sectors(b)
        for sector in ("Information Technology", "Energy"):
            assert queries.group_history(a, "sector", sector) == queries.group_history(
                b, "sector", sector
            )
        assert queries.company_history(a, "AAPL") == queries.company_history(b, "AAPL")
        assert queries.company_history(a, "NVDA") == queries.company_history(b, "NVDA")
    assert checksums(sqlite_engine) == checksums(pg_engine)
    pg_engine.dispose()


@pytest.mark.unit
def test_module_entry_point_runs_the_standard_engine(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    from etl_service.cli.module_entry import module_main

    monkeypatch.setenv("ETL_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.setenv("ETL_DATABASE_URL", f"sqlite:///{tmp_path / 'data' / 'etl.db'}")
    monkeypatch.setenv("ETL_LAKE_URI", str(tmp_path / "data" / "lake"))
    assert module_main("standard", "prog", ["--source", "snapshot"]) == 0
    assert "succeeded" in capsys.readouterr().out
    assert module_main("standard", "prog", ["--help"]) == 0
    assert "--spark-mode" not in capsys.readouterr().out
    assert module_main("standard", "prog", ["--source", "nope"]) == 2


def _calendar_quarter_end(period_end: date) -> date:
    mid = period_end - timedelta(days=45)
    month = ((mid.month - 1) // 3 + 1) * 3
    return date(mid.year + month // 12, month % 12 + 1, 1) - timedelta(days=1)


@pytest.mark.unit
def test_aggregates_average_only_what_the_quality_gates_kept(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("ETL_QUALITY__PE_MAX", "15")  # quarantines some of Apple's P/Es
    settings = snapshot_settings(tmp_path)
    assert _run(settings) == 0
    engine = create_engine(settings.database_url_value)
    with engine.connect() as conn:
        kept = conn.execute(
            sa.text("SELECT period_end, price_earnings_ratio FROM prices_pe WHERE cik IN (:a, :n)"),
            {"a": APPLE, "n": NVIDIA},
        ).all()
        quarantined = int(
            conn.execute(
                sa.text("SELECT COUNT(*) FROM quarantine WHERE reason LIKE '%pe_between_3_and_15%'")
            ).scalar_one()
        )
        aggregates: list[Any] = conn.execute(
            sa.text(
                "SELECT quarter_end, avg_pe, n_pe, n_companies, n_revenue FROM sector_aggregates "
                "WHERE level = 'sector' AND name = 'Information Technology'"
            )
        ).all()  # type: ignore[assignment]
    assert quarantined >= 10
    expected: dict[date, list[float]] = {}
    for period_end, pe in kept:
        if isinstance(pe, float):
            expected.setdefault(
                _calendar_quarter_end(date.fromisoformat(str(period_end))), []
            ).append(pe)
    for quarter_end, avg_pe, n_pe, n_companies, n_revenue in aggregates:
        values = expected.get(date.fromisoformat(str(quarter_end)), [])
        assert n_pe == len(values), quarter_end
        assert n_revenue <= n_companies
        if values:
            assert avg_pe == pytest.approx(sum(values) / len(values))
        else:
            assert avg_pe is None
    assert all(a[1] is None or a[1] <= 15 for a in aggregates)


@pytest.mark.unit
def test_former_members_have_a_row_and_a_history(loaded: Settings) -> None:
    engine = create_engine(loaded.database_url_value)
    with engine.connect() as conn:
        rows = {
            r.ticker: r
            for r in conn.execute(
                sa.text("SELECT * FROM former_members WHERE ticker IN ('TWTR', 'LEH', 'FB')")
            )
        }
    assert set(rows) == {"TWTR", "LEH"}  # FB changed its ticker to META: not a former member
    twtr = rows["TWTR"]
    assert (twtr.cik, twtr.name, twtr.sector, str(twtr.removed)) == (
        "0001418091",
        "Twitter Inc.",
        "Communication Services",
        "2022-11-01",
    )
    assert (rows["LEH"].name, rows["LEH"].sector) == ("Lehman Brothers", None)
    assert "sector unknown" in rows["LEH"].attributes_source
    spans = queries.membership_spans(engine, "TWTR")
    assert [(str(s["valid_from"]), str(s["valid_to"])) for s in spans] == [
        ("2018-06-07", "2022-11-01")
    ]
    assert [s["ticker"] for s in queries.membership_spans(engine, "META")] == ["FB", "META"]


@pytest.mark.unit
def test_a_load_that_would_empty_a_table_is_refused_unless_allowed(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    full = snapshot_settings(tmp_path)
    assert _run(full) == 0
    engine = create_engine(full.database_url_value)
    before = checksums(engine)
    assert before["quarterly_reports"][0] == 143

    empty = tmp_path / "no_companies"
    empty.mkdir()  # a bulk folder with no company file: the source yields nothing
    shrinking = snapshot_settings(tmp_path, sec={"bulk_path": empty})
    capsys.readouterr()
    assert _run(shrinking) == EXIT_CODES["data quality"]
    err = capsys.readouterr().err
    assert "no_shrink on quarterly_reports: 143 of 143 rows" in err
    assert "'previous_rows': 143, 'new_rows': 0" in err
    assert checksums(engine) == before
    assert sorted(r[3] for r in table_rows(engine, "pipeline_runs")) == ["failed", "succeeded"]

    assert _run(shrinking, "--allow-shrink") == 0
    after = checksums(engine)
    assert after["quarterly_reports"] == before["quarterly_reports"]  # merged: rows are kept
    assert (before["sector_aggregates"][0], after["sector_aggregates"][0]) == (215, 0)
    with engine.connect() as conn:
        warnings: object = conn.execute(
            sa.text("SELECT warnings FROM pipeline_runs ORDER BY started_at DESC LIMIT 1")
        ).scalar_one()
    assert "sector_aggregates shrinks from 215 to 0 rows, allowed by --allow-shrink" in str(
        warnings
    )
