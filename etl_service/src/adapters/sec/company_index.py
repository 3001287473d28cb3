"""Live CIK resolution by company name: SEC's company name index, then the candidates' filings.

Why these files:

- ``Archives/edgar/cik-lookup-data.txt`` lists every name each EDGAR filer has ever used with
  its CIK (``NAME:CIK:`` lines, tens of MB). It is the one SEC file that knows *former* names,
  which is what a company that left the index usually has; ``company_tickers.json`` only
  knows today's tickers. It is fetched once per run; the HTTP disk cache turns later fetches
  into conditional requests.
- A name often belongs to several CIKs (an old and a new registrant, a subsidiary, a shell).
  Each candidate's ``data.sec.gov/submissions/CIK##########.json`` (tens to hundreds of kB)
  then says whether it carried the name on the removal date (``formerNames`` with from/to
  dates) and whether it filed a 10-K or 10-Q in the year before. The quarterly
  ``full-index/YYYY/QTRn/company.idx`` could answer the filings question too, but at
  ~50 MB per quarter; one small request per candidate is cheaper and also knows the names.

Requests are sequential through the fetcher's rate limiter: one for the index, then for each
ambiguous name one per candidate (at most ``max_candidates``), plus an older-filings page
when the ``recent`` block does not reach back to the removal.
"""

from __future__ import annotations

import logging
import re
import unicodedata
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

from etl_service.errors import InputError, SourceRefusedError
from etl_service.src.adapters.files import parse_json
from etl_service.src.adapters.http import HttpFetcher
from etl_service.src.adapters.sec.company_names import MatchLevel, NameKey, match_level, name_key
from etl_service.src.adapters.sec.companyfacts import cik10
from etl_service.src.adapters.sec.former_ciks import PAGE_LAG, CikResolution, FormerMember

logger = logging.getLogger(__name__)

CIK_LOOKUP_URL = "https://www.sec.gov/Archives/edgar/cik-lookup-data.txt"
PERIODIC_FORMS = frozenset({"10-K", "10-Q", "10-K405", "10-KT", "10-QT", "10-K/A", "10-Q/A"})
FILINGS_BEFORE = timedelta(days=400)
"""A 10-K or 10-Q this long before a removal shows an operating filer (annual filers too)."""
MAX_BAD_LINES = 0.01
"""Share of lines that may not parse before the index is refused as garbled."""

_LINE_RE = re.compile(r"^(.*):(\d{1,10}):\s*$")
_PREFIX = 6


@dataclass(frozen=True)
class _Candidate:
    cik: str
    name: str
    level: MatchLevel


@dataclass(frozen=True)
class _Evidence:
    cik: str
    filing: str | None  # "10-Q filed 2015-02-10"
    named: str | None  # the matching name in use on the removal date
    problem: str | None = None

    @property
    def score(self) -> tuple[bool, bool]:
        return self.filing is not None, self.named is not None


def _compact(name: str) -> str:
    """The name's letters and digits only: a cheap prefix of its ``NameKey.base``."""
    if not name.isascii():
        name = "".join(
            c for c in unicodedata.normalize("NFKD", name) if not unicodedata.combining(c)
        )
    return re.sub(r"[^a-z0-9]", "", name.casefold().replace("&", "and"))


