"""The live name resolver against a local replay server with SEC-shaped bodies."""

from __future__ import annotations

import json
from collections.abc import Sequence
from datetime import date
from typing import Any

import httpx
import pytest

from etl_service.errors import InputError
from etl_service.settings import Settings
from etl_service.src.adapters.http import HttpFetcher, RateLimiter
from etl_service.src.adapters.sec.client import build_sec_fetcher
from etl_service.src.adapters.sec.company_index import SecNameResolver
from etl_service.src.adapters.sec.former_ciks import FormerMember
from etl_service.tests.support.replay_server import ReplayServer, Reply, replay_server

pytestmark = pytest.mark.unit

UA = "Jane Doe jane@example.com"
LOOKUP = "/Archives/edgar/cik-lookup-data.txt"

# Real names and CIKs (as in the bundled constituents and SEC files); ALLERGAN PLC stands
# for the former Actavis, which left the index in 2020 under the name Allergan.
LOOKUP_BODY = b"""!J INC:0001438823:
ALLERGAN INC:0000850693:
ALLERGAN PLC:0001578845:
ACTAVIS PLC:0001578845:
BROWN FORMAN CORP:0000014693:
KB HOME:0000795266:
KAUFMAN & BROAD HOME CORP:0000795266:
TWITTER, INC.:0001418091:
TWITTER INC:0001418091:
VIACOM INC:0000813828:
VIACOM INC.:0000813828:
VIACOM INC.:0001339947:
"""


def _submissions(
    name: str,
    filings: Sequence[tuple[str, str]],
    former: Sequence[tuple[str, str, str]] = (),
    pages: Sequence[dict[str, Any]] = (),
) -> bytes:
    """A submissions document shaped like ``data.sec.gov/submissions/CIK##########.json``."""
    return json.dumps(
        {
            "name": name,
            "formerNames": [
                {"name": n, "from": f"{a}T00:00:00.000Z", "to": f"{b}T00:00:00.000Z"}
                for n, a, b in former
            ],
            "filings": {
                "recent": {
                    "form": [form for form, _ in filings],
                    "filingDate": [day for _, day in filings],
                },
                "files": list(pages),
            },
        }
    ).encode()


def _script_allergan(server: ReplayServer) -> None:
    # Allergan Inc. filed until its 2015 takeover; the older filings sit on a second page.
    server.script(
        "/submissions/CIK0000850693.json",
        Reply(
            200,
            _submissions(
                "ALLERGAN INC",
                [("15-12B", "2015-03-27"), ("8-K", "2015-03-17")],
                pages=[
                    {
                        "name": "CIK0000850693-submissions-001.json",
                        "filingFrom": "2010-01-04",
                        "filingTo": "2015-03-16",
                    }
                ],
            ),
        ),
    )
    server.script(
        "/submissions/CIK0000850693-submissions-001.json",
        Reply(
            200,
            json.dumps(
                {"form": ["10-K", "4"], "filingDate": ["2015-02-25", "2015-02-20"]}
            ).encode(),
        ),
    )
    server.script(
        "/submissions/CIK0001578845.json",
        Reply(
            200,
            _submissions(
                "Allergan plc",
                [("15-12B", "2020-05-18"), ("10-Q", "2020-05-07"), ("10-K", "2015-02-26")],
                former=[("ACTAVIS PLC", "2013-10-01", "2015-06-15")],
            ),
        ),
    )


def _resolver(
    settings: Settings, server: ReplayServer, limiter: RateLimiter | None = None
) -> SecNameResolver:
    fetcher = build_sec_fetcher(httpx.Client(), settings.http, UA)
    if limiter is not None:
        fetcher = HttpFetcher(httpx.Client(), settings.http, UA, rate_limiter=limiter)
    return SecNameResolver(fetcher, server.url(LOOKUP), server.base_url)


def test_exact_and_normalised_names(settings: Settings) -> None:
    with replay_server() as server:
        server.script(LOOKUP, Reply(200, LOOKUP_BODY))
        found = _resolver(settings, server).resolve(
            [
                FormerMember("KBH", "KB Home", date(2009, 12, 18)),
                FormerMember("BF.B", "Brown–Forman Corp.", date(2030, 1, 1)),
                FormerMember("TWTR", "Twitter", date(2022, 11, 1)),
            ]
        )
        assert len(server.hits(LOOKUP)) == 1  # one index fetch for the whole batch
    assert [(r.cik, r.method) for r in found] == [
        ("0000795266", "sec cik-lookup-data: exact-name 'KB HOME'"),
        ("0000014693", "sec cik-lookup-data: normalised-name 'BROWN FORMAN CORP'"),
        # two spellings, one CIK: no filings needed
        ("0001418091", "sec cik-lookup-data: normalised-name 'TWITTER, INC.'"),
    ]


