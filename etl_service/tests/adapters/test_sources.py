"""Live sources, the per-source fallback to the snapshot, and live mode's refusal to fall back."""

from __future__ import annotations

import gzip
import json
from datetime import date
from pathlib import Path

import pytest
from pydantic import SecretStr

from etl_service import snapshot
from etl_service.errors import ConfigError, SourceUnavailableError
from etl_service.settings import (
    HttpSettings,
    SecSettings,
    Settings,
    SourceMode,
    WikipediaHistorySettings,
)
from etl_service.src.adapters.archive import RawArchive
from etl_service.src.adapters.http import build_http_client
from etl_service.src.adapters.sources import Sources
from etl_service.tests.support.replay_server import ReplayServer, Reply, replay_server
from etl_service.tests.support.services import free_port

pytestmark = pytest.mark.unit

APPLE = "0000320193"


def _settings(tmp_path: Path, base: str, mode: SourceMode, **extra: object) -> Settings:
    return Settings(
        data_dir=tmp_path,
        database_url=SecretStr(f"sqlite:///{tmp_path / 'etl.db'}"),
        source=mode,
        wikipedia_url=f"{base}/wiki/List",
        prices_url_template=base + "/q/d/l/?s={symbol}&i=d",
        sec=SecSettings(base_url=base),
        http=HttpSettings(cache_dir=tmp_path / "cache", backoff_base_s=0.01, backoff_max_s=0.02),
        **extra,  # type: ignore[arg-type]
    )


def _serve_everything(server: ReplayServer) -> None:
    server.script("/wiki/List", Reply(200, gzip.decompress(snapshot.WIKIPEDIA_PAGE.read_bytes())))
    facts = gzip.decompress((snapshot.SEC_COMPANYFACTS / f"CIK{APPLE}.json.gz").read_bytes())
    server.script(f"/api/xbrl/companyfacts/CIK{APPLE}.json", Reply(200, facts))
    server.script(
        "/q/d/l/",
        Reply(200, b"Date,Open,High,Low,Close,Volume\n2024-09-27,1,1,1,227.79,10\n"),
    )


def test_live_sources_are_used_and_archived(tmp_path: Path) -> None:
    with replay_server() as server, build_http_client() as client:
        _serve_everything(server)
        settings = _settings(tmp_path, server.base_url, SourceMode.AUTO, sec_user_agent="a b@c.d")
        archive = RawArchive(str(tmp_path / "raw"))
        sources = Sources(settings, client, archive)
        page = sources.constituents_page()
        financials = sources.financials([APPLE])
        closes = sources.closes(["AAPL", "BRK.B"])
        symbols = sorted(r.path.split("s=")[1].split("&")[0] for r in server.hits("/q/d/l/"))
    assert page.companies.table.num_rows == 503
    assert set(financials.table.column("cik").to_pylist()) == {APPLE}
    assert closes.table.num_rows == 2
    assert symbols == ["aapl.us", "brk-b.us"]
    assert sources.report.origins == {
        "constituents": "live",
        "financials": "live",
        "prices": "live",
    }
    assert sources.report.summary == "live"
    assert len(archive.entries("wikipedia")) == 1


def test_auto_falls_back_per_source_quickly_when_the_network_is_down(tmp_path: Path) -> None:
    dead = f"http://127.0.0.1:{free_port()}"
    settings = _settings(tmp_path, dead, SourceMode.AUTO, sec_user_agent="a b@c.d")
    with build_http_client() as client:
        sources = Sources(settings, client, RawArchive(str(tmp_path / "raw")))
        page = sources.constituents_page()
        financials = sources.financials([APPLE, "0000000001"])
    assert page.companies.table.num_rows == 503
    assert set(financials.table.column("cik").to_pylist()) == {APPLE}
    assert sources.report.origins == {
        "constituents": "snapshot (fallback)",
        "financials": "snapshot (fallback)",
    }
    assert any("1 of 2 companies have no companyfacts" in w for w in financials.warnings)


def test_missing_sec_user_agent_falls_back_in_auto_and_fails_in_live(tmp_path: Path) -> None:
    with replay_server() as server, build_http_client() as client:
        _serve_everything(server)
        auto = Sources(
            _settings(tmp_path, server.base_url, SourceMode.AUTO), client, RawArchive(str(tmp_path))
        )
        auto.financials([APPLE])
        assert server.hits(f"/api/xbrl/companyfacts/CIK{APPLE}.json") == []
    assert "ETL_SEC_USER_AGENT" in auto.report.warnings[0]


def test_live_mode_never_falls_back(tmp_path: Path) -> None:
    dead = f"http://127.0.0.1:{free_port()}"
    with build_http_client() as client:
        sources = Sources(
            _settings(tmp_path, dead, SourceMode.LIVE), client, RawArchive(str(tmp_path / "raw"))
        )
        with pytest.raises(SourceUnavailableError):
            sources.constituents_page()


def test_snapshot_mode_never_touches_the_network(tmp_path: Path) -> None:
    with replay_server() as server, build_http_client() as client:
        sources = Sources(
            _settings(tmp_path, server.base_url, SourceMode.SNAPSHOT),
            client,
            RawArchive(str(tmp_path / "raw")),
        )
        sources.constituents_page()
        sources.closes(["AAPL"])
        assert server.requests == []
    assert sources.report.summary == "snapshot"


