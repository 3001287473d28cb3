"""One company's Financial Statement Data Sets facts through the companyfacts extraction.

Runs on the Spark executors (``groupBy("cik").applyInPandas``): the facts of one CIK are
rebuilt as a companyfacts document and handed to ``extract_quarterly``, so quarter
classification, YTD differences, revenue fallback, EPS rules, fiscal labels and the
latest-filed-wins rule are the companyfacts path's own. Output rows carry the
``QUARTERLY_REPORTS`` columns plus ``_kind`` (``row``, ``rejected`` or ``warning``) and
the rejection or warning details, so that nothing a company produces is lost on the way
back to the driver.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from typing import Any

import pandas as pd

from etl_service.errors import InputError
from etl_service.src.adapters.sec.companyfacts import TAXONOMY
from etl_service.src.adapters.sec.quarterly import extract_quarterly
from etl_service.src.models.schemas import QUARTERLY_REPORTS, ColumnType

FACT_COLUMNS: tuple[str, ...] = (
    "cik",
    "concept",
    "unit",
    "start",
    "end",
    "val",
    "accn",
    "fy",
    "fp",
    "form",
    "filed",
    "fye",
    "quarter",
)
"""Columns of the per-company input: dates as ISO text, ``val`` a double, the rest text."""

META_COLUMNS: tuple[str, ...] = ("_kind", "_key", "_message", "_source", "_record")
OUTPUT_COLUMNS: tuple[str, ...] = (*QUARTERLY_REPORTS.column_names, *META_COLUMNS)

_SPARK_TYPES: dict[ColumnType, str] = {
    ColumnType.STRING: "string",
    ColumnType.INT64: "bigint",
    ColumnType.FLOAT64: "double",
    ColumnType.BOOL: "boolean",
    ColumnType.DATE: "date",
}
OUTPUT_SCHEMA: str = ", ".join(
    [f"`{c.name}` {_SPARK_TYPES[c.type]}" for c in QUARTERLY_REPORTS.columns]
    + [f"`{name}` string" for name in META_COLUMNS]
)
"""Spark DDL of what ``company_rows`` returns."""


def _text(value: Any) -> str | None:
    """Text of a cell, None for a missing one (None, NaN or NA, depending on the dtype)."""
    return None if value is None or pd.isna(value) else str(value)


def _number(value: float) -> int | float:
    """As companyfacts JSON writes it: whole values as integers."""
    return int(value) if float(value).is_integer() else float(value)


def companyfacts_document(cik: str, facts: Sequence[Mapping[str, Any]]) -> dict[str, Any]:
    """The facts of one company as a companyfacts document (us-gaap taxonomy only)."""
    concepts: dict[str, dict[str, list[dict[str, Any]]]] = {}
    for fact in facts:
        fy = _text(fact["fy"])
        entry = {
            "start": fact["start"],
            "end": fact["end"],
            "val": _number(fact["val"]),
            "accn": fact["accn"],
            "fy": int(fy) if fy is not None and fy.isdigit() else None,
            "fp": _text(fact["fp"]),
            "form": fact["form"],
            "filed": fact["filed"],
        }
        units = concepts.setdefault(str(fact["concept"]), {})
        units.setdefault(str(fact["unit"]), []).append(entry)
    return {
        "cik": int(cik),
        "entityName": "",
        "facts": {TAXONOMY: {c: {"units": units} for c, units in concepts.items()}},
    }


def fiscal_year_end(
    facts: Sequence[Mapping[str, Any]], source: str
) -> tuple[str | None, list[str]]:
    """The ``fye`` (MMDD) of the company's latest filing, and a warning if it ever changed."""
    dated = [f for f in facts if _text(f["fye"]) is not None]
    if not dated:
        return None, []
    latest = max(dated, key=lambda f: (f["filed"], f["accn"]))
    chosen = str(latest["fye"])
    seen = sorted({str(f["fye"]) for f in dated})
    if len(seen) == 1:
        return chosen, []
    return chosen, [
        f"{source}: fiscal-year end differs between filings ({', '.join(seen)}); quarters "
        f"labelled with {chosen} from the latest filing {latest['accn']}"
    ]


def _meta(kind: str, key: str, message: str, source: str, record: object) -> dict[str, Any]:
    return {
        "_kind": kind,
        "_key": key,
        "_message": message,
        "_source": source,
        "_record": json.dumps(record, default=str, sort_keys=True),
    }


def company_rows(facts: pd.DataFrame) -> pd.DataFrame:
    """Quarterly rows, rejections and warnings of one company (the facts of one CIK).

    Args:
        facts: rows with ``FACT_COLUMNS``, all of one CIK.

    Returns:
        A frame with ``OUTPUT_COLUMNS`` matching ``OUTPUT_SCHEMA``.
    """
    records = [{str(k): v for k, v in r.items()} for r in facts.to_dict("records")]
    cik = str(records[0]["cik"])
    quarters = "+".join(sorted({str(r["quarter"]) for r in records}))
    source = f"FSDS {quarters} CIK {cik}"
    fye, warnings = fiscal_year_end(records, source)
    out: list[dict[str, Any]] = []
    try:
        extracted = extract_quarterly(
            companyfacts_document(cik, records), source, fiscal_year_end=fye
        )
    except InputError as exc:
        out.append(_meta("rejected", cik, str(exc), source, {"cik": cik, "fye": fye}))
    else:
        out += [{**row, "_kind": "row"} for row in extracted.table.to_pylist()]
        out += [
            _meta("rejected", r.record_key, r.reason, r.source or source, r.record)
            for r in extracted.rejected
        ]
        warnings += extracted.warnings
    out += [_meta("warning", cik, message, source, {"cik": cik}) for message in warnings]
    return pd.DataFrame(
        {c: pd.Series([row.get(c) for row in out], dtype=object) for c in OUTPUT_COLUMNS}
    )