def test_one_name_two_companies_is_decided_by_filings_and_name_history(
    settings: Settings,
) -> None:
    with replay_server() as server:
        server.script(LOOKUP, Reply(200, LOOKUP_BODY))
        _script_allergan(server)
        early, late = _resolver(settings, server).resolve(
            [
                FormerMember("AGN", "Allergan", date(2015, 3, 23)),
                FormerMember("AGN", "Allergan", date(2020, 5, 12)),
            ]
        )
        # each candidate document is fetched once for both removals
        assert len(server.hits("/submissions/CIK0001578845.json")) == 1
    # 2015: both filed a 10-K, but the later plc was still called Actavis then.
    assert early.cik == "0000850693"
    assert early.method == (
        "sec name+filings: 10-K filed 2015-02-25, named 'ALLERGAN INC' then "
        "(2 CIKs named like 'Allergan')"
    )
    # 2020: only the plc filed; the old Allergan Inc. stopped in 2015.
    assert late.cik == "0001578845"
    assert late.method.startswith("sec name+filings: 10-Q filed 2020-05-07, named 'Allergan plc'")


def test_a_tie_stays_null_with_the_evidence(settings: Settings) -> None:
    with replay_server() as server:
        server.script(LOOKUP, Reply(200, LOOKUP_BODY))
        for cik in ("0000813828", "0001339947"):
            server.script(
                f"/submissions/CIK{cik}.json",
                Reply(200, _submissions("VIACOM INC.", [("10-Q", "2019-11-07")])),
            )
        (found,) = _resolver(settings, server).resolve(
            [FormerMember("VIAB", "Viacom", date(2019, 12, 5))]
        )
    assert found.cik is None
    assert found.method == (
        "ambiguous: 2 SEC filers named like 'Viacom': "
        "0000813828 10-Q filed 2019-11-07, named 'VIACOM INC.' then; "
        "0001339947 10-Q filed 2019-11-07, named 'VIACOM INC.' then"
    )


def test_unknown_or_missing_name_is_null_with_the_reason(settings: Settings) -> None:
    with replay_server() as server:
        server.script(LOOKUP, Reply(200, LOOKUP_BODY))
        unknown, nameless = _resolver(settings, server).resolve(
            [
                FormerMember("LEH", "Lehman Brothers", date(2008, 9, 16)),
                FormerMember("AABA", None, date(2017, 6, 19)),
            ]
        )
    assert (unknown.cik, unknown.method) == (
        None,
        "not found: no SEC filer name matches 'Lehman Brothers'",
    )
    assert (nameless.cik, nameless.method) == (None, "not found: no name to search")


def test_user_agent_and_rate_limiter_on_every_request(settings: Settings) -> None:
    class CountingLimiter(RateLimiter):
        def __init__(self) -> None:
            super().__init__(100.0)
            self.acquired = 0

        def acquire(self) -> None:
            self.acquired += 1
            super().acquire()

    limiter = CountingLimiter()
    with replay_server() as server:
        server.script(LOOKUP, Reply(200, LOOKUP_BODY))
        _script_allergan(server)
        _resolver(settings, server, limiter).resolve(
            [FormerMember("AGN", "Allergan", date(2015, 3, 23))]
        )
        requests = list(server.requests)
    assert len(requests) == 4  # index, two candidates, one older-filings page
    assert {r.headers["User-Agent"] for r in requests} == {UA}
    assert limiter.acquired == len(requests)


def test_the_default_fetcher_uses_the_process_wide_sec_limiter(settings: Settings) -> None:
    fetcher = build_sec_fetcher(httpx.Client(), settings.http, UA)
    assert fetcher.rate_limiter is not None


@pytest.mark.parametrize(
    "body",
    [b"<html><body>Request Rate Threshold Exceeded</body></html>\n", b"", b"KB HOME|795266\n"],
)
def test_a_garbled_index_is_an_input_error_naming_the_url(settings: Settings, body: bytes) -> None:
    with replay_server() as server:
        server.script(LOOKUP, Reply(200, body))
        resolver = _resolver(settings, server)
        with pytest.raises(InputError, match="cik-lookup-data format") as raised:
            resolver.resolve([FormerMember("KBH", "KB Home", date(2009, 12, 18))])
    assert server.url(LOOKUP) in str(raised.value)


def test_a_garbled_submissions_document_is_an_input_error_naming_the_url(
    settings: Settings,
) -> None:
    with replay_server() as server:
        server.script(LOOKUP, Reply(200, LOOKUP_BODY))
        server.script("/submissions/CIK0000850693.json", Reply(200, b"<html>"))
        server.script("/submissions/CIK0001578845.json", Reply(200, b"{}"))
        with pytest.raises(InputError, match=r"CIK0000850693\.json:line 1: malformed JSON"):
            _resolver(settings, server).resolve(
                [FormerMember("AGN", "Allergan", date(2015, 3, 23))]
            )
