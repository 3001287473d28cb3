"""Local CIK resolution of former members, its inputs, and the bundled mapping."""

from __future__ import annotations

import gzip
from collections import Counter
from collections.abc import Sequence
from datetime import date
from pathlib import Path

import pyarrow as pa
import pytest

from etl_service.errors import InputError, SchemaError
from etl_service.snapshot import WIKIPEDIA_PAGE
from etl_service.src.adapters.sec.cik_observations import (
    CikObservation,
    ObservationKind,
    collect_member_spans,
    read_fsds_filers,
    read_member_spans,
    write_member_spans,
)
from etl_service.src.adapters.sec.company_names import MatchLevel, names_match
from etl_service.src.adapters.sec.former_ciks import (
    FORMER_CIKS_SCHEMA,
    FORMER_MEMBER_CIKS,
    TICKER_SPANS,
    CikResolution,
    FormerMember,
    build_former_ciks,
    former_members,
    load_bundled_former_ciks,
    load_bundled_observations,
    method_counts,
    read_former_ciks,
    read_ticker_spans,
    resolve_local,
    to_table,
    write_former_ciks,
)
from etl_service.src.adapters.wikipedia import parse_page, read_page_file

pytestmark = pytest.mark.unit

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures"

BUNDLED_COUNTS = {
    "observed": 80,
    "observed by name": 1,
    "sec company_tickers.json (2024-05-14) by ticker+name": 62,
    "sec fsds 2009q3 sub.txt by name": 18,
    "sec fsds 2009q3 sub.txt by former name": 3,
    "ambiguous": 10,
    "not found": 566,
}
"""Rows of the bundled mapping per kind of method (the text before the first colon)."""


@pytest.fixture(scope="module")
def observations() -> list[CikObservation]:
    return load_bundled_observations()


@pytest.fixture(scope="module")
def changes() -> pa.Table:
    return parse_page(read_page_file(WIKIPEDIA_PAGE), str(WIKIPEDIA_PAGE)).changes.table


def _one(member: FormerMember, observations: list[CikObservation]) -> CikResolution:
    (found,) = resolve_local([member], observations)
    return found


@pytest.mark.parametrize(
    ("a", "b", "level"),
    [
        ("KB Home", "KB HOME", MatchLevel.EXACT),
        ("Brown–Forman Corp.", "BROWN FORMAN CORP", MatchLevel.NORMALISED),
        ("Brown-Forman Corp.", "Brown–Forman", MatchLevel.NORMALISED),
        ("The Hershey Company", "HERSHEY CO", MatchLevel.NORMALISED),
        ("VF Corporation", "V F CORP", MatchLevel.NORMALISED),
        ("WR Grace", "W R GRACE & CO", MatchLevel.NORMALISED),
        ("Crown Holdings", "CROWN HOLDINGS, INC.", MatchLevel.NORMALISED),
        ("Bank of America", "BANK OF AMERICA CORP /DE/", MatchLevel.NORMALISED),
        ("AT&T Corporation", "AT&T INC.", None),  # two registrants, CIKs 5907 and 732717
        ("Noble Corporation", "Noble Corp plc", None),
        ("Sunoco", "Sunoco LP", None),
        ("Constellation Energy Group", "Constellation Energy Corp", None),
        ("Alpha Natural Resources", "ALPHA NATURAL RESOURCES, INC./OLD", None),
    ],
)
def test_name_matching_rules(a: str, b: str, level: MatchLevel | None) -> None:
    assert names_match(a, b) == level


def test_known_ciks_are_observed_inside_the_membership(
    observations: list[CikObservation],
) -> None:
    twitter = _one(FormerMember("TWTR", "Twitter", date(2022, 11, 1)), observations)
    assert (twitter.cik, twitter.method) == (
        "0001418091",
        "observed: wikipedia rev 1113365991 (2022-10-01)",
    )
    # NLOK became GEN and VIAC became PARA: the old ticker's removal keeps the company's CIK.
    norton = _one(FormerMember("NLOK", None, date(2022, 11, 8), date(2019, 11, 5)), observations)
    assert (norton.cik, norton.name) == ("0000849399", "NortonLifeLock")
    assert norton.method.endswith("by ticker within the membership from 2019-11-05")
    viacom = _one(FormerMember("VIAC", "ViacomCBS", date(2022, 2, 17)), observations)
    assert viacom.cik == "0000813828"
    unum = _one(FormerMember("UNM", "Unum", date(2021, 9, 20)), observations)
    assert (unum.cik, unum.method) == (
        "0000005513",
        "observed: wikipedia rev 1044399957 (2021-09-15), listed as 'Unum Group'",
    )


def test_a_ticker_gets_the_cik_of_its_period(observations: list[CikObservation]) -> None:
    # Real data: APA was CIK 6769 (Apache) until 2022-08 and 1841666 (APA Corp) from 2022-10.
    before = _one(FormerMember("APA", "APA Corporation", date(2022, 9, 1)), observations)
    after = _one(FormerMember("APA", "APA Corporation", date(2024, 1, 1)), observations)
    assert (before.cik, after.cik) == ("0000006769", "0001841666")


