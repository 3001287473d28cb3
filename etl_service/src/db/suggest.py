"""Errors for a name nobody knows, suggesting the closest known ones."""

from __future__ import annotations

import difflib
from collections.abc import Iterable, Mapping

from etl_service.errors import BadInputError

MAX_LISTED = 20
"""Up to this many known names are listed when none is close."""


def _folded(known: Iterable[str]) -> dict[str, str]:
    by_fold: dict[str, str] = {}
    for candidate in known:
        by_fold.setdefault(candidate.casefold(), candidate)
    return by_fold


def containing(name: str, known: Iterable[str]) -> list[str]:
    """The known names that contain ``name`` (3 characters or more), those starting with it
    first."""
    wanted = name.casefold().strip()
    if len(wanted) < 3:
        return []
    hits = [(not fold.startswith(wanted), fold, c) for fold, c in _folded(known).items()]
    return [c for _, fold, c in sorted(hits) if wanted in fold]


def closest(name: str, known: Iterable[str], n: int = 3) -> list[str]:
    """The known names most like ``name``: those containing it, then close spellings."""
    by_fold = _folded(known)
    similar = difflib.get_close_matches(name.casefold().strip(), list(by_fold), n=n, cutoff=0.6)
    picked = [*containing(name, by_fold.values()), *(by_fold[fold] for fold in similar)]
    return list(dict.fromkeys(picked))[:n]


def unknown_name(
    what: str,
    name: str,
    known: Iterable[str],
    *,
    aliases: Mapping[str, str] | None = None,
    listed: str = "",
    why: str = "",
) -> BadInputError:
    """``BadInputError`` (exit 4) for ``name``: the closest known names, or all of a short list.

    ``aliases`` are other names for the known ones (a company's name for its ticker), whose
    matches come first; ``listed`` says where to find the names when there are
    too many to print; ``why`` follows the name.
    """
    names = sorted(set(known))
    close = closest(name, names)
    if aliases:  # 'appl' is more likely Apple's AAPL than PPL
        close = list(dict.fromkeys([*(aliases[a] for a in containing(name, aliases)), *close]))[:3]
    if close:
        hint = "did you mean " + ", ".join(repr(c) for c in close) + "?"
    elif len(names) <= MAX_LISTED:
        hint = "known: " + ", ".join(names) if names else "none is loaded"
    else:
        hint = f"{len(names)} known" + (f"; {listed}" if listed else "")
    because = f" ({why})" if why else ""
    return BadInputError(f"unknown {what}: {name!r}{because}; {hint}")