class CikLookupIndex:
    """The entries of ``cik-lookup-data.txt`` whose names could match some wanted names."""

    def __init__(self, body: bytes, source: str, wanted: Iterable[NameKey]) -> None:
        self.by_base: dict[str, list[tuple[str, str]]] = defaultdict(list)
        bases = {k.base for k in wanted if k.base}
        prefixes = {b[:_PREFIX] for b in bases}
        lengths = {len(p) for p in prefixes}
        try:
            text = body.decode("utf-8")
        except UnicodeDecodeError:
            text = body.decode("latin-1")  # older EDGAR names are Latin-1
        lines = bad = 0
        first_bad: tuple[int, str] | None = None
        for number, line in enumerate(text.splitlines(), start=1):
            if not line.strip():
                continue
            lines += 1
            match = _LINE_RE.match(line)
            if match is None or int(match[2]) == 0:
                bad += 1
                first_bad = first_bad or (number, line)
                continue
            name = match[1]
            compact = _compact(name)
            heads = (compact, compact[3:]) if compact.startswith("the") else (compact,)
            if not any(h[:n] in prefixes for h in heads for n in lengths):
                continue  # cheap pre-filter: most of the index is never wanted
            key = name_key(name)
            if key.base in bases:
                self.by_base[key.base].append((name, cik10(match[2])))
        logger.info(
            "%s: %d names, %d of them for %d wanted names",
            source,
            lines - bad,
            sum(len(v) for v in self.by_base.values()),
            len(bases),
        )
        if not lines or bad > MAX_BAD_LINES * lines:
            where = f"line {first_bad[0]}: {first_bad[1][:80]!r}" if first_bad else "no lines"
            raise InputError(
                f"not SEC's cik-lookup-data format (NAME:CIK: lines); {bad} of {lines} lines "
                f"do not parse, first at {where}",
                source=source,
            )

    def candidates(self, key: NameKey) -> list[_Candidate]:
        """Every (CIK, name) whose name matches ``key``, each CIK once at its best level."""
        best: dict[str, _Candidate] = {}
        for name, cik in self.by_base.get(key.base, []):
            level = match_level(key, name_key(name))
            if level is None:
                continue
            if cik not in best or (
                level is MatchLevel.EXACT and best[cik].level is not MatchLevel.EXACT
            ):
                best[cik] = _Candidate(cik, name, level)
        return sorted(best.values(), key=lambda c: c.cik)


