"""Incremental financials: the daily index, the cursors in the database, and a rerun that
fetches only the companies that filed (the replay server counts the requests)."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pyarrow as pa
import pytest
import sqlalchemy as sa
from pydantic import SecretStr

from etl_service.errors import InputError
from etl_service.settings import HttpSettings, SecSettings, Settings, SourceMode
from etl_service.src.adapters.archive import RawArchive
from etl_service.src.adapters.http import build_http_client
from etl_service.src.adapters.sec.daily_index import (
    business_days,
    index_url,
    parse_master_index,
)
from etl_service.src.adapters.sec.incremental import FilingCursor, plan_fetch
from etl_service.src.adapters.sources import Sources
from etl_service.src.db import migrate
from etl_service.src.db.engine import connected_engine
from etl_service.src.db.filing_cursors import DatabaseFilingState
from etl_service.src.db.tables import TABLES
from etl_service.src.models.records import Extracted
from etl_service.tests.sec.builders import FY, Q1, body, companyfacts, fact
from etl_service.tests.support.replay_server import ReplayServer, Reply, replay_server

pytestmark = pytest.mark.unit

HEADER = """Description:           Daily Index of EDGAR Dissemination Feed by Company Name
Last Data Received:    Jan 03, 2024
Comments:              webmaster@sec.gov
Anonymous FTP:         ftp://ftp.sec.gov/edgar/



CIK|Company Name|Form Type|Date Filed|File Name
--------------------------------------------------------------------------------
"""


def _index(*lines: tuple[int, str, str, str]) -> bytes:
    rows = [
        f"{cik}|COMPANY {cik}|{form}|{filed}|edgar/data/{cik}/{accession}.txt"
        for cik, form, filed, accession in lines
    ]
    return (HEADER + "\n".join(rows) + "\n").encode("latin-1")


def test_master_index_keeps_periodic_forms_and_amendments() -> None:
    text = _index(
        (320193, "10-Q", "20240103", "0000320193-24-000001"),
        (320193, "8-K", "20240103", "0000320193-24-000002"),
        (789019, "10-K/A", "20240103", "0000789019-24-000003"),
        (1018724, "10-QT", "2024-01-03", "0001018724-24-000004"),
        (1652044, "S-1", "20240103", "0001652044-24-000005"),
    ).decode()
    filings = parse_master_index(text, "master.20240103.idx")
    assert [(f.cik, f.form, f.filed, f.accession) for f in filings] == [
        ("0000320193", "10-Q", date(2024, 1, 3), "0000320193-24-000001"),
        ("0000789019", "10-K/A", date(2024, 1, 3), "0000789019-24-000003"),
        ("0001018724", "10-QT", date(2024, 1, 3), "0001018724-24-000004"),
    ]
    with pytest.raises(InputError, match="no 'CIK\\|' header"):
        parse_master_index("<html>maintenance</html>", "x.idx")
    with pytest.raises(InputError, match="line 10: not 5"):
        parse_master_index(HEADER + "1|A|10-Q|20240103\n", "x.idx")
    with pytest.raises(InputError, match=r"line 10: .*20241399"):
        parse_master_index(HEADER + "1|A|10-Q|20241399|edgar/data/1/0-24-1.txt\n", "x.idx")


def test_index_urls_and_business_days() -> None:
    url = index_url("https://sec.test/daily-index/", date(2024, 11, 8))
    assert url == "https://sec.test/daily-index/2024/QTR4/master.20241108.idx"
    assert list(business_days(date(2024, 11, 8), date(2024, 11, 12))) == [
        date(2024, 11, 8),
        date(2024, 11, 11),
        date(2024, 11, 12),
    ]


def test_plan_fetches_new_companies_and_those_that_filed_after_their_cursor() -> None:
    day = date(2024, 11, 8)
    cursors = {
        c: FilingCursor(c, None, None, day) for c in ("0000000001", "0000000002", "0000000003")
    }
    cursors["0000000003"] = FilingCursor("0000000003", None, None, day + timedelta(days=3))
    from etl_service.src.adapters.sec.daily_index import Filing

    filed = day + timedelta(days=2)
    latest = {
        "0000000001": Filing("0000000001", "10-Q", filed, "a-1-1"),
        "0000000003": Filing("0000000003", "10-Q", filed, "a-3-1"),  # already in its data
    }
    wanted = ["0000000001", "0000000002", "0000000003", "0000000004"]
    plan = plan_fetch(wanted, cursors, latest)
    assert plan.fetch == ["0000000001", "0000000004"]
    assert plan.keep == ["0000000002", "0000000003"]
    assert "2 of 4 companies fetched (1 with new 10-Q/10-K" in plan.note
    assert "1 without a cursor); 2 skipped" in plan.note


N = 8
CIKS = [f"{c:010d}" for c in range(1, N + 1)]


def _facts_path(cik: str) -> str:
    return f"/api/xbrl/companyfacts/CIK{cik}.json"


def _serve_facts(server: ReplayServer, revenue: dict[str, float]) -> None:
    for cik in CIKS:
        revenues = [fact(*Q1, revenue.get(cik, 1000.0)), fact(*FY, 9e3, form="10-K", fp="FY")]
        doc = companyfacts({"Revenues": revenues})
        doc["cik"] = int(cik)
        server.script(_facts_path(cik), Reply(200, body(doc)))


def _rewind_cursors(database: sa.Engine, days: int) -> list[date]:
    """Set every cursor back to ``days`` days before yesterday, as a run that long ago left
    it; returns the business days an incremental run now reads."""
    yesterday = datetime.now(UTC).date() - timedelta(days=1)
    with database.begin() as conn:
        conn.execute(
            sa.update(TABLES["filing_cursors"]).values(
                checked_through=yesterday - timedelta(days=days)
            )
        )
    return list(business_days(yesterday - timedelta(days=days - 1), yesterday))


def _serve_index(server: ReplayServer, day: date, *lines: tuple[int, str, str, str]) -> None:
    url = index_url(server.url("/daily-index"), day)
    server.script(url.removeprefix(server.base_url), Reply(200, _index(*lines)))


def _load(database: sa.Engine, extracted: Extracted) -> None:
    """What the run's load leaves in the database (the loader itself is tested elsewhere)."""
    with database.begin() as conn:
        conn.execute(sa.delete(TABLES["quarterly_reports"]))
        conn.execute(sa.insert(TABLES["quarterly_reports"]), extracted.table.to_pylist())


