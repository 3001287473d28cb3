"""Appending new days to stored closes: the overlap must agree, or the file is fetched whole."""

from __future__ import annotations

from datetime import date, timedelta
from pathlib import Path

import pyarrow as pa
import pytest

from etl_service.settings import HttpSettings, Settings
from etl_service.src.adapters.archive import RawArchive
from etl_service.src.adapters.http import build_http_client
from etl_service.src.adapters.prices.base import CLOSES_SCHEMA
from etl_service.src.adapters.prices.incremental import OVERLAP_DAYS, append, fetch_from
from etl_service.src.adapters.prices.source import StooqSource, split_by_ticker
from etl_service.src.adapters.registry import SourceContext
from etl_service.tests.support.replay_server import Reply, replay_server

pytestmark = pytest.mark.unit

SOURCE = "daily_csv_url:aapl.us (adjusted)"
FIRST = date(2024, 9, 2)


def closes(days: range, scale: float = 1.0, source: str = SOURCE, ticker: str = "AAPL") -> pa.Table:
    dates = [FIRST + timedelta(days=d) for d in days]
    return pa.Table.from_pydict(
        {
            "ticker": [ticker] * len(dates),
            "date": dates,
            "close": [round((100.0 + d) * scale, 2) for d in days],
            "source": [source] * len(dates),
            "adjusted_as_of": [dates[-1] if dates else None] * len(dates),
        },
        schema=CLOSES_SCHEMA,
    )


def test_new_days_are_appended_when_the_overlap_agrees() -> None:
    stored, fetched = closes(range(0, 30)), closes(range(20, 35))
    appended = append(stored, fetched)
    assert appended.table is not None
    assert appended.new_days == 5
    assert appended.table["date"].to_pylist() == [FIRST + timedelta(days=d) for d in range(35)]
    assert appended.table["close"].to_pylist() == [100.0 + d for d in range(35)]
    # the stored adjusted closes are now dated by the new last day, as a whole file would be
    assert set(appended.table["adjusted_as_of"].to_pylist()) == {FIRST + timedelta(days=34)}


@pytest.mark.parametrize(
    ("fetched", "reason"),
    [
        (closes(range(20, 35), scale=0.5), "differs from the vendor's now"),  # a 2:1 split
        (closes(range(31, 35)), "no day in common"),
        (closes(range(0)), "sent no days"),
    ],
    ids=["re-adjusted", "gap", "empty"],
)
def test_a_history_that_cannot_be_appended_to_is_fetched_whole(
    fetched: pa.Table, reason: str
) -> None:
    appended = append(closes(range(0, 30)), fetched)
    assert appended.table is None
    assert appended.refetch_because is not None
    assert reason in appended.refetch_because


def test_the_fetch_starts_an_overlap_before_the_last_stored_day() -> None:
    assert fetch_from(closes(range(0, 30))) == FIRST + timedelta(days=29 - OVERLAP_DAYS)


def _csv(table: pa.Table) -> bytes:
    rows = [
        f"{d:%Y-%m-%d},{c}"
        for d, c in zip(table["date"].to_pylist(), table["close"].to_pylist(), strict=True)
    ]
    return ("Date,Close\n" + "\n".join(rows) + "\n").encode()


def _source(tmp_path: Path, url: str, stored: pa.Table, **extra: object) -> StooqSource:
    settings = Settings(
        **extra,  # type: ignore[arg-type]
        data_dir=tmp_path,
        prices_url_template=url + "/q/d/l/?s={symbol}&i=d",
        http=HttpSettings(max_retries=0, cache_dir=tmp_path / "cache"),
    )
    context = SourceContext(
        settings,
        build_http_client(),
        RawArchive(str(tmp_path / "raw")),
        stored_closes=lambda tickers: stored,
    )
    return StooqSource(context)


def test_the_source_appends_or_refetches_and_notes_what_it_did(tmp_path: Path) -> None:
    stored = closes(range(0, 30))
    with replay_server() as server:
        server.script("/q/d/l/", Reply(200, _csv(closes(range(20, 35)))))
        source = _source(tmp_path, server.base_url, stored)
        appended = source.closes(["AAPL"])
        asked = [r.path for r in server.requests]
        server.requests.clear()
        # after a 2:1 split the vendor re-expresses the whole history: fetched whole again
        server.script(
            "/q/d/l/",
            Reply(200, _csv(closes(range(20, 35), scale=0.5))),
            Reply(200, _csv(closes(range(0, 35), scale=0.5))),
        )
        refetched = source.closes(["AAPL"])
        asked_again = [r.path for r in server.requests]
    assert asked == [f"/q/d/l/?s=aapl.us&i=d&d1={fetch_from(stored):%Y%m%d}"]
    assert appended.table.num_rows == 35
    assert asked_again == [asked[0], "/q/d/l/?s=aapl.us&i=d"]
    assert refetched.table["close"].to_pylist() == [round((100.0 + d) * 0.5, 2) for d in range(35)]
    assert any("AAPL fetched whole" in w and "re-adjusted" in w for w in refetched.warnings)
    notes = source.context.notes
    assert (
        notes[0]
        == "prices: 1 tickers appended to their stored closes (5 new days); 0 fetched whole"
    )
    assert notes[1].endswith("0 new days); 1 fetched whole")


@pytest.mark.parametrize(
    ("stored", "extra"),
    [
        (closes(range(0, 30), source="stooq-file:aapl.us.txt"), {}),  # another source's
        (closes(range(0, 30)), {"full_refresh": True}),
        (closes(range(0, 30)), {"prices_since_param": ""}),  # a vendor without a range
    ],
    ids=["other source", "full refresh", "no since parameter"],
)
def test_whole_files_are_fetched_when_appending_does_not_apply(
    tmp_path: Path, stored: pa.Table, extra: dict[str, object]
) -> None:
    with replay_server() as server:
        server.script("/q/d/l/", Reply(200, _csv(closes(range(0, 35)))))
        result = _source(tmp_path, server.base_url, stored, **extra).closes(["AAPL"])
        asked = [r.path for r in server.requests]
    assert asked == ["/q/d/l/?s=aapl.us&i=d"]
    assert result.table.num_rows == 35


def test_split_by_ticker_groups_in_date_order() -> None:
    table = pa.concat_tables([closes(range(3)), closes(range(3), ticker="AMZN")])
    groups = split_by_ticker(table.take([5, 0, 4, 2, 1, 3]))
    assert sorted(groups) == ["AAPL", "AMZN"]
    assert groups["AAPL"]["date"].to_pylist() == [FIRST + timedelta(days=d) for d in range(3)]
