"""Stooq/Yahoo daily files: real snapshot values, ticker mapping, bad rows, URL template."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import httpx
import pyarrow.compute as pc
import pytest

from etl_service.errors import InputError, SchemaError, SourceRefusedError
from etl_service.settings import Settings
from etl_service.src.adapters.http import HttpFetcher
from etl_service.src.adapters.prices.base import CLOSES_SCHEMA, PriceValidator, RawPrice
from etl_service.src.adapters.prices.daily_csv import DailyCsvFolder, DailyCsvUrl
from etl_service.src.adapters.prices.files import read_prices
from etl_service.src.models.tickers import Vendor
from etl_service.tests.prices.conftest import FIXTURES
from etl_service.tests.support.replay_server import Reply, replay_server

pytestmark = pytest.mark.unit


def _close(table: object, ticker: str, day: date) -> float:
    import pyarrow as pa

    assert isinstance(table, pa.Table)
    mask = pc.and_(pc.equal(table["ticker"], ticker), pc.equal(table["date"], day))
    rows = table.filter(mask).to_pylist()
    assert len(rows) == 1
    return float(rows[0]["close"])


def test_snapshot_folder_reads_every_row_of_the_20_files(stooq_dir: Path) -> None:
    extracted = DailyCsvFolder(stooq_dir).closes()
    table = extracted.table
    assert table.schema == CLOSES_SCHEMA
    assert table.num_rows == 41_684
    assert extracted.rejected == []
    assert len(set(table["ticker"].to_pylist())) == 20
    # Values read by hand from aapl.us.txt (Close column).
    assert _close(table, "AAPL", date(2012, 12, 31)) == 68.754
    assert _close(table, "AAPL", date(2017, 11, 10)) == 174.67
    assert table.filter(pc.equal(table["ticker"], "AAPL"))["source"][0].as_py() == (
        "stooq_csv:aapl.us.txt.gz (adjusted)"
    )


def test_share_class_maps_to_the_stooq_file_and_a_rename_is_not_an_alias(
    stooq_dir: Path,
) -> None:
    folder = DailyCsvFolder(stooq_dir)
    brk = folder.closes(["BRK.B"]).table
    assert set(brk["ticker"].to_pylist()) == {"BRK.B"}
    assert brk.num_rows == 2231
    assert set(folder.closes(["FB"]).table["ticker"].to_pylist()) == {"FB"}
    with pytest.raises(InputError, match="no daily price file for ticker") as caught:
        folder.closes(["META"])
    assert caught.value.value == "META"


def test_each_bad_row_is_rejected_with_file_line_and_reason() -> None:
    path = FIXTURES / "bad_rows" / "aapl.us.txt"
    extracted = read_prices(path)
    assert extracted.table["date"].to_pylist() == [
        date(2017, 11, 1),
        date(2017, 11, 2),
        date(2017, 11, 9),
        date(2017, 11, 10),
    ]
    reasons = {r.record["line"]: r.reason for r in extracted.rejected}
    assert len(extracted.rejected) == 7
    assert extracted.warnings == ["rejected 7 price rows"]
    assert all(r.source == str(path) for r in extracted.rejected)
    assert reasons[4].startswith(f"{path}:4: duplicate date 2017-11-03 for AAPL")
    assert reasons[5] == f"{path}:5: duplicate date 2017-11-03 for AAPL"
    assert reasons[6] == f"{path}:6: Close 'n/a' is not a number"
    assert reasons[7] == f"{path}:7: Close 0.0 is not positive"
    assert reasons[8] == f"{path}:8: Close -175.61 is not positive"
    assert reasons[9] == f"{path}:9: date 2017-10-31 is out of order (after 2017-11-03)"
    assert reasons[12] == f"{path}:12: 3 fields, the header has 7"
    by_line = {r.record["line"]: r for r in extracted.rejected}
    assert by_line[6].record["field"] == "Close"
    assert by_line[6].record_key == "AAPL|2017-11-06"
    assert by_line[6].table == "daily_closes"


def test_unparseable_date_and_missing_close_are_rejected() -> None:
    validator = PriceValidator()
    validator.add(RawPrice("AAPL", "11/10/2017", {"Close": "1"}, "s", "f.csv", 2))
    validator.add(RawPrice("AAPL", "2017-11-10", {"Open": "1"}, "s", "f.csv", 3))
    validator.add(RawPrice("AAPL", "2017-11-10", {"Close": "nan"}, "s", "f.csv", 4))
    reasons = [r.reason for r in validator.extract().rejected]
    assert reasons == [
        "f.csv:2: date '11/10/2017' is not an ISO date",
        "f.csv:3: no Close value",
        "f.csv:4: Close 'nan' is not a finite number",
    ]


def test_a_file_of_another_layout_is_a_schema_error(tmp_path: Path) -> None:
    path = tmp_path / "x.csv"
    path.write_text("when,price\n2017-01-03,1\n")
    with pytest.raises(SchemaError, match="unknown price file layout") as caught:
        read_prices(path)
    assert caught.value.value == "when,price"


def test_url_template_retries_then_reads_and_maps_the_ticker(settings: Settings) -> None:
    body = (FIXTURES / "bad_rows" / "aapl.us.txt").read_bytes()
    with replay_server() as server, httpx.Client() as client:
        server.script("/q/d/l/brk-b.us", Reply(500), Reply(200, body))
        server.script("/q/d/l/aapl.us", Reply(200, b"No data"))
        fetcher = HttpFetcher(client, settings.http, "test", sleep=lambda _: None)
        source = DailyCsvUrl(fetcher, server.url("/q/d/l/{symbol}"), Vendor.STOOQ)
        extracted = source.closes(["BRK.B"])
        assert len(server.hits("/q/d/l/brk-b.us")) == 2
        assert set(extracted.table["ticker"].to_pylist()) == {"BRK.B"}
        assert extracted.table.num_rows == 4
        assert extracted.rejected[0].reason.startswith("daily_csv_url:brk-b.us:4: duplicate")
        with pytest.raises(SourceRefusedError, match="no price data for AAPL"):
            source.closes(["AAPL"])
        with pytest.raises(InputError, match="needs explicit tickers"):
            source.closes()