def _financials(settings: Settings, database: sa.Engine, run_id: str) -> tuple[Extracted, Sources]:
    state = DatabaseFilingState(database, run_id)
    with build_http_client() as client:
        sources = Sources(settings, client, RawArchive(str(settings.data_dir / "raw")), None, state)
        extracted = sources.financials(CIKS)
    _load(database, extracted)
    sources.save_state()
    return extracted, sources


def test_an_incremental_rerun_fetches_only_the_companies_that_filed(tmp_path: Path) -> None:
    database = connected_engine(f"sqlite:///{tmp_path / 'etl.db'}")
    migrate.upgrade(database)
    yesterday = datetime.now(UTC).date() - timedelta(days=1)
    with replay_server() as server:
        settings = Settings(
            data_dir=tmp_path,
            source=SourceMode.LIVE,
            sec_user_agent="Jane Doe jane@example.com",
            sec=SecSettings(base_url=server.base_url, daily_index_url=server.url("/daily-index")),
            http=HttpSettings(cache_dir=tmp_path / "cache", max_retries=1),
            database_url=SecretStr("sqlite://"),
        )
        _serve_facts(server, {})
        first, sources = _financials(settings, database, "run1")
        assert len(server.requests) == N  # no cursors yet: every company, no index
        assert sources.notes == ["financials: every company fetched: no filing cursors yet"]
        cursors = DatabaseFilingState(database, "x").cursors()
        assert set(cursors) == set(CIKS)
        assert {c.checked_through for c in cursors.values()} == {yesterday}
        assert cursors[CIKS[2]].accession == "0000080424-14-000001"  # from the reports

        # Four days later: the daily index shows a new 10-Q of company 3 (and an 8-K of 5).
        days = _rewind_cursors(database, 4)
        filed = days[-1]
        _serve_index(
            server,
            filed,
            (3, "10-Q", f"{filed:%Y%m%d}", "0000000003-24-000009"),
            (5, "8-K", f"{filed:%Y%m%d}", "0000000005-24-000010"),
            (99, "10-K", f"{filed:%Y%m%d}", "0000000099-24-000011"),
        )
        _serve_facts(server, {CIKS[2]: 3333.0})
        server.requests.clear()
        second, sources = _financials(settings, database, "run2")
        fetched = [r.path for r in server.requests if "companyfacts" in r.path]
        index_requests = [r for r in server.requests if "daily-index" in r.path]
    assert fetched == [_facts_path(CIKS[2])]  # only the company that filed
    assert len(index_requests) == len(days)  # one per business day, whatever N is
    assert sources.notes == [
        "financials: incremental: 1 of 8 companies fetched (1 with new 10-Q/10-K filings or "
        "amendments, 0 without a cursor); 7 skipped, no periodic filing since their cursor, "
        "their reports kept from the last load"
    ]
    # Complete output: the 7 kept companies' reports come back from the database.
    assert second.table.column("cik").to_pylist() == CIKS
    revenue = dict(zip(CIKS, second.table.column("revenue").to_pylist(), strict=True))
    assert revenue[CIKS[2]] == 3333
    assert {revenue[c] for c in CIKS if c != CIKS[2]} == {1000}
    assert second.table.schema == first.table.schema
    cursors = DatabaseFilingState(database, "x").cursors()
    assert cursors[CIKS[2]].accession == "0000000003-24-000009"
    assert cursors[CIKS[2]].filed == filed
    assert {c.checked_through for c in cursors.values()} == {yesterday}


