"""Close matches of a mistyped name, for error messages."""

from __future__ import annotations

import difflib
from collections.abc import Iterable


def close_matches(word: str, choices: Iterable[str], n: int = 3) -> list[str]:
    """The choices closest to ``word`` (case-insensitive), best first; those that contain it
    or that it contains come next."""
    names = list(choices)
    lowered = {name.lower(): name for name in names}
    found = [lowered[m] for m in difflib.get_close_matches(word.lower(), lowered, n, 0.6)]
    word = word.lower()
    for name in names:
        if (
            len(found) < n
            and name not in found
            and word
            and (word in name.lower() or name.lower() in word)
        ):
            found.append(name)
    return found


def did_you_mean(word: str, choices: Iterable[str]) -> str:
    """`` Did you mean 'x'?`` (or ``'x' or 'y'``) for the closest choices; ``""`` for none."""
    found = close_matches(word, choices)
    if not found:
        return ""
    return f" Did you mean {' or '.join(repr(f) for f in found)}?"