def test_a_reused_ticker_never_lends_its_later_cik(observations: list[CikObservation]) -> None:
    # T is AT&T Inc. (732717, formerly SBC) today; AT&T Corp. (5907) left in 2005.
    att = _one(FormerMember("T", "AT&T Corporation", date(2005, 11, 18)), observations)
    assert att.cik is None
    assert att.method.startswith("not found: unconfirmed name match 0000732717 'AT&T'")
    # DD was E. I. du Pont until 2017; "DuPont" on today's list is DowDuPont's successor.
    dupont = _one(FormerMember("DD", "DuPont", date(2017, 9, 1)), observations)
    assert dupont.cik is None


def test_synthetic_reuse_is_resolved_per_period() -> None:
    def member(cik: str, name: str, start: date, end: date) -> CikObservation:
        return CikObservation(ObservationKind.MEMBER, cik, name, "XYZ", start, end, "snap", "snap")

    seen = [
        member("0000000001", "Old Widgets", date(2010, 1, 1), date(2012, 1, 1)),
        member("0000000002", "New Gadgets", date(2020, 1, 1), date(2022, 1, 1)),
    ]
    old, new, wrong = resolve_local(
        [
            FormerMember("XYZ", "Old Widgets", date(2012, 3, 1)),
            FormerMember("XYZ", "New Gadgets", date(2022, 3, 1)),
            FormerMember("XYZ", "Old Widgets", date(2022, 3, 1)),  # name of the other era
        ],
        seen,
    )
    assert (old.cik, new.cik, wrong.cik) == ("0000000001", "0000000002", None)


def test_names_that_disagree_stay_ambiguous(observations: list[CikObservation]) -> None:
    alcoa = _one(FormerMember("AA", "Alcoa", date(2016, 11, 1)), observations)
    assert alcoa.cik is None
    assert alcoa.method == (
        "ambiguous: 0000004281 'ALCOA INC' (sec fsds 2009q3 sub.txt (2009-07-23)); "
        "0001675149 'Alcoa Corp' (sec company_tickers.json (2024-05-14) (2024-05-14))"
    )


def test_name_evidence_confirms_only_close_to_the_removal(
    observations: list[CikObservation],
) -> None:
    kb = _one(FormerMember("KBH", "KB Home", date(2009, 12, 18)), observations)
    assert (kb.cik, kb.method) == (
        "0000795266",
        "sec company_tickers.json (2024-05-14) by ticker+name: exact-name 'KB HOME'",
    )
    genzyme = _one(FormerMember("GENZ", "Genzyme", date(2011, 4, 1)), observations)
    assert genzyme.cik == "0000732485"
    assert genzyme.method.startswith(
        "sec fsds 2009q3 sub.txt by name: normalised-name 'GENZYME CORP' (filed 2009-09-04)"
    )
    # Kraft Foods Inc. (2009) is not the Kraft Foods Group that left in 2015.
    kraft = _one(FormerMember("KRFT", "Kraft Foods", date(2015, 7, 6)), observations)
    assert kraft.cik is None
    assert "too far from the removal" in kraft.method


def test_former_members_cover_the_page_and_the_ended_spans(changes: pa.Table) -> None:
    spans = read_ticker_spans(TICKER_SPANS)
    members = former_members(changes, spans)
    removals = [r for r in changes.to_pylist() if r["removed_ticker"] or r["removed_name"]]
    from_page = [m for m in members if m.name_added is None and m.name is not None]
    assert len(removals) == 334
    assert len(members) == 740
    assert len({(m.ticker, m.removed) for m in members}) == len(members)
    assert len(from_page) >= len(removals)
    agn = [m for m in members if m.ticker == "AGN"]
    assert [(m.removed, m.member_since) for m in agn] == [
        (date(2015, 3, 23), None),
        (date(2020, 5, 12), date(1996, 1, 2)),
    ]
    # A span the page lacks is added, named after the page's addition of the ticker.
    (dfs,) = [m for m in members if m.ticker == "DFS"]
    assert (dfs.name, dfs.removed, dfs.name_added) == (
        "Discover Financial Services",
        date(2025, 5, 19),
        date(2007, 7, 2),
    )


def test_the_bundled_mapping_loads_with_the_reported_counts() -> None:
    table = load_bundled_former_ciks()
    assert table.schema == FORMER_CIKS_SCHEMA
    assert table.num_rows == sum(BUNDLED_COUNTS.values()) == 740
    rows = table.to_pylist()
    assert Counter(r["method"].split(":", 1)[0] for r in rows) == BUNDLED_COUNTS
    assert all(r["method"] for r in rows)
    assert all(
        (r["cik"] is None) == r["method"].startswith(("ambiguous", "not found")) for r in rows
    )
    assert all(r["cik"] is None or (len(r["cik"]) == 10 and r["cik"].isdigit()) for r in rows)
    by_key = {(r["ticker"], r["removed"]): r["cik"] for r in rows}
    assert by_key["TWTR", date(2022, 11, 1)] == "0001418091"
    assert by_key["NLOK", date(2022, 11, 8)] == "0000849399"
    assert by_key["VIAC", date(2022, 2, 17)] == "0000813828"