class SecNameResolver:
    """Resolve former members by name over SEC's public files (see the module docstring).

    Args:
        fetcher: an SEC fetcher (``build_sec_fetcher``: User-Agent, rate limit, retries, cache).
        lookup_url: ``cik-lookup-data.txt``.
        data_base_url: ``https://data.sec.gov`` (submissions JSON).
        max_candidates: more CIKs than this for one name are reported, not fetched.
    """

    def __init__(
        self,
        fetcher: HttpFetcher,
        lookup_url: str = CIK_LOOKUP_URL,
        data_base_url: str = "https://data.sec.gov",
        max_candidates: int = 8,
    ) -> None:
        self._fetcher = fetcher
        self._lookup_url = lookup_url
        self._data_base_url = data_base_url.rstrip("/")
        self._max_candidates = max_candidates
        self._submissions: dict[str, dict[str, Any]] = {}

    def resolve(self, members: Sequence[FormerMember]) -> list[CikResolution]:
        """One resolution per member, in order; unresolved ones get a null CIK and why.

        Raises:
            InputError: the name index or a submissions document is not what SEC serves.
            SourceUnavailableError: SEC kept failing after the fetcher's retries.
        """
        keys = [name_key(m.name) if m.name else None for m in members]
        if not any(keys):
            return [self._null(m, "not found: no name to search") for m in members]
        index = CikLookupIndex(
            self._fetcher.get(self._lookup_url).body,
            self._lookup_url,
            (k for k in keys if k),
        )
        return [self._resolve(m, k, index) for m, k in zip(members, keys, strict=True)]

    @staticmethod
    def _null(member: FormerMember, method: str) -> CikResolution:
        return CikResolution(member.ticker, member.name, member.removed, None, method)

    def _resolve(
        self, member: FormerMember, key: NameKey | None, index: CikLookupIndex
    ) -> CikResolution:
        if key is None or member.name is None:
            return self._null(member, "not found: no name to search")
        found = index.candidates(key)
        if not found:
            return self._null(member, f"not found: no SEC filer name matches {member.name!r}")
        exact = [c for c in found if c.level is MatchLevel.EXACT]
        pool = exact or found
        if len(pool) == 1:
            only = pool[0]
            how = f"sec cik-lookup-data: {only.level} {only.name!r}"
            return CikResolution(member.ticker, member.name, member.removed, only.cik, how)
        if len(pool) > self._max_candidates:
            return self._null(
                member,
                f"ambiguous: {len(pool)} SEC filers named like {member.name!r} "
                f"(more than {self._max_candidates} to check)",
            )
        return self._by_filings(member, key, pool)

    def _by_filings(
        self, member: FormerMember, key: NameKey, pool: Sequence[_Candidate]
    ) -> CikResolution:
        evidence = [self._evidence(c.cik, key, member.removed) for c in pool]
        top = max(e.score for e in evidence)
        best = [e for e in evidence if e.score == top]
        if top != (False, False) and len(best) == 1:
            chosen = best[0]
            facts = ", ".join(f for f in (chosen.filing, chosen.named) if f)
            how = f"sec name+filings: {facts} ({len(pool)} CIKs named like {member.name!r})"
            return CikResolution(member.ticker, member.name, member.removed, chosen.cik, how)
        listed = "; ".join(
            f"{e.cik} {', '.join(f for f in (e.filing, e.named, e.problem) if f) or 'no 10-K/10-Q'}"
            for e in evidence
        )
        return self._null(
            member, f"ambiguous: {len(pool)} SEC filers named like {member.name!r}: {listed}"
        )

    def _evidence(self, cik: str, key: NameKey, removed: date) -> _Evidence:
        try:
            doc = self._document(cik)
        except SourceRefusedError as exc:
            return _Evidence(cik, None, None, f"no submissions ({exc})")
        window = (removed - FILINGS_BEFORE, removed + PAGE_LAG)
        return _Evidence(cik, self._periodic_filing(doc, window), _name_then(doc, key, removed))

    def _url(self, name: str) -> str:
        return f"{self._data_base_url}/submissions/{name}"

    def _json(self, url: str) -> dict[str, Any]:
        doc = parse_json(self._fetcher.get(url).body, url)
        if not isinstance(doc, dict):
            raise InputError("not a JSON object", source=url)
        return doc

    def _document(self, cik: str) -> dict[str, Any]:
        if cik not in self._submissions:
            url = self._url(f"CIK{cik10(cik)}.json")
            doc = self._json(url)
            if not isinstance(doc.get("filings"), dict):
                raise InputError("no 'filings' object: not a submissions document", source=url)
            doc["_source"] = url
            self._submissions[cik] = doc
        return self._submissions[cik]

    def _periodic_filing(self, doc: dict[str, Any], window: tuple[date, date]) -> str | None:
        """The latest 10-K/10-Q filed inside ``window``, reading older pages when needed."""
        filings = doc["filings"]
        blocks = [(filings.get("recent") or {}, doc["_source"])]
        for page in filings.get("files") or []:
            if not isinstance(page, dict) or "name" not in page:
                raise InputError("a 'files' entry without a name", source=doc["_source"])
            start, end = _day(page.get("filingFrom")), _day(page.get("filingTo"))
            if start and end and start <= window[1] and end >= window[0]:
                url = self._url(str(page["name"]))
                blocks.append((self._json(url), url))
        hits: list[tuple[date, str]] = []
        for block, source in blocks:
            forms, days = block.get("form"), block.get("filingDate")
            if not isinstance(forms, list) or not isinstance(days, list):
                raise InputError("filings without form/filingDate arrays", source=source)
            for form, raw in zip(forms, days, strict=False):
                day = _day(raw)
                if form in PERIODIC_FORMS and day and window[0] <= day <= window[1]:
                    hits.append((day, str(form)))
        if not hits:
            return None
        day, form = max(hits)
        return f"{form} filed {day.isoformat()}"


def _day(value: object) -> date | None:
    if not isinstance(value, str) or len(value) < 10:
        return None
    try:
        return date.fromisoformat(value[:10])
    except ValueError:
        return None


def _name_then(doc: dict[str, Any], key: NameKey, removed: date) -> str | None:
    """The matching name the filer carried on the removal date, from its name history."""
    periods: list[tuple[str, date | None, date | None]] = []
    latest_end: date | None = None
    for former in doc.get("formerNames") or []:
        if isinstance(former, dict) and isinstance(former.get("name"), str):
            start, end = _day(former.get("from")), _day(former.get("to"))
            periods.append((former["name"], start, end))
            if end and (latest_end is None or end > latest_end):
                latest_end = end
    if isinstance(doc.get("name"), str):
        periods.append((doc["name"], latest_end, None))
    for name, start, end in periods:
        in_use = (start is None or start <= removed) and (end is None or removed <= end + PAGE_LAG)
        if in_use and match_level(key, name_key(name)):
            return f"named {name!r} then"
    return None
