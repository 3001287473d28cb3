"""``extract companies`` and ``extract changes``: columns, order, formats and failures."""

from __future__ import annotations

import csv
import io
import json
import re
from datetime import date
from pathlib import Path

import pyarrow.parquet as pq
import pytest
from click.testing import CliRunner, Result

from etl_service.cli.extract_wikipedia import changes, companies
from etl_service.errors import InputError, SchemaError
from etl_service.settings import Settings
from etl_service.tests.support.replay_server import Reply, replay_server
from etl_service.tests.wikipedia.conftest import (
    DESKTOP_PAGE,
    OLD_CONSTITUENTS_ONLY_PAGE,
    OLD_DESKTOP_PAGE,
)
from etl_service.tests.wikipedia.pages import CHANGES_TABLE, constituents_table, good_page, page

pytestmark = pytest.mark.unit


def _run(command: object, args: list[str], settings: Settings) -> Result:
    return CliRunner().invoke(command, args, obj=settings)  # type: ignore[arg-type]


def test_companies_csv_columns_and_order(settings: Settings) -> None:
    result = _run(companies, ["--input", str(DESKTOP_PAGE)], settings)
    assert result.exit_code == 0, result.output
    rows = list(csv.reader(io.StringIO(result.stdout)))
    assert rows[0] == [
        "ticker",
        "name",
        "sector",
        "sub_industry",
        "headquarters",
        "date_added",
        "cik",
        "year_founded",
    ]
    tickers = [r[0] for r in rows[1:]]
    assert len(tickers) == 503
    assert tickers == sorted(tickers)
    mmm = next(r for r in rows if r[0] == "MMM")
    assert mmm == [
        "MMM",
        "3M",
        "Industrials",
        "Industrial Conglomerates",
        "Saint Paul, Minnesota",
        "1957-03-04",
        "0000066740",
        "1902",
    ]


def test_changes_json_columns_and_order(settings: Settings) -> None:
    result = _run(changes, ["--input", str(DESKTOP_PAGE), "--format", "json"], settings)
    assert result.exit_code == 0, result.output
    rows = [json.loads(line) for line in result.stdout.splitlines()]
    assert list(rows[0]) == [
        "date",
        "added_ticker",
        "added_name",
        "removed_ticker",
        "removed_name",
        "reason",
    ]
    assert len(rows) == 353
    keys = [(r["date"], r["added_ticker"] or "", r["removed_ticker"] or "") for r in rows]
    assert keys == sorted(keys)
    assert rows[0]["date"] == "1997-06-17"
    assert rows[-1]["removed_ticker"] == "BBWI"


def test_parquet_to_file(settings: Settings, tmp_path: Path) -> None:
    source = tmp_path / "page.html"
    source.write_bytes(good_page())
    out = tmp_path / "out" / "companies.parquet"
    result = _run(
        changes, ["--input", str(source), "--format", "parquet", "--out", str(out)], settings
    )
    assert result.exit_code == 0, result.output
    assert pq.read_table(out).column("date").to_pylist() == [
        date(2021, 6, 4),
        date(2021, 9, 20),
        date(2021, 9, 20),
    ]
    assert _run(changes, ["--input", str(source), "--format", "parquet"], settings).exit_code == 2


def test_needs_exactly_one_source(settings: Settings) -> None:
    assert _run(companies, [], settings).exit_code == 2
    both = _run(companies, ["--input", str(DESKTOP_PAGE), "--live"], settings)
    assert both.exit_code == 2
    assert "exactly one of --input" in both.output