def test_the_bundled_mapping_is_what_the_generator_makes(
    changes: pa.Table, observations: list[CikObservation], tmp_path: Path
) -> None:
    resolutions = build_former_ciks(changes, read_ticker_spans(TICKER_SPANS), observations)
    out = tmp_path / "former_member_ciks.csv"
    write_former_ciks(resolutions, out)
    assert out.read_bytes() == FORMER_MEMBER_CIKS.read_bytes()
    assert read_former_ciks(out).equals(to_table(resolutions))
    assert dict(method_counts(resolutions)) == BUNDLED_COUNTS


def test_gaps_go_to_the_live_resolver(
    changes: pa.Table, observations: list[CikObservation]
) -> None:
    class Fake:
        def __init__(self) -> None:
            self.asked: list[FormerMember] = []

        def resolve(self, members: Sequence[FormerMember]) -> list[CikResolution]:
            self.asked.extend(members)
            return [
                CikResolution(m.ticker, m.name, m.removed, "0000000042", "sec test")
                if m.ticker == "LEH"
                else CikResolution(m.ticker, m.name, m.removed, None, "not found: test")
                for m in members
            ]

    fake = Fake()
    found = build_former_ciks(changes, read_ticker_spans(TICKER_SPANS), observations, fake)
    assert len(fake.asked) == BUNDLED_COUNTS["ambiguous"] + BUNDLED_COUNTS["not found"]
    leh = next(r for r in found if r.ticker == "LEH" and r.removed == date(2008, 9, 16))
    assert (leh.cik, leh.method) == ("0000000042", "sec test")
    kraft = next(r for r in found if r.ticker == "KRFT")
    assert kraft.method.startswith("not found: unconfirmed")
    assert kraft.method.endswith("; live: not found: test")


def test_member_spans_fold_consecutive_snapshots(tmp_path: Path) -> None:
    shared = tmp_path / "shared"
    folder = shared / "constituents"
    (folder / "datasets_s-and-p-500-companies").mkdir(parents=True)
    (folder / "riazarbi_sp500-scraper").mkdir()
    (folder / "fja05680_sp500").mkdir()
    header = "Symbol,Security,GICS Sector,GICS Sub-Industry,Headquarters Location,Date added,"
    header += "CIK,Founded\n"
    (folder / "datasets_s-and-p-500-companies" / "constituents_2023-04-13_6517cdb.csv").write_text(
        header + 'TWTR,Twitter,X,Y,"Z, CA",2013-12-23,1418091,2006\n'
    )
    (folder / "datasets_s-and-p-500-companies" / "constituents_2012-12-27_f8d9c4a.csv").write_text(
        "Symbol,Name,Sector\nTWTR,Twitter,X\n"  # no CIK column: skipped
    )
    (folder / "fja05680_sp500" / "sp500.csv").write_text(header)
    pages = sorted((FIXTURES / "wikipedia").glob("sp500_2022-1*.html.gz"))
    spans = collect_member_spans(shared, pages)
    twitter = [s for s in spans if s.ticker == "TWTR"]
    assert [(s.seen_from, s.seen_to, s.name) for s in twitter] == [
        (date(2022, 10, 1), date(2022, 10, 1), "Twitter Inc."),
        (date(2023, 4, 13), date(2023, 4, 13), "Twitter"),  # renamed there: a new span
    ]
    out = tmp_path / "spans.csv.gz"
    write_member_spans(spans, out)
    assert read_member_spans(out) == spans
    assert gzip.decompress(out.read_bytes()).startswith(b"ticker,name,cik,seen_from,")


def test_fsds_former_names_run_from_changed_to_the_latest_filing(tmp_path: Path) -> None:
    sub = tmp_path / "sub.txt"
    sub.write_text(
        "adsh\tcik\tname\tformer\tchanged\tfiled\n"
        "a1\t732717\tAT&T INC.\tSBC COMMUNICATIONS INC\t19950501\t20090806\n"
    )
    current, former = read_fsds_filers(sub, "fsds")
    assert (current.kind, current.name, current.seen_to) == (
        ObservationKind.FILER,
        "AT&T INC.",
        date(2009, 8, 6),
    )
    assert (former.kind, former.name, former.seen_from, former.seen_to) == (
        ObservationKind.FORMER_NAME,
        "SBC COMMUNICATIONS INC",
        date(1995, 5, 1),
        date(2009, 8, 6),
    )


def test_bad_inputs_are_typed_errors(tmp_path: Path) -> None:
    bad = tmp_path / "former_member_ciks.csv"
    bad.write_text("ticker,name,removed,cik\n")
    with pytest.raises(SchemaError, match="expected columns"):
        read_former_ciks(bad)
    bad.write_text("ticker,name,removed,cik,method\nAA,Alcoa,2016-13-01,,not found: x\n")
    with pytest.raises(InputError, match="line 2"):
        read_former_ciks(bad)
    spans = tmp_path / "spans.csv"
    spans.write_text("ticker,start\nAA,2000-01-01\n")
    with pytest.raises(SchemaError, match="start_date"):
        read_ticker_spans(spans)
