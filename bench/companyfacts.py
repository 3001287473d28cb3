"""Synthetic SEC companyfacts JSON files, shaped like ``data.sec.gov/api/xbrl/companyfacts``.

Each file has the nesting of the real ones (``../shared/data/sec/companyfacts``): ``cik``,
``entityName`` and ``facts`` → taxonomy (``dei``, ``us-gaap``) → concept → ``label``,
``description``, ``units`` → unit → facts with ``start`` (durations only), ``end``, ``val``,
``accn``, ``fy``, ``fp``, ``form``, ``filed`` and sometimes ``frame``, compact JSON like
SEC's. Like Apple's file (3.7 MB, about 500 concepts, 25,000 facts) most concepts are ones
the extractor never reads; the ones it reads follow real filings: each 10-Q reports the
quarter and year-to-date with prior-year comparatives, each 10-K three fiscal years and no
fourth quarter, an 8-K repeats figures (and must be ignored), the revenue tag changes from
``SalesRevenueNet`` to the ASC 606 tag in fiscal 2018, and EPS is in ``USD/shares``.
"""

from __future__ import annotations

import json
import math
import random
from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path
from typing import Any

from bench.synthetic import SEED

FIRST_FISCAL_YEAR = 2009
LAST_FISCAL_YEAR = 2025
FILLER_CONCEPTS = 490
FACTS_PER_FILLER = (15, 85)
OLD_REVENUE, NEW_REVENUE = "SalesRevenueNet", "RevenueFromContractWithCustomerExcludingAssessedTax"
NET_INCOME = "NetIncomeLoss"
EPS = ("EarningsPerShareBasic", "EarningsPerShareDiluted")
SHARES = (
    "WeightedAverageNumberOfSharesOutstandingBasic",
    "WeightedAverageNumberOfDilutedSharesOutstanding",
)
_FILLER_WORDS = (
    "Accrued",
    "Liabilities",
    "Current",
    "Deferred",
    "Revenue",
    "Noncurrent",
    "Operating",
    "Lease",
    "Right",
    "Of",
    "Use",
    "Asset",
    "Property",
    "Plant",
    "Equipment",
    "Gross",
    "Accumulated",
    "Depreciation",
    "Inventory",
    "Finished",
    "Goods",
    "Raw",
    "Materials",
    "Goodwill",
    "Intangible",
    "Assets",
    "Net",
    "Excluding",
    "Other",
    "Comprehensive",
    "Income",
    "Loss",
    "Tax",
    "Payments",
    "Proceeds",
    "Repurchase",
    "Common",
    "Stock",
    "Dividends",
    "Marketable",
    "Securities",
    "Unrealized",
    "Gain",
)


@dataclass(frozen=True)
class Filing:
    """One 10-Q, 10-K or 8-K: its accession, fiscal labels, form and filing date."""

    accn: str
    fy: int
    fp: str
    form: str
    filed: date


