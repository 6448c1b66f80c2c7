""" "Did you mean …?" for a name that is not one of the known ones (presets, actions, setting keys).

A typo'd name is the commonest usage error; listing every name makes a person read and compare,
while the one or two closest names usually are the answer. Models have their own tolerant matching
(``modelmatch.py``); this is for the names trayai itself defines or the user chose.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from trayai.core.textsafe import escape_line

CUTOFF = 0.6  # difflib's default: "revewer" finds "reviewer", "zzz" finds nothing


def close_names(name: str, known: Iterable[str], limit: int = 2) -> list[str]:
    """The known names closest to ``name``, ignoring case (``translator`` finds ``Translator``)."""
    # lazy: difflib is loaded only when used: start-up time and memory
    import difflib  # only when a name is wrong: kept off every start-up path

    by_folded: dict[str, str] = {}
    for candidate in known:
        by_folded.setdefault(candidate.casefold(), candidate)
    near = difflib.get_close_matches(name.casefold(), list(by_folded), n=limit, cutoff=CUTOFF)
    return [by_folded[n] for n in near]


def did_you_mean(name: str, known: Iterable[str]) -> str:
    """``" — did you mean 'Translator'?"`` (or ``'a' or 'b'``), or ``""`` when nothing is close."""
    return suggesting(close_names(name, known))


def suggesting(names: Sequence[str]) -> str:
    """The words for names already picked as the likely ones (``""`` for none)."""
    if not names:
        return ""
    return " — did you mean " + " or ".join(repr(escape_line(n)) for n in names) + "?"


__all__ = ["close_names", "did_you_mean", "suggesting"]
