"""FMP historical daily prices through FmpClient against the local replay server.

No real FMP price response has been recorded (PROVENANCE.md §5 has only income statements and
the earnings calendar), so the body is the hand-made fixture described in
``fixtures/prices/README.md``, shaped like FMP's ``historical-price-eod/full`` answer.
"""

from __future__ import annotations

import json
from datetime import date

import httpx
import pytest
from pydantic import SecretStr

from etl_service.errors import InputError, SourceRefusedError
from etl_service.settings import Settings
from etl_service.src.adapters.fmp.client import FmpClient
from etl_service.src.adapters.http import HttpFetcher
from etl_service.src.adapters.prices.fmp import PATH, FmpPrices
from etl_service.tests.prices.conftest import FIXTURES
from etl_service.tests.support.replay_server import Reply, replay_server

pytestmark = pytest.mark.unit

BODY = (FIXTURES / "fmp_historical_price_eod_aapl.json").read_bytes()
ROUTE = "/" + PATH


def _prices(settings: Settings, client: httpx.Client, base_url: str) -> FmpPrices:
    fetcher = HttpFetcher(client, settings.http, "test", sleep=lambda _: None, use_cache=False)
    fmp = FmpClient(fetcher, SecretStr("k3y"), base_url)
    return FmpPrices(fmp, start=date(2017, 11, 1), end=date(2017, 11, 10))


def test_prices_after_a_429_newest_first_put_in_order_null_close_rejected(
    settings: Settings,
) -> None:
    with replay_server() as server, httpx.Client() as client:
        server.script(ROUTE, Reply(429, headers={"Retry-After": "0"}), Reply(200, BODY))
        extracted = _prices(settings, client, server.base_url).closes(["BRK.B"])
        assert len(server.hits(ROUTE)) == 2
        query = server.hits(ROUTE)[-1].path
        assert "symbol=BRK-B" in query
        assert "from=2017-11-01" in query
        assert "to=2017-11-10" in query
    rows = extracted.table.to_pylist()
    assert [(r["date"], r["close"]) for r in rows] == [
        (date(2017, 11, 7), 174.18),
        (date(2017, 11, 9), 175.25),
        (date(2017, 11, 10), 174.67),
    ]
    assert {r["ticker"] for r in rows} == {"BRK.B"}
    assert rows[0]["source"] == "fmp:BRK-B (split-adjusted)"
    [rejected] = extracted.rejected
    assert rejected.reason == "fmp:BRK-B:3: close 'null' is not a number"


def test_legacy_shape_error_message_and_bad_body(settings: Settings) -> None:
    legacy = json.dumps({"symbol": "AAPL", "historical": json.loads(BODY)}).encode()
    with replay_server() as server, httpx.Client() as client:
        prices = _prices(settings, client, server.base_url)
        server.script(ROUTE, Reply(200, legacy))
        assert prices.closes(["AAPL"]).table.num_rows == 3
        server.script(ROUTE, Reply(200, b'{"Error Message": "Invalid API KEY."}'))
        with pytest.raises(SourceRefusedError, match="Invalid API KEY"):
            prices.closes(["AAPL"])
        server.script(ROUTE, Reply(200, b'{"symbol": "AAPL"}'))
        with pytest.raises(InputError, match="not a list of records"):
            prices.closes(["AAPL"])
        with pytest.raises(InputError, match="explicit tickers"):
            prices.closes()
