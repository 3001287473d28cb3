"""Cell-level normalization rules for the Wikipedia S&P 500 tables."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, datetime

from lxml import html

from etl_service.src.models.tickers import canonical_ticker, is_ticker

FOOTNOTE_RE = re.compile(r"\[(?:\d+|[a-z]|note \d+|nb \d+|citation needed)\]", re.IGNORECASE)
_SPACES_RE = re.compile(r"\s+")
# Non-breaking, thin, narrow and zero-width spaces that Wikipedia pages contain.
_ODD_SPACES = str.maketrans({"\xa0": " ", "\u2009": " ", "\u202f": " ", "\u200b": "", "\ufeff": ""})
_PREVIOUSLY_RE = re.compile(
    r"^(?P<ticker>[A-Z][A-Z.\-]*)\s*\((?:previously|formerly)\s+(?P<old>[A-Z][A-Z.\-]*)\)$",
    re.IGNORECASE,
)
_ISO_DATE_RE = re.compile(r"^(\d{4}-\d{2}-\d{2})\b")
_YEAR_RE = re.compile(r"\b(\d{4})\b")
_PROSE_DATE_FORMATS = ("%B %d, %Y", "%b %d, %Y", "%d %B %Y", "%d %b %Y", "%Y-%m-%d")


def clean_text(value: str | None) -> str:
    """Collapse whitespace, turn odd spaces into plain ones and strip footnote markers."""
    if not value:
        return ""
    if _already_clean(value):  # most cells: skip the translation and both regexes
        return value
    text = FOOTNOTE_RE.sub("", value.translate(_ODD_SPACES))
    return _SPACES_RE.sub(" ", text).strip()


def _already_clean(value: str) -> bool:
    """Printable ASCII with single inner spaces and no brackets: nothing to clean."""
    return (
        value.isascii()
        and value.isprintable()
        and "[" not in value
        and "  " not in value
        and value[0] != " "
        and value[-1] != " "
    )


def cell_text(cell: html.HtmlElement) -> str:
    """Visible text of a table cell; footnote references and hidden sort keys are dropped."""
    for drop in cell.xpath(
        ".//sup[contains(concat(' ', normalize-space(@class), ' '), ' reference ')]"
        " | .//style | .//script"
        " | .//*[contains(concat(' ', normalize-space(@class), ' '), ' sortkey ')]"
        " | .//*[@style and contains(translate(@style, ' ', ''), 'display:none')]"
    ):
        drop.drop_tree()
    return clean_text(cell.text_content())


@dataclass(frozen=True)
class TickerCheck:
    """The outcome of the ticker rule: a canonical ticker, or the reason there is none."""

    ticker: str | None
    note: str | None = None
    reason: str | None = None


def check_ticker(raw: str) -> TickerCheck:
    """Apply the ticker rule to one cell value.

    Rules, in order: ``RVTY (Previously PKI)`` keeps the current ticker; a vendor spelling
    with a dash or slash class separator (``BRK-B``) becomes the index form (``BRK.B``);
    anything else that is not shaped like a ticker (``American Airlines Group``) is refused.
    """
    value = clean_text(raw)
    if not value:
        return TickerCheck(None, reason="ticker is empty")
    if is_ticker(value):
        return TickerCheck(value)
    if match := _PREVIOUSLY_RE.match(value):
        current = canonical_ticker(match["ticker"])
        if is_ticker(current) and match["ticker"].isupper():
            return TickerCheck(
                current,
                note=f"ticker {value!r} read as {current} (former ticker {match['old']})",
            )
    if value.isupper() and " " not in value:
        canonical = canonical_ticker(value)
        if is_ticker(canonical):
            return TickerCheck(
                canonical, note=f"ticker {value!r} in vendor spelling, normalised to {canonical}"
            )
    return TickerCheck(None, reason=f"{value!r} is not a ticker")


def normalize_cik(raw: str) -> str | None:
    """A CIK as a zero-padded 10-digit string; None when empty.

    Raises:
        ValueError: the value is not a CIK.
    """
    value = clean_text(raw)
    if not value:
        return None
    if not value.isdigit() or len(value.lstrip("0")) > 10 or int(value) == 0:
        raise ValueError(f"{value!r} is not a CIK")
    return value.zfill(10)


def parse_date_added(raw: str) -> tuple[date | None, str | None]:
    """The first ISO date of a "date added" cell, and a note when the value was not usable.

    ``1983-11-30 (1957-03-04)`` gives 1983-11-30 (the date this listing began); a bare year
    such as ``2009`` or any other text gives None with a note.
    """
    value = clean_text(raw)
    if not value:
        return None, None
    if match := _ISO_DATE_RE.match(value):
        try:
            return date.fromisoformat(match[1]), None
        except ValueError:
            return None, f"date added {value!r} is not a valid date"
    return None, f"date added {value!r} is not a full ISO date"


def parse_founded(raw: str) -> tuple[int | None, str | None]:
    """``year_founded`` (the first four-digit year) and the cleaned raw text, or Nones."""
    value = clean_text(raw)
    if not value:
        return None, None
    match = _YEAR_RE.search(value)
    return (int(match[1]) if match else None), value


def split_headquarters(raw: str) -> tuple[str | None, str | None]:
    """City and state/region (or country) of a headquarters cell, where derivable.

    ``Saint Paul, Minnesota`` gives (Saint Paul, Minnesota); ``Warmley, Bristol, United
    Kingdom`` gives (Warmley, United Kingdom). A value without a comma, or naming two places
    (``Chicago, Illinois; Pittsburgh, Pennsylvania``), gives (None, None): no single answer.
    """
    value = clean_text(raw)
    if ";" in value or "," not in value:
        return None, None
    parts = [p.strip() for p in value.split(",")]
    if not parts[0] or not parts[-1]:
        return None, None
    return parts[0], parts[-1]


def parse_change_date(raw: str) -> date:
    """A changes-table date: prose (``November 1, 2022``) or ISO.

    Raises:
        ValueError: the value is not a date in a known format.
    """
    value = clean_text(raw).replace("Sept.", "Sep").replace(".", "")
    for fmt in _PROSE_DATE_FORMATS:
        try:
            return datetime.strptime(value, fmt).date()
        except ValueError:
            continue
    raise ValueError(f"{clean_text(raw)!r} is not a date")
