"""The bad-input corpus: one case per way an input file can be unusable, per input kind.

Each case names the command, how to make its input, and what the one error line must say
besides the input's name. The classes come from issue 14 (NaN, 1e400 and 10**30 values,
deep nesting, Latin-1, binary, fake and truncated gzip, a 128 KiB+ line, FIFOs and devices,
far-future dates) and from the same question asked of every reader.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from etl_service.tests.corpus import builders as b
from etl_service.tests.corpus.builders import Make


@dataclass(frozen=True)
class Case:
    """A bad input for ``command``: ``make`` writes it, ``expect`` is a regex of the error."""

    id: str
    command: tuple[str, ...]
    make: Make
    expect: str
    env: dict[str, str] = field(default_factory=dict)
    by_cik: str | None = None
    """Read through ``--cik`` from the bulk path the input is (``ETL_SEC__BULK_PATH``)."""
    positional: bool = False
    """The input is an argument (``extract fsds QUARTER``), not ``--input``."""


COMPANIES = ("extract", "companies")
CHANGES = ("extract", "changes")
FINANCIALS = ("extract", "financials")
PRICES = ("extract", "prices")
FSDS = ("extract", "fsds")
APPLE = "320193"
APPLE_FILE = "CIK0000320193.json"


def _page(id_: str, make: Make, expect: str, command: tuple[str, ...] = COMPANIES) -> Case:
    return Case(f"page-{id_}", command, make, expect)


def _facts(id_: str, make: Make, expect: str) -> Case:
    return Case(f"companyfacts-{id_}", FINANCIALS, make, expect)


def _bulk(id_: str, make: Make, expect: str) -> Case:
    return Case(f"bulk-{id_}", FINANCIALS, make, expect, by_cik=APPLE)


def _prices(id_: str, make: Make, expect: str) -> Case:
    return Case(f"prices-{id_}", PRICES, make, expect)


def _fsds(id_: str, make: Make, expect: str) -> Case:
    return Case(f"fsds-{id_}", FSDS, make, expect, positional=True)


PAGE_CASES = [
    _page("empty", b.file("page.html", b""), "the page is empty"),
    _page("blank", b.file("page.html", b" \n\t\n"), "the page is empty"),
    _page(
        "latin1",
        b.file("page.html", b.GOOD_PAGE.replace(b"3M", b"3M Soci\xe9t\xe9")),
        "not UTF-8 text: byte b'\\\\xe9' at offset",
    ),
    _page("binary", b.file("page.html", b.BINARY), "not UTF-8 text"),
    _page("png", b.file("page.html", b.PNG), "not UTF-8 text"),
    _page(
        "nul",
        b.file("page.html", b.GOOD_PAGE.replace(b"<body>", b"<body>\x00")),
        "binary content, not text: NUL",
    ),
    _page("utf16", b.file("page.html", b.GOOD_PAGE.decode().encode("utf-16")), "not UTF-8 text"),
    _page("fake-gz", b.file("page.html.gz", b.GOOD_PAGE), "not a gzip file"),
    _page(
        "truncated-gz", b.file("page.html.gz", b.truncated_gz(b.GOOD_PAGE)), "truncated gzip file"
    ),
    _page("gz-of-binary", b.file("page.html.gz", b.gz(b.BINARY)), "not UTF-8 text"),
    _page("truncated-html", b.file("page.html", b.GOOD_PAGE[:-300]), "the page is truncated"),
    _page("not-html", b.file("page.html", b'{"parse": {"text": "x"}}'), "not an HTML page"),
    _page("other-page", b.file("page.html", b.OTHER_PAGE), "no constituents table"),
    _page("wrong-columns", b.file("page.html", b.WRONG_COLUMNS_PAGE), "missing required column"),
    _page("no-changes-table", b.file("page.html", b.NO_CHANGES_PAGE), "no changes table", CHANGES),
    _page("folder", b.folder("page.html"), "is a folder, expected a regular file"),
    _page("fifo", b.fifo("page.html"), "is a FIFO"),
    _page("dev-zero", b.existing("/dev/zero"), "is a character device"),
    _page("dev-null", b.existing("/dev/null"), "is a character device"),
    _page("missing", lambda d: d / "nowhere.html", "no such file"),
    _page(
        "symlink-loop",
        b.symlink_loop("page.html"),
        "cannot read: Too many levels of symbolic links",
    ),
    _page("huge", b.sparse("page.html"), "is 600 MiB, over the 512 MiB limit"),
    _page(
        "gz-trailing-garbage",
        b.file("page.html.gz", b.gz(b.GOOD_PAGE) + b"garbage"),
        "corrupt gzip file",
    ),
    _page(
        "newline-in-name", b.file("two\nlines.html", b""), "two\\\\nlines.html: the page is empty"
    ),
    _page("dangling-symlink", b.symlink("page.html", "/nonexistent/page.html"), "no such file"),
]

FACTS_CASES = [
    _facts(
        "nan",
        b.file(APPLE_FILE, b.companyfacts(raw="NaN")),
        "Revenues 2013-07-01..2013-09-30 value nan is not a finite number",
    ),
    _facts(
        "infinity",
        b.file(APPLE_FILE, b.companyfacts(raw="Infinity")),
        "value inf is not a finite number",
    ),
    _facts(
        "minus-infinity",
        b.file(APPLE_FILE, b.companyfacts(raw="-Infinity")),
        "value -inf is not a finite number",
    ),
    _facts(
        "1e400", b.file(APPLE_FILE, b.companyfacts(raw="1e400")), "value inf is not a finite number"
    ),
    _facts("10e30", b.file(APPLE_FILE, b.companyfacts(10**30)), "value 10{30} is out of range"),
    _facts(
        "float-out-of-range",
        b.file(APPLE_FILE, b.companyfacts(raw="-3.5e17")),
        "value -3.5e\\+17 is out of range",
    ),
    _facts(
        "5000-digits",
        b.file(APPLE_FILE, b.companyfacts(raw="9" * 5000)),
        "value inf is not a finite number",
    ),
    _facts(
        "value-text",
        b.file(APPLE_FILE, b.companyfacts("12,000")),
        "no quarterly revenue or net income facts",
    ),
    _facts(
        "value-bool",
        b.file(APPLE_FILE, b.companyfacts(True)),
        "no quarterly revenue or net income facts",
    ),
    _facts(
        "taxonomy-list",
        b.file(APPLE_FILE, b'{"cik": 320193, "facts": {"us-gaap": []}}'),
        "taxonomy is not an object",
    ),
    _facts("huge", b.sparse(APPLE_FILE), "over the 512 MiB limit"),
    _facts("deep-nesting", b.file(APPLE_FILE, b.deep_json()), "JSON nested too deeply"),
    _facts(
        "deep-in-facts",
        b.file(APPLE_FILE, b.deep_json(inside_facts=True)),
        "JSON nested too deeply",
    ),
    _facts(
        "malformed",
        b.file(APPLE_FILE, b.companyfacts()[:-40]),
        "line 1: malformed JSON: .* at column",
    ),
    _facts("empty", b.file(APPLE_FILE, b""), "malformed JSON: Expecting value"),
    _facts("array", b.file(APPLE_FILE, b"[1, 2]"), "expected a JSON object"),
    _facts("no-facts", b.file(APPLE_FILE, b'{"cik": 320193}'), "no 'facts' object"),
    _facts("bad-cik", b.file(APPLE_FILE, b'{"cik": "abc", "facts": {}}'), "missing or invalid CIK"),
    _facts(
        "no-fiscal-year",
        b.file(APPLE_FILE, b.companyfacts().replace(b'"10-K"', b'"10-Q"')),
        "cannot tell the fiscal-year end",
    ),
    _facts(
        "latin1",
        b.file(APPLE_FILE, b.companyfacts().replace(b"Synthetic Co", b"Soci\xe9t\xe9")),
        "not UTF-8 text: byte b'\\\\xe9'",
    ),
    _facts("binary", b.file(APPLE_FILE, b.BINARY), "not UTF-8 text"),
    _facts(
        "utf16", b.file(APPLE_FILE, b.companyfacts().decode().encode("utf-16")), "not UTF-8 text"
    ),
    _facts("fake-gz", b.file(APPLE_FILE + ".gz", b.companyfacts()), "not a gzip file"),
    _facts(
        "truncated-gz",
        b.file(APPLE_FILE + ".gz", b.truncated_gz(b.companyfacts())),
        "truncated gzip file",
    ),
    _facts("folder", b.folder(APPLE_FILE), "is a folder"),
    _facts("fifo", b.fifo(APPLE_FILE), "is a FIFO"),
    _facts("dev-zero", b.existing("/dev/zero"), "is a character device"),
    _facts("missing", lambda d: d / APPLE_FILE, "no such file"),
]

BULK_CASES = [
    _bulk("malformed", b.folder("bulk", b.file(APPLE_FILE, b"{")), "malformed JSON"),
    _bulk("deep", b.folder("bulk", b.file(APPLE_FILE, b.deep_json())), "nested too deeply"),
    _bulk(
        "nan-only",
        b.folder("bulk", b.file(APPLE_FILE, b.companyfacts(raw="NaN"))),
        "value nan is not a finite number",
    ),
    _bulk("fake-gz", b.folder("bulk", b.file(APPLE_FILE + ".gz", b"{}")), "not a gzip file"),
    _bulk("member-folder", b.folder("bulk", b.folder(APPLE_FILE)), "is a folder"),
    _bulk("member-fifo", b.folder("bulk", b.fifo(APPLE_FILE)), "is a FIFO"),
    _bulk(
        "missing-company",
        b.folder("bulk", b.file("CIK0000000001.json", b"{}")),
        "no CIK0000320193.json in the bulk folder",
    ),
    _bulk("garbage-file", b.file("companyfacts.zip", b.BINARY), "not a zip file nor a folder"),
    _bulk(
        "corrupt-zip-member",
        b.file(
            "companyfacts.zip", b.zipped({APPLE_FILE: b.companyfacts() * 50}, corrupt=APPLE_FILE)
        ),
        "corrupt zip file",
    ),
    _bulk("fifo", b.fifo("companyfacts.zip"), "is a FIFO"),
    _bulk("missing", lambda d: d / "companyfacts.zip", "no such file"),
]

PRICE_CASES = [
    _prices("empty", b.file("aapl.us.txt", b""), "unknown price file layout"),
    _prices("binary", b.file("aapl.us.txt", b.BINARY), "line 1: binary content, not text"),
    _prices("png", b.file("aapl.us.csv", b.PNG), "not UTF-8 text"),
    _prices(
        "latin1-header",
        b.file("aapl.us.txt", b"Dat\xe9,Close\n2024-01-02,1\n"),
        "line 1: not UTF-8 text: byte b'\\\\xe9' at offset 3",
    ),
    _prices(
        "latin1-rows",
        b.file(
            "aapl.us.txt",
            b.daily("2024-01-02,1,1,1,1\xe9,1", "2024-01-03,1,1,1,\xff,1", encoding="latin-1"),
        ),
        "no valid price rows \\(2 rejected, first: .*aapl.us.txt:2: not UTF-8 text",
    ),
    _prices("utf16", b.file("aapl.us.txt", b.UTF16), "not UTF-8 text"),
    _prices(
        "xlsx",
        b.file("aapl.us.csv", b.zipped({"xl/workbook.xml": b"<x/>"})),
        "not UTF-8 text|unknown price file layout",
    ),
    _prices(
        "fake-gz",
        b.file("aapl.us.txt.gz", b.daily(b.GOOD_DAY.replace(",", ",", 1))),
        "not a gzip file",
    ),
    _prices(
        "truncated-gz",
        b.file("aapl.us.txt.gz", b.truncated_gz(b.daily(*[b.GOOD_DAY] * 50))),
        "truncated gzip file",
    ),
    _prices(
        "long-header",
        b.file("aapl.us.txt", b"Date,Close," + b"x" * b.LONG_LINE + b"\n"),
        "line 1: unreadable CSV: field larger than field limit",
    ),
    _prices(
        "long-line",
        b.file("aapl.us.txt", b.daily('2024-01-02,1,1,1,"' + "9" * b.LONG_LINE + '",1')),
        "aapl.us.txt:2: unreadable CSV line: field larger than field limit",
    ),
    _prices(
        "wrong-columns",
        b.file("aapl.us.txt", b"Day,Price\n2024-01-02,1\n"),
        "unknown price file layout .*value 'Day,Price'",
    ),
    _prices(
        "nan-close",
        b.file("aapl.us.txt", b.daily("2024-01-02,1,1,1,NaN,1")),
        "Close 'NaN' is not a finite number",
    ),
    _prices(
        "inf-close",
        b.file("aapl.us.txt", b.daily("2024-01-02,1,1,1,inf,1")),
        "Close 'inf' is not a finite number",
    ),
    _prices(
        "1e400-close",
        b.file("aapl.us.txt", b.daily("2024-01-02,1,1,1,1e400,1")),
        "Close '1e400' is not a finite number",
    ),
    _prices(
        "text-close",
        b.file("aapl.us.txt", b.daily("2024-01-02,1,1,1,n/a,1")),
        "Close 'n/a' is not a number",
    ),
    _prices("header-only", b.file("aapl.us.txt", b.daily()), "no valid price rows$"),
    _prices(
        "duplicate-dates",
        b.file("aapl.us.txt", b.daily(b.GOOD_DAY, b.GOOD_DAY)),
        "duplicate date 2024-01-02 for AAPL",
    ),
    _prices("huge", b.sparse("aapl.us.txt"), "over the 512 MiB limit"),
    _prices(
        "negative-close",
        b.file("aapl.us.txt", b.daily("2024-01-02,1,1,1,-5,1")),
        "Close -5.0 is not positive",
    ),
    _prices(
        "future-date",
        b.file("aapl.us.txt", b.daily("2999-01-02,1,1,1,1,1")),
        "date 2999-01-02 is in the future",
    ),
    _prices(
        "before-1900",
        b.file("aapl.us.txt", b.daily("1850-01-02,1,1,1,1,1")),
        "date 1850-01-02 is before 1900",
    ),
    _prices(
        "bad-date",
        b.file("aapl.us.txt", b.daily("02/01/2024,1,1,1,1,1")),
        "date '02/01/2024' is not an ISO date",
    ),
    _prices(
        "short-rows", b.file("aapl.us.txt", b.daily("2024-01-02,1")), "2 fields, the header has 6"
    ),
    _prices(
        "holdings-wrong-header",
        b.file("ivv.csv", b"symbol,name,asset_class,price\nAAPL,Apple,Equity,1\n"),
        "unknown price file layout",
    ),
    _prices(
        "holdings-nan",
        b.file("ivv.csv", b.holdings("AAPL,Apple,Equity,NaN,NASDAQ,2024-01-02")),
        "price 'NaN' is not a finite number",
    ),
    _prices(
        "holdings-future",
        b.file("ivv.csv", b.holdings("AAPL,Apple,Equity,1,NASDAQ,2999-01-02")),
        "is in the future",
    ),
    _prices(
        "holdings-short-row", b.file("ivv.csv", b.holdings("AAPL,Apple")), "no valid price rows"
    ),
    _prices(
        "holdings-not-equity",
        b.file("ivv.csv", b.holdings("XTSLA,Cash,Money Market,1,-,2024-01-02")),
        "is not an equity",
    ),
    _prices("holdings-fake-gz", b.file("ivv.csv.gz", b.holdings()), "not a gzip file"),
    _prices(
        "folder-without-files",
        b.folder("prices", b.file("notes.md", b"x")),
        "no price files in folder",
    ),
    _prices(
        "folder-with-fifo",
        b.folder("prices", b.file("aapl.us.txt", b.daily(b.GOOD_DAY)), b.fifo("msft.us.txt")),
        "msft.us.txt: is a FIFO",
    ),
    _prices("folder-with-subfolder", b.folder("prices", b.folder("x.csv")), "x.csv: is a folder"),
    _prices("fifo", b.fifo("aapl.us.txt"), "is a FIFO"),
    _prices("dev-zero", b.existing("/dev/zero"), "is a character device"),
    _prices("missing", lambda d: d / "aapl.us.txt", "no such file"),
]

FSDS_CASES = [
    _fsds("not-a-zip", b.file("2009q3.zip", b.BINARY), "not a readable zip file"),
    _fsds(
        "zip-without-num",
        b.file("2009q3.zip", b.zipped({"sub.txt": b.SUB})),
        "missing member num.txt",
    ),
    _fsds(
        "zip-binary-header",
        b.file("2009q3.zip", b.zipped({"sub.txt": b.SUB, "num.txt": b.BINARY})),
        "2009q3.zip/num.txt:line 1: binary content, not text",
    ),
    _fsds(
        "folder-without-num", b.folder("2009q3", b.file("sub.txt", b.SUB)), "missing file num.txt"
    ),
    _fsds(
        "missing-column",
        b.folder("2009q3", b.file("sub.txt", b"adsh\tcik\n"), b.file("num.txt", b.NUM)),
        "missing column in the header .*field 'name'",
    ),
    _fsds(
        "empty-sub",
        b.folder("2009q3", b.file("sub.txt", b""), b.file("num.txt", b.NUM)),
        "empty file: no header line",
    ),
    _fsds(
        "latin1-header",
        b.folder("2009q3", b.file("sub.txt", b"adsh\xe9\n"), b.file("num.txt", b.NUM)),
        "sub.txt:line 1: not UTF-8 text",
    ),
    _fsds(
        "long-header",
        b.folder("2009q3", b.file("sub.txt", b"a" * b.LONG_LINE), b.file("num.txt", b.NUM)),
        "header line is over 65536 bytes",
    ),
    _fsds(
        "fake-gz",
        b.folder("2009q3", b.file("sub.txt.gz", b.SUB), b.file("num.txt", b.NUM)),
        "cannot read the header: Not a gzipped file",
    ),
    _fsds(
        "num-fifo",
        b.folder("2009q3", b.file("sub.txt", b.SUB), b.fifo("num.txt")),
        "num.txt: is a FIFO",
    ),
    _fsds(
        "sub-is-dev-zero",
        b.folder("2009q3", b.symlink("sub.txt", "/dev/zero"), b.file("num.txt", b.NUM)),
        "sub.txt: is a character device",
    ),
    _fsds(
        "gz-trailing-garbage",
        b.folder(
            "2009q3", b.file("sub.txt", b.SUB), b.file("num.txt.gz", b"\x1f\x8b\x08" + b"\0" * 20)
        ),
        "num.txt.gz: cannot read the header",
    ),
    _fsds("fifo", b.fifo("2009q3.zip"), "is a FIFO"),
    _fsds(
        "not-zip-name",
        b.file("2009q3.csv", b"a,b\n"),
        "expected a quarter folder or an SEC quarter .zip",
    ),
]

CASES: list[Case] = [*PAGE_CASES, *FACTS_CASES, *BULK_CASES, *PRICE_CASES, *FSDS_CASES]