def _fmp_quarters() -> bytes:
    """Two quarterly statements in FMP's "stable" layout, with Apple's values as filed in
    its 10-Q for Q3 and 10-K for FY2024 (FMP's quarterly answers are not recorded here)."""
    rows = [
        ("2024-06-29", "2024-08-02", "Q3", 85_777_000_000, 21_448_000_000, 1.40),
        ("2024-09-28", "2024-11-01", "Q4", 94_930_000_000, 14_736_000_000, 0.97),
    ]
    return json.dumps(
        [
            {
                "date": end,
                "symbol": "AAPL",
                "reportedCurrency": "USD",
                "cik": "0000320193",
                "filingDate": filed,
                "fiscalYear": "2024",
                "period": period,
                "revenue": revenue,
                "netIncome": net_income,
                "eps": eps,
                "epsDiluted": eps,
            }
            for end, filed, period, revenue, net_income, eps in rows
        ]
    ).encode()


def test_fmp_answers_for_financials_when_sec_cannot_be_used(tmp_path: Path) -> None:
    with replay_server() as server, build_http_client() as client:
        server.script("/stable/income-statement", Reply(200, _fmp_quarters()))
        settings = _settings(
            tmp_path,
            server.base_url,
            SourceMode.LIVE,
            fmp_api_key=SecretStr("k3y"),
            fmp_base_url=server.base_url,
        )
        sources = Sources(settings, client, RawArchive(str(tmp_path / "raw")))
        financials = sources.financials([APPLE], {APPLE: "AAPL"})
        [hit] = server.hits("/stable/income-statement")
    assert "symbol=AAPL" in hit.path
    assert "period=quarter" in hit.path
    rows = financials.table.to_pylist()
    assert [(r["fiscal_quarter"], r["revenue"], r["eps_diluted"]) for r in rows] == [
        (3, 85_777_000_000, 1.40),
        (4, 94_930_000_000, 0.97),
    ]
    assert rows[1]["period_start"].isoformat() == "2024-06-30"
    assert (sources.report.origins, sources.report.used) == (
        {"financials": "live"},
        {"financials": "fmp"},
    )


def test_without_an_fmp_key_live_mode_raises_the_first_sources_error(tmp_path: Path) -> None:
    with build_http_client() as client:
        settings = _settings(tmp_path, f"http://127.0.0.1:{free_port()}", SourceMode.LIVE)
        sources = Sources(settings, client, RawArchive(str(tmp_path / "raw")))
        with pytest.raises(ConfigError, match="ETL_SEC_USER_AGENT"):
            sources.financials([APPLE], {APPLE: "AAPL"})
    assert sources.chains["financials"].live == ("sec",)


def test_history_adds_the_monthly_revisions_and_reuses_them_in_snapshot_mode(
    tmp_path: Path,
) -> None:
    from etl_service.tests.wikipedia.test_revisions import API, rendered, revision_list

    page = Path(__file__).parents[1] / "fixtures" / "wikipedia"
    archive = RawArchive(str(tmp_path / "raw"))
    with replay_server() as server, build_http_client() as client:
        server.script(
            API,
            revision_list([(1001, "2021-05-20T10:00:00Z"), (1002, "2021-05-31T12:00:00Z")]),
            rendered(1002, page / "sp500_2021-05-31_rev1025307873.html.gz"),
        )
        history = WikipediaHistorySettings(start=date(2021, 5, 1), api_url=server.url(API))
        live = _settings(tmp_path, server.base_url, SourceMode.AUTO, wikipedia_history=history)
        lists = Sources(live, client, archive).history()
        assert len(server.hits(API)) == 2  # the revision list, then May's last revision
    [revision] = [m for m in lists if m.source == "wikipedia revision 1002"]
    assert (revision.as_of, revision.members.table.num_rows) == (date(2021, 5, 31), 505)
    bundled = len(lists) - 1
    offline = _settings(
        tmp_path, "http://127.0.0.1:9", SourceMode.SNAPSHOT, wikipedia_history=history
    )
    with build_http_client() as client:
        again = Sources(offline, client, archive).history()
    assert len(again) == bundled + 1
    assert any(m.source == "wikipedia revision 1002" for m in again)


def test_a_bulk_folder_is_reported_as_local_files_not_as_the_snapshot(tmp_path: Path) -> None:
    bulk = tmp_path / "bulk"
    bulk.mkdir()
    facts = gzip.decompress((snapshot.SEC_COMPANYFACTS / f"CIK{APPLE}.json.gz").read_bytes())
    (bulk / f"CIK{APPLE}.json").write_bytes(facts)
    settings = _settings(tmp_path, "http://127.0.0.1:9", SourceMode.SNAPSHOT)
    settings = settings.model_copy(update={"sec": SecSettings(bulk_path=bulk)})
    with build_http_client() as client:
        sources = Sources(settings, client, RawArchive(str(tmp_path / "raw")))
        sources.constituents_page()
        reports = sources.financials([APPLE])
    assert set(reports.table.column("cik").to_pylist()) == {APPLE}
    assert sources.report.origins == {
        "constituents": "snapshot",
        "financials": "local files (sec-bulk)",
    }
    assert sources.report.summary == "mixed"
