"""``etl-service query`` on a loaded snapshot: every subcommand, format and error."""

from __future__ import annotations

import csv
import io
import json
from typing import Any

import pytest
import sqlalchemy as sa

from etl_service.cli import main
from etl_service.errors import EXIT_CODES
from etl_service.settings import Settings
from etl_service.src.db.engine import create_engine

pytestmark = pytest.mark.unit


@pytest.fixture(autouse=True)
def _database(loaded: Settings, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ETL_DATABASE_URL", loaded.database_url_value)


def _out(capsys: pytest.CaptureFixture[str], *args: str) -> str:
    assert main(["query", *args]) == 0
    return capsys.readouterr().out


def test_sectors_lists_eleven_with_counts(capsys: pytest.CaptureFixture[str]) -> None:
    rows = list(csv.DictReader(io.StringIO(_out(capsys, "sectors", "--format", "csv"))))
    assert len(rows) == 11
    energy = next(r for r in rows if r["sector"] == "Energy")
    assert energy["companies"] == "22"


def test_sub_industry_and_metric_selection(capsys: pytest.CaptureFixture[str]) -> None:
    out = _out(capsys, "sub-industry", "semiconductors", "--metric", "avg_pe", "--format", "json")
    rows = [json.loads(line) for line in out.splitlines()]
    assert rows
    assert set(rows[0]) == {"quarter_end", "avg_pe"}
    assert any(r["avg_pe"] is not None for r in rows)
    # NVIDIA alone in its sub-industry: its median is its mean.
    rows = _json(
        capsys, "sub-industry", "semiconductors", "--metric", "median_pe", "--metric", "avg_pe"
    )
    assert all(r["median_pe"] == pytest.approx(r["avg_pe"]) for r in rows if r["avg_pe"])


def test_company_table_output_names_the_company(capsys: pytest.CaptureFixture[str]) -> None:
    out = _out(capsys, "company", "aapl", "--metric", "revenue")
    assert "Company: aapl" in out
    assert "94,930,000,000" in out  # fiscal 2024 Q4 revenue, FY - 9M


def _json(capsys: pytest.CaptureFixture[str], *args: str) -> list[dict[str, Any]]:
    return [json.loads(line) for line in _out(capsys, *args, "--format", "json").splitlines()]


def _aggregate(loaded: Settings, column: str, quarter: str) -> Any:
    with create_engine(loaded.database_url_value).connect() as conn:
        return conn.execute(
            sa.text(
                f"SELECT {column} FROM sector_aggregates WHERE level = 'sector' "
                "AND name = 'Information Technology' AND quarter_end = :q"
            ),
            {"q": quarter},
        ).scalar_one()


def test_sectors_side_by_side_on_one_metric(
    loaded: Settings, capsys: pytest.CaptureFixture[str]
) -> None:
    rows = _json(capsys, "sectors", "--metric", "revenue")
    assert len(rows[0]) == 12  # the quarter and the eleven sectors
    q4 = next(r for r in rows if r["quarter_end"] == "2024-12-31")
    assert q4["Information Technology"] == pytest.approx((124_300_000_000 + 39_331_000_000) / 2)
    assert q4["Energy"] is None  # the snapshot has financials for Apple and NVIDIA only
    medians = _json(capsys, "sectors", "--metric", "eps", "--stat", "median")
    q4 = next(r for r in medians if r["quarter_end"] == "2024-12-31")
    assert q4["Information Technology"] == _aggregate(loaded, "median_eps_diluted", "2024-12-31")
    counts = _json(capsys, "sectors", "--metric", "pe", "--stat", "count")
    assert {r["Information Technology"] for r in counts} <= {0, 1, 2}


def test_since_and_last_pick_the_quarters(capsys: pytest.CaptureFixture[str]) -> None:
    since = _json(capsys, "sectors", "--metric", "revenue", "--since", "2025-01-01")
    assert since[0]["quarter_end"] == "2025-03-31"
    last = _json(capsys, "sector", "Information Technology", "--since", "2020-01-01", "--last", "2")
    assert [r["quarter_end"] for r in last] == [r["quarter_end"] for r in since[-2:]]
    company = _json(capsys, "company", "AAPL", "--metric", "revenue", "--last", "4")
    assert len(company) == 4
    assert company[-1]["period_end"] == max(
        r["period_end"] for r in _json(capsys, "company", "AAPL", "--metric", "revenue")
    )
    assert main(["query", "sectors", "--last", "2"]) == EXIT_CODES["configuration"]
    assert "--since and --last need --metric" in capsys.readouterr().err


def test_sub_industries_of_a_sector_with_company_counts(
    capsys: pytest.CaptureFixture[str],
) -> None:
    rows = _json(capsys, "sub-industries", "information technology")
    counts = {r["sub_industry"]: r["companies"] for r in rows}
    assert counts["Semiconductors"] == 15
    assert sum(counts.values()) == 69  # every IT constituent in exactly one sub-industry


def test_companies_of_a_sub_industry(capsys: pytest.CaptureFixture[str]) -> None:
    rows = _json(capsys, "companies", "Semiconductors")
    assert len(rows) == 15
    assert {"ticker": "NVDA", "name": "Nvidia", "cik": "0001045810"} in rows
    assert set(rows[0]) == {"ticker", "name", "cik"}


def test_members_on_a_date_under_their_ticker_then(capsys: pytest.CaptureFixture[str]) -> None:
    rows = {r["ticker"]: r for r in _json(capsys, "members", "--on", "2015-06-30")}
    assert 495 <= len(rows) <= 510
    # Facebook under its 2015 ticker, with today's name and sector (same CIK).
    assert rows["FB"] == {
        "ticker": "FB",
        "name": "Meta Platforms",
        "cik": "0001326801",
        "sector": "Communication Services",
    }
    assert "META" not in rows
    assert rows["AAPL"]["sector"] == "Information Technology"
    # A member then that has left since: from former_members.
    assert rows["BBBY"]["name"] == "Bed Bath & Beyond"


def test_members_needs_on_not_the_lakes_as_of(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["query", "members", "--as-of", "2015-06-30"]) == EXIT_CODES["configuration"]
    assert "Missing option '--on'" in capsys.readouterr().err


def test_an_empty_result_says_so_and_exits_0(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["query", "members", "--on", "1900-01-01", "--format", "csv"]) == 0
    captured = capsys.readouterr()
    assert captured.out == ""
    assert "no rows: Members on 1900-01-01" in captured.err
    assert main(["query", "sector", "Energy", "--since", "2030-01-01"]) == 0
    assert "no rows" in capsys.readouterr().err


def test_unknown_names_exit_4_with_the_closest_names(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["query", "sector", "Crypto"]) == EXIT_CODES["bad input"]
    err = capsys.readouterr().err
    assert "unknown sector: 'Crypto'; known: Communication Services," in err
    assert main(["query", "sub-industries", "Enrgy"]) == EXIT_CODES["bad input"]
    assert "did you mean 'Energy'?" in capsys.readouterr().err
    assert main(["query", "companies", "semiconductor"]) == EXIT_CODES["bad input"]
    assert "'Semiconductor Materials & Equipment', 'Semiconductors'" in capsys.readouterr().err
    assert main(["query", "company", "APPL"]) == EXIT_CODES["bad input"]
    err = capsys.readouterr().err
    assert "neither a constituent nor a former member" in err
    assert "did you mean 'AAPL (Apple Inc.)'" in err
    assert main(["query", "company", "ZZZZ"]) == EXIT_CODES["bad input"]
    assert "unknown ticker: 'ZZZZ'" in capsys.readouterr().err


def test_errors_are_one_json_line_with_log_format_json(
    capsys: pytest.CaptureFixture[str],
) -> None:
    assert main(["--log-format", "json", "query", "sector", "Enrgy"]) == EXIT_CODES["bad input"]
    error = json.loads(capsys.readouterr().err.strip().splitlines()[-1])
    assert error == {
        "level": "error",
        "error": "BadInputError",
        "exit_code": 4,
        "message": "unknown sector: 'Enrgy'; did you mean 'Energy'?",
    }
    assert main(["--log-format=json", "query", "members"]) == EXIT_CODES["configuration"]
    error = json.loads(capsys.readouterr().err.strip().splitlines()[-1])
    assert (error["error"], error["exit_code"]) == ("MissingParameter", 2)