def test_full_refresh_fetches_everything_and_a_run_from_elsewhere_drops_the_cursors(
    tmp_path: Path,
) -> None:
    database = connected_engine(f"sqlite:///{tmp_path / 'etl.db'}")
    migrate.upgrade(database)
    with replay_server() as server:
        settings = Settings(
            data_dir=tmp_path,
            source=SourceMode.LIVE,
            sec_user_agent="Jane Doe jane@example.com",
            sec=SecSettings(base_url=server.base_url, daily_index_url=server.url("/daily-index")),
            http=HttpSettings(cache_dir=tmp_path / "cache", max_retries=1),
        )
        _serve_facts(server, {})
        _financials(settings, database, "run1")
        server.requests.clear()
        _, sources = _financials(settings.model_copy(update={"full_refresh": True}), database, "r2")
        assert len(server.requests) == N
    assert sources.notes == ["financials: every company fetched: full refresh requested"]
    assert len(DatabaseFilingState(database, "x").cursors()) == N
    DatabaseFilingState(database, "snapshot-run").save()  # nothing staged: not from SEC's API
    assert DatabaseFilingState(database, "x").cursors() == {}


def test_previous_brings_back_reports_splits_and_quarantined_rows(tmp_path: Path) -> None:
    database = connected_engine(f"sqlite:///{tmp_path / 'etl.db'}")
    migrate.upgrade(database)
    with database.begin() as conn:
        conn.execute(
            sa.insert(TABLES["quarantine"]),
            [
                {
                    "table_name": "quarterly_reports",
                    "record_key": key,
                    "reason": "r",
                    "first_run_id": "run1",
                    "source": "s",
                    "record": {"cik": key},
                }
                for key in ("0000000001|2024-03-31", "0000000002", "0000000011|2024-03-31")
            ],
        )
    previous = DatabaseFilingState(database, "x").previous({"0000000001", "0000000002"})
    assert sorted(r.record_key for r in previous.rejected) == [
        "0000000001|2024-03-31",
        "0000000002",
    ]
    assert previous.table.num_rows == 0
    assert isinstance(previous.related["split_events"], pa.Table)


def test_a_live_pipeline_rerun_fetches_only_the_company_that_filed(tmp_path: Path) -> None:
    """Two live runs of the whole pipeline (AAPL and NVDA only) against the replay server;
    between them NVIDIA files a 10-Q, and the rerun fetches its companyfacts alone."""
    import gzip

    from etl_service import snapshot
    from etl_service.pipelines.compose import build_pipeline
    from etl_service.settings import WikipediaHistorySettings
    from etl_service.tests.pipelines.conftest import snapshot_settings

    apple, nvidia = "0000320193", "0001045810"
    with replay_server() as server, build_http_client() as client:
        page = gzip.decompress(snapshot.WIKIPEDIA_PAGE.read_bytes())
        server.script("/wiki/List", Reply(200, page, {"ETag": '"w1"'}), Reply(304, b""))
        for cik in (apple, nvidia):
            facts = gzip.decompress((snapshot.SEC_COMPANYFACTS / f"CIK{cik}.json.gz").read_bytes())
            server.script(_facts_path(cik), Reply(200, facts))
        server.script("/q/d/l/", Reply(200, b"Date,Close\n2024-09-27,227.79\n"))
        settings = snapshot_settings(
            tmp_path,
            tickers=("AAPL", "NVDA"),
            wikipedia_url=server.url("/wiki/List"),
            wikipedia_history=WikipediaHistorySettings(enabled=False),
            prices_url_template=server.base_url + "/q/d/l/?s={symbol}&i=d",
            sec_user_agent="Jane Doe jane@example.com",
            sec=SecSettings(base_url=server.base_url, daily_index_url=server.url("/daily-index")),
        ).model_copy(update={"source": SourceMode.LIVE})

        def run() -> tuple[dict[str, int], list[str], list[str]]:
            server.requests.clear()
            with build_pipeline(settings, http_client=client) as pipeline:
                report = pipeline.run()
            paths = [r.path for r in server.requests]
            return report.rows, report.notes, paths

        first_rows, _, first_paths = run()
        days = _rewind_cursors(sa.create_engine(settings.database_url_value), 3)
        day = f"{days[0]:%Y%m%d}"
        _serve_index(server, days[0], (1045810, "10-Q", day, "0001045810-24-000099"))
        second_rows, notes, second_paths = run()
    assert sorted(p for p in first_paths if "companyfacts" in p) == [
        _facts_path(apple),
        _facts_path(nvidia),
    ]
    assert [p for p in second_paths if "companyfacts" in p] == [_facts_path(nvidia)]
    assert len([p for p in second_paths if "daily-index" in p]) == len(days)
    assert any("1 of 2 companies fetched" in note for note in notes)
    assert any("constituents: the page is unchanged" in note for note in notes)
    # Prices: the rerun asks each ticker only for the days from shortly before its last
    # stored close, and appends (the replayed file repeats the stored day: nothing new).
    price_paths = [p for p in second_paths if p.startswith("/q/d/l/")]
    assert len(price_paths) == 2
    assert all("&d1=20240913" in p for p in price_paths)
    assert "prices: 2 tickers appended to their stored closes (0 new days)" in " ".join(notes)
    # Apple's reports came back from the database: the curated tables are as complete.
    assert second_rows["quarterly_reports"] == first_rows["quarterly_reports"] > 0
    assert second_rows["prices_pe"] == first_rows["prices_pe"]