@pytest.mark.parametrize(
    ("body", "error", "message"),
    [
        (good_page()[:-200], InputError, "truncated"),
        (b"", InputError, "empty"),
        ("<html>Soci\xe9t\xe9</html>".encode("latin-1"), InputError, "not UTF-8"),
        (page("<p>no tables</p>"), InputError, "no constituents table"),
        (
            page("<table id='constituents'><tr><th>Sy<<mb</td>ol>><tr><td>MMM", CHANGES_TABLE),
            SchemaError,
            "missing required",
        ),
        (
            page(
                constituents_table(
                    headers=(
                        "Symbol",
                        "Name",
                        "GICS Sector",
                        "GICS Sub-Industry",
                        "Headquarters Location",
                        "Date added",
                        "CIK",
                    )
                ),
                CHANGES_TABLE,
            ),
            SchemaError,
            "missing required column.s. name .*found headers .*'Name'",
        ),
    ],
)
@pytest.mark.parametrize("command", [companies, changes])
def test_bad_input_fails_and_writes_nothing(
    settings: Settings,
    tmp_path: Path,
    body: bytes,
    error: type[Exception],
    message: str,
    command: object,
) -> None:
    source = tmp_path / "page.html"
    source.write_bytes(body)
    out = tmp_path / "result.csv"
    result = _run(command, ["--input", str(source), "--out", str(out)], settings)
    assert isinstance(result.exception, error)
    assert result.exception.exit_code == 4  # type: ignore[attr-defined]
    assert result.exit_code != 0
    assert str(source) in str(result.exception)
    assert re.search(message, str(result.exception))
    assert not out.exists()
    assert list(tmp_path.glob(".result.csv*")) == []


def test_missing_input_file(settings: Settings, tmp_path: Path) -> None:
    result = _run(companies, ["--input", str(tmp_path / "nope.html")], settings)
    assert isinstance(result.exception, InputError)
    assert "no such file" in str(result.exception)


def test_live_fetches_archives_and_prints(settings: Settings) -> None:
    with replay_server() as server:
        server.script("/wiki/List", Reply(200, good_page(), {"Content-Type": "text/html"}))
        live = settings.model_copy(update={"wikipedia_url": server.url("/wiki/List")})
        result = _run(companies, ["--live"], live)
        assert result.exit_code == 0, result.output
        assert server.hits("/wiki/List")[0].headers["User-Agent"] == settings.user_agent
    assert list(csv.reader(io.StringIO(result.stdout)))[1:] == [
        [
            "AOS",
            "A. O. Smith",
            "Industrials",
            "Building Products",
            "Milwaukee, Wisconsin",
            "2017-07-26",
            "0000091142",
            "1916",
        ],
        [
            "MMM",
            "3M",
            "Industrials",
            "Industrial Conglomerates",
            "Saint Paul, Minnesota",
            "1957-03-04",
            "0000066740",
            "1902",
        ],
    ]
    archived = list((settings.data_dir / "raw" / "wikipedia").rglob("*.html"))
    assert len(archived) == 1
    assert archived[0].read_bytes() == good_page()


def test_page_without_changes_table_extracts_companies_but_not_changes(
    settings: Settings, caplog: pytest.LogCaptureFixture
) -> None:
    path = str(OLD_CONSTITUENTS_ONLY_PAGE)
    result = _run(companies, ["--input", path], settings)
    assert result.exit_code == 0, result.output
    tickers = [r[0] for r in csv.reader(io.StringIO(result.stdout))][1:]
    assert tickers == ["ABT", "ACE", "ACN", "ADBE", "AMD", "MMM"]
    assert f"{path}: no changes table found; index changes not read" in caplog.messages
    failed = _run(changes, ["--input", path], settings)
    assert isinstance(failed.exception, InputError)
    assert failed.exception.exit_code == 4
    assert str(failed.exception) == (
        f"{path}: the page has no changes table, so there are no index changes to extract"
    )
    assert failed.stdout == ""


def test_changes_of_an_old_desktop_page(settings: Settings) -> None:
    result = _run(changes, ["--input", str(OLD_DESKTOP_PAGE)], settings)
    assert result.exit_code == 0, result.output
    rows = list(csv.reader(io.StringIO(result.stdout)))
    assert rows[0][:4] == ["date", "added_ticker", "added_name", "removed_ticker"]
    assert [(r[0], r[1], r[3]) for r in rows[1:]] == [
        ("2015-12-15", "", "CMCSK"),
        ("2016-04-08", "UA", ""),
        ("2017-09-01", "DWDP", "DOW"),
        ("2017-09-01", "SBAC", "DD"),
        ("2017-09-18", "CDNS", "SPLS"),
        ("2017-10-13", "NCLH", "LVLT"),
    ]