def _month_end(year: int, month: int) -> date:
    year, month = year + (month - 1) // 12, (month - 1) % 12 + 1
    return date(year + month // 12, month % 12 + 1, 1) - timedelta(days=1)


def _quarter(fye_month: int, fy: int, q: int) -> tuple[date, date]:
    """(start, end) of fiscal quarter ``q`` of fiscal year ``fy`` (the year it ends in)."""
    end_month = fye_month - 3 * (4 - q)
    start_month = end_month - 3
    return _month_end(fy, start_month) + timedelta(days=1), _month_end(fy, end_month)


class _Company:
    """One synthetic filer: its fiscal calendar, figures and filings."""

    def __init__(self, cik: int, rng: random.Random) -> None:
        self.cik = cik
        self.rng = rng
        self.fye_month = rng.choice([12, 12, 12, 9, 6, 3, 1])
        self.revenue0 = math.exp(rng.uniform(math.log(1e8), math.log(2e10)))
        self.margin = rng.uniform(0.02, 0.3)
        self.shares = rng.uniform(5e7, 5e9)
        self.sequence = 0
        self.quarters: dict[tuple[int, int], tuple[date, date, int, int]] = {}
        for fy in range(FIRST_FISCAL_YEAR - 2, LAST_FISCAL_YEAR + 1):
            for q in range(1, 5):
                start, end = _quarter(self.fye_month, fy, q)
                years = fy - FIRST_FISCAL_YEAR + q / 4
                revenue = round(self.revenue0 * 1.06**years * rng.uniform(0.95, 1.05))
                income = round(revenue * (self.margin + rng.uniform(-0.03, 0.03)))
                self.quarters[(fy, q)] = (start, end, revenue, income)

    def filing(self, fy: int, fp: str, form: str, period_end: date) -> Filing:
        self.sequence += 1
        lag = 60 if fp == "FY" else 40
        filed = period_end + timedelta(days=lag + self.rng.randint(-5, 5))
        accn = f"{self.cik:010d}-{filed.year % 100:02d}-{self.sequence:06d}"
        return Filing(accn, fy, fp, form, filed)

    def span(self, fy: int, first: int, last: int) -> tuple[date, date, int, int]:
        """(start, end, revenue, net income) of quarters ``first``..``last`` of ``fy``."""
        parts = [self.quarters[(fy, q)] for q in range(first, last + 1)]
        return parts[0][0], parts[-1][1], sum(p[2] for p in parts), sum(p[3] for p in parts)


def _fact(filing: Filing, start: date | None, end: date, value: float) -> dict[str, Any]:
    fact: dict[str, Any] = {} if start is None else {"start": start.isoformat()}
    fact |= {
        "end": end.isoformat(),
        "val": value,
        "accn": filing.accn,
        "fy": filing.fy,
        "fp": filing.fp,
        "form": filing.form,
        "filed": filing.filed.isoformat(),
    }
    return fact


def _concept(label: str, units: dict[str, list[dict[str, Any]]]) -> dict[str, Any]:
    description = (
        f"Amount of {label.lower()} recognized in the period, as reported in the entity's "
        "periodic filings; excludes amounts classified elsewhere in the statements."
    )
    return {"label": label, "description": description, "units": units}


def _income_facts(company: _Company) -> tuple[dict[str, dict[str, Any]], list[Filing]]:
    """The concepts the extractor reads, as each 10-Q, 10-K and 8-K reports them."""
    facts: dict[str, list[dict[str, Any]]] = {
        name: [] for name in (OLD_REVENUE, NEW_REVENUE, NET_INCOME, *EPS, *SHARES)
    }
    filings: list[Filing] = []
    shares = company.shares

    def report(filing: Filing, spans: list[tuple[int, int, int]]) -> None:
        revenue_concept = NEW_REVENUE if filing.fy >= 2018 else OLD_REVENUE
        for fy, first, last in spans:
            start, end, revenue, income = company.span(fy, first, last)
            facts[revenue_concept].append(_fact(filing, start, end, revenue))
            facts[NET_INCOME].append(_fact(filing, start, end, income))
            for concept, factor in zip(EPS, (1.0, 1.01), strict=True):
                eps = round(income / (shares * factor), 2)
                facts[concept].append(_fact(filing, start, end, eps))
            for concept, factor in zip(SHARES, (1.0, 1.01), strict=True):
                facts[concept].append(_fact(filing, start, end, round(shares * factor)))

    for fy in range(FIRST_FISCAL_YEAR, LAST_FISCAL_YEAR + 1):
        for q in range(1, 4):
            filing = company.filing(fy, f"Q{q}", "10-Q", company.quarters[(fy, q)][1])
            spans = [(fy, q, q), (fy - 1, q, q)]
            if q > 1:
                spans += [(fy, 1, q), (fy - 1, 1, q)]
            report(filing, spans)
            filings.append(filing)
        annual = company.filing(fy, "FY", "10-K", company.quarters[(fy, 4)][1])
        report(annual, [(fy, 1, 4), (fy - 1, 1, 4), (fy - 2, 1, 4)])
        release = company.filing(fy, "FY", "8-K", company.quarters[(fy, 4)][1])
        report(release, [(fy, 1, 4)])
        filings += [annual, release]
    labels = {
        OLD_REVENUE: "Revenues, Net",
        NEW_REVENUE: "Revenue from Contract with Customer, Excluding Assessed Tax",
        NET_INCOME: "Net Income (Loss) Attributable to Parent",
        EPS[0]: "Earnings Per Share, Basic",
        EPS[1]: "Earnings Per Share, Diluted",
        SHARES[0]: "Weighted Average Number of Shares Outstanding, Basic",
        SHARES[1]: "Weighted Average Number of Shares Outstanding, Diluted",
    }
    units = {name: "USD" for name in (OLD_REVENUE, NEW_REVENUE, NET_INCOME)}
    units |= {name: "USD/shares" for name in EPS} | {name: "shares" for name in SHARES}
    concepts = {name: _concept(labels[name], {units[name]: rows}) for name, rows in facts.items()}
    return concepts, filings


def _filler(company: _Company, filings: list[Filing], index: int) -> tuple[str, dict[str, Any]]:
    """A concept the extractor skips: a flow or a balance over a sample of the filings."""
    rng = company.rng
    words = rng.sample(_FILLER_WORDS, 3)
    name = "".join(words) + str(index)
    instant = rng.random() < 0.5
    rows = []
    for filing in rng.sample(filings, min(len(filings), rng.randint(*FACTS_PER_FILLER))):
        q = 4 if filing.fp == "FY" else int(filing.fp[1])
        start, end, revenue, _ = company.span(filing.fy, 1 if filing.fp == "FY" else q, q)
        value = round(revenue * rng.uniform(0.001, 0.5))
        fact = _fact(filing, None if instant else start, end, value)
        if rng.random() < 0.3:
            fact["frame"] = f"CY{end.year}Q{(end.month - 1) // 3 + 1}" + ("I" if instant else "")
        rows.append(fact)
    return name, _concept(" ".join(words), {"USD": rows})


def companyfacts_document(cik: int, seed: int = SEED) -> dict[str, Any]:
    """The companyfacts document of one synthetic company (deterministic per cik and seed)."""
    company = _Company(cik, random.Random(seed * 1_000_003 + cik))
    income, filings = _income_facts(company)
    gaap: dict[str, Any] = dict(income)
    for index in range(FILLER_CONCEPTS):
        name, concept = _filler(company, filings, index)
        gaap[name] = concept
    outstanding = [
        _fact(f, None, f.filed - timedelta(days=10), round(company.shares))
        for f in filings
        if f.form != "8-K"
    ]
    dei = {
        "EntityCommonStockSharesOutstanding": _concept(
            "Entity Common Stock, Shares Outstanding", {"shares": outstanding}
        ),
    }
    return {
        "cik": cik,
        "entityName": f"Synthetic Filer {cik} Inc.",
        "facts": {"dei": dei, "us-gaap": gaap},
    }


def write_folder(folder: Path, megabytes: float, seed: int = SEED) -> list[Path]:
    """Write ``CIK##########.json`` files totalling about ``megabytes`` MB into ``folder``."""
    folder.mkdir(parents=True, exist_ok=True)
    rng = random.Random(seed)
    paths: list[Path] = []
    written = 0
    while written < megabytes * 1e6:
        cik = rng.randint(1_000, 1_999_999)
        path = folder / f"CIK{cik:010d}.json"
        body = json.dumps(companyfacts_document(cik, seed), separators=(",", ":"))
        path.write_text(body)
        written += len(body)
        paths.append(path)
    return paths
