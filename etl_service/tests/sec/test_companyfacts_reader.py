"""``read_companyfacts``: the simdjson selection gives what the full ``json`` parse gives.

Every case runs ``extract_quarterly`` on the body (the selective read) and on the document
the full parse (``parse_json``) decodes, and compares rows, rejects, warnings and split
events; where the full parse refuses the body, the selective read raises the same error.
"""

from __future__ import annotations

import gzip
import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from etl_service.errors import EtlError
from etl_service.snapshot import SEC_COMPANYFACTS
from etl_service.src.adapters.sec.companyfacts import parse_json, read_companyfacts
from etl_service.src.adapters.sec.quarterly import CONCEPTS_READ, extract_quarterly
from etl_service.tests.sec.builders import FY, Q1, Q2, body, companyfacts, fact

pytestmark = pytest.mark.unit

SOURCE = "CIK0000000001.json"
REAL = sorted(Path(SEC_COMPANYFACTS).glob("CIK*.json.gz"))


def _outcome(read: Callable[[], Any]) -> tuple[str, Any]:
    try:
        extracted = read()
    except EtlError as exc:
        return ("error", str(exc))
    return (
        "extracted",
        (
            extracted.table.to_pylist(),
            [r.reason for r in extracted.rejected],
            extracted.warnings,
            {name: table.to_pylist() for name, table in extracted.related.items()},
        ),
    )


def assert_same_as_full_parse(data: bytes) -> tuple[str, Any]:
    selective = _outcome(lambda: extract_quarterly(data, SOURCE))
    full = _outcome(lambda: extract_quarterly(parse_json(data, SOURCE), SOURCE))
    assert selective == full
    return selective


@pytest.mark.parametrize("path", REAL, ids=lambda p: p.name)
def test_real_companyfacts_extract_the_same_as_the_full_parse(path: Path) -> None:
    kind, (rows, _, _, related) = assert_same_as_full_parse(gzip.decompress(path.read_bytes()))
    assert kind == "extracted"
    assert len(rows) > 60
    assert related["split_events"]


def test_only_the_concepts_read_become_python_objects() -> None:
    data = gzip.decompress(REAL[0].read_bytes())
    doc = read_companyfacts(data, SOURCE, CONCEPTS_READ)
    full = parse_json(data, SOURCE)
    taxonomy = doc["facts"]["us-gaap"]
    assert set(doc) == {"cik", "entityName", "facts"}
    assert set(taxonomy) == set(CONCEPTS_READ) & set(full["facts"]["us-gaap"])
    assert all(taxonomy[c] == full["facts"]["us-gaap"][c] for c in taxonomy)
    assert len(taxonomy) < len(full["facts"]["us-gaap"]) / 10


def _quarters() -> dict[str, Any]:
    rows = [
        fact(*Q1, 1234567),
        fact(*Q2, 2345678, fp="Q2"),
        fact(*FY, 4567890, form="10-K", fp="FY", filed="2014-08-20"),
    ]
    return companyfacts({"Revenues": rows, "NetIncomeLoss": rows})


def _text(doc: dict[str, Any]) -> str:
    return body(doc).decode()


CASES: dict[str, Callable[[], bytes]] = {
    "plain": lambda: body(_quarters()),
    "NaN value": lambda: _text(_quarters()).replace("1234567", "NaN", 1).encode(),
    "value out of float range": lambda: _text(_quarters()).replace("1234567", "1e400", 1).encode(),
    "integer over 64 bits": lambda: (
        _text(_quarters()).replace("1234567", "123456789012345678901234567", 1).encode()
    ),
    "truncated": lambda: body(_quarters())[:-40],
    "not UTF-8": lambda: body(_quarters()).replace(b"Revenues", b"Revenues\xff", 1),
    "byte order mark": lambda: b"\xef\xbb\xbf" + body(_quarters()),
    "unescaped control character": lambda: (
        _text(_quarters()).replace('"10-Q"', '"10-Q\x01"', 1).encode()
    ),
    "top level is a list": lambda: b"[" + body(_quarters()) + b"]",
    "facts is a list": lambda: (
        _text(_quarters()).replace('"facts": {', '"facts": [{', 1).encode() + b"]"
    ),
    "cik is an object": lambda: json.dumps({**_quarters(), "cik": {"n": 1}}).encode(),
    "no us-gaap taxonomy": lambda: json.dumps(
        {**_quarters(), "facts": {"dei": _quarters()["facts"]["us-gaap"]}}
    ).encode(),
    "duplicate concept (the last one counts)": lambda: (
        _text(_quarters())
        .replace('"us-gaap": {', '"us-gaap": {"Revenues": {"units": {"USD": []}}, ', 1)
        .encode()
    ),
    "duplicate taxonomy": lambda: (
        _text(_quarters()).replace('"facts": {', '"facts": {"us-gaap": {}, ', 1).encode()
    ),
    "duplicate cik": lambda: _text(_quarters()).replace("{", '{"cik": 7, ', 1).encode(),
}


@pytest.mark.parametrize("case", CASES, ids=list(CASES))
def test_every_body_reads_as_the_full_parse_reads_it(case: str) -> None:
    assert_same_as_full_parse(CASES[case]())


def test_the_synthetic_body_has_quarters_to_compare() -> None:
    kind, (rows, _, _, _) = assert_same_as_full_parse(CASES["plain"]())
    assert kind == "extracted"
    assert [row["revenue"] for row in rows][:2] == [1234567, 2345678]


def test_a_truncated_body_is_refused_with_the_full_parse_s_message() -> None:
    kind, message = assert_same_as_full_parse(CASES["truncated"]())
    assert kind == "error"
    assert "malformed JSON" in message


def test_threads_each_read_with_their_own_parser(monkeypatch: pytest.MonkeyPatch) -> None:
    from concurrent.futures import ThreadPoolExecutor

    from etl_service.src.adapters.sec import companyfacts

    data = gzip.decompress(REAL[0].read_bytes())
    expected = read_companyfacts(data, SOURCE, CONCEPTS_READ)

    def no_fallback(data: bytes, source: str) -> None:
        raise AssertionError("fell back to the full parse (a parser shared between threads)")

    # a parser shared between threads refuses a second document while the first is in use;
    # the fallback would hide that, so here it fails the test instead
    monkeypatch.setattr(companyfacts, "parse_json", no_fallback)
    with ThreadPoolExecutor(4) as pool:
        docs = list(pool.map(lambda _: read_companyfacts(data, SOURCE, CONCEPTS_READ), range(16)))
    assert all(doc == expected for doc in docs)
