"""Company-name matching shared by the local and the live CIK resolvers.

Two levels, tried in this order:

- ``exact``: the names are equal ignoring case and runs of spaces
  (``Whirlpool Corp`` and ``WHIRLPOOL CORP``).
- ``normalised``: the names are equal once ``&`` reads ``and`` and accents, punctuation,
  dashes (``Brown–Forman``), spaces, a leading ``The``, SEC's state tags (``/DE/``, ``/NEW``;
  not ``/OLD``) and trailing suffixes (``Inc``, ``Corp``, ``Co``, ``Company``, ``Ltd``,
  ``plc``, ``Holdings`` …) are dropped, unless both names carry legal suffixes that differ.

The suffix rule keeps ``AT&T Corporation`` (CIK 5907, removed in 2005) apart from
``AT&T Inc.`` (CIK 732717, formerly SBC), and ``Noble Corporation`` apart from ``Noble Corp
plc``. ``LP``, ``LLC``, ``Trust`` and ``Group`` stay part of the name: ``Sunoco LP`` is not
``Sunoco``, and ``Constellation Energy Group`` is not ``Constellation Energy``.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from enum import StrEnum

# "/OLD" stays: SEC renames a registrant "X /OLD" when a new one takes the name X.
_SEC_TAG_RE = re.compile(r"\s*/\s*(?!old\b)[a-z]{0,4}\s*/?\s*$")
_TOKEN_RE = re.compile(r"[a-z0-9]+")
_SPACES_RE = re.compile(r"\s+")

LEGAL_SUFFIXES: dict[str, str] = {
    "inc": "inc",
    "incorporated": "inc",
    "corp": "corp",
    "corporation": "corp",
    "co": "co",
    "company": "co",
    "cos": "co",
    "companies": "co",
    "ltd": "ltd",
    "limited": "ltd",
    "plc": "plc",
    "sa": "sa",
    "nv": "nv",
    "ag": "ag",
    "se": "se",
}
"""Corporate suffixes and their canonical form; two different ones mean two entities."""

NEUTRAL_SUFFIXES: frozenset[str] = frozenset({"holding", "holdings", "and"})
"""Dropped at the end of a name without counting as a legal suffix (``… & Co`` leaves ``and``)."""


class MatchLevel(StrEnum):
    """How two company names matched."""

    EXACT = "exact-name"
    NORMALISED = "normalised-name"


@dataclass(frozen=True)
class NameKey:
    """The comparable forms of one company name."""

    exact: str
    base: str
    suffixes: frozenset[str]


def _tokens(name: str) -> list[str]:
    """Lower-case ASCII words, SEC tags and a leading "the" dropped, initials joined."""
    text = unicodedata.normalize("NFKD", name)
    text = "".join(c for c in text if not unicodedata.combining(c)).casefold()
    for _ in range(2):  # "FOO CORP /DE/ /ADR" has two tags
        text = _SEC_TAG_RE.sub("", text)
    tokens = _TOKEN_RE.findall(text.replace("&", " and "))
    joined: list[str] = []
    after_initial = False
    for token in tokens:
        initial = len(token) == 1
        # Initials spelt apart are one token, so "S.A." is the suffix "sa" and "V F" is "vf".
        if initial and after_initial:
            joined[-1] += token
        else:
            joined.append(token)
        after_initial = initial
    return joined[1:] if joined[:1] == ["the"] else joined


def name_key(name: str) -> NameKey:
    """The exact and normalised keys of ``name``."""
    tokens = _tokens(name)
    suffixes: set[str] = set()
    while len(tokens) > 1 and (tokens[-1] in LEGAL_SUFFIXES or tokens[-1] in NEUTRAL_SUFFIXES):
        last = tokens.pop()
        if last in LEGAL_SUFFIXES:
            suffixes.add(LEGAL_SUFFIXES[last])
    return NameKey(
        _SPACES_RE.sub(" ", name).strip().casefold(), "".join(tokens), frozenset(suffixes)
    )


def match_level(a: NameKey, b: NameKey) -> MatchLevel | None:
    """How ``a`` and ``b`` match, or None when they name different companies."""
    if a.exact and a.exact == b.exact:
        return MatchLevel.EXACT
    if not a.base or a.base != b.base:
        return None
    if a.suffixes and b.suffixes and a.suffixes != b.suffixes:
        return None
    return MatchLevel.NORMALISED


def same_lead_word(a: str, b: str) -> bool:
    """Whether two names start with the same word (``Unum`` and ``Unum Group``)."""
    first_a, first_b = _lead_word(a), _lead_word(b)
    return bool(first_a) and first_a == first_b


def _lead_word(name: str) -> str:
    tokens = _tokens(name)
    return tokens[0] if tokens else ""


def names_match(a: str, b: str) -> MatchLevel | None:
    """``match_level`` of two raw names."""
    return match_level(name_key(a), name_key(b))
