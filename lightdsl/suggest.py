"""The one "did you mean" of lightdsl, for a spec's names and for run-time options alike.

Names are compared case-insensitively (``ReLU`` finds ``relu``, ``Dense`` the alias ``dense``),
by difflib's similarity ratio; the suggestion is always spelt as the candidate is. Torch-free and
dependency-free: the front end, the trainer and the data loaders all use it.
"""

from __future__ import annotations

from collections.abc import Iterable

CUTOFF = 0.6  # difflib's default: below it, a suggestion is more noise than help


def closest(word: str, candidates: Iterable[str]) -> str | None:
    """The candidate closest to ``word`` ignoring case, or None when nothing is close."""
    folded: dict[str, str] = {}
    for candidate in sorted(set(map(str, candidates))):
        folded.setdefault(candidate.casefold(), candidate)
    key = str(word).casefold()
    if key in folded:
        return folded[key]
    import difflib  # here: a spec without mistakes never asks (`check` start-up, issue 18)

    matches = difflib.get_close_matches(key, list(folded), n=1, cutoff=CUTOFF)
    return folded[matches[0]] if matches else None


def did_you_mean(word: str, candidates: Iterable[str], lead: str = "; ") -> str:
    """``'; did you mean "x"?'`` for the closest candidate (``lead`` first), or ``''`` when
    nothing is close. ``did_you_mean(w, c, lead="") or None`` makes it a hint."""
    match = closest(word, candidates)
    return f'{lead}did you mean "{match}"?' if match is not None else ""
