"""The one "did you mean" of reslint: which known name the user most likely meant."""

from __future__ import annotations

import re
from collections.abc import Iterable

# Below this similarity two names are different words, not a typo of one another (measured on the
# rule examples and fixtures: real typos such as Sequencial, indentity, kaiming_norm_ score >= 0.85).
CLOSE_ENOUGH = 0.8
_SEPARATORS = re.compile(r"[\s_-]+")


def did_you_mean(
    name: str, candidates: Iterable[str], cutoff: float = CLOSE_ENOUGH, fold: bool = True
) -> str | None:
    """The candidate the user most likely meant by `name`, or None when nothing is close.

    A name that exists is returned as is. With `fold`, case and separators are ignored first
    (conv2d -> Conv2d, Relu -> relu, batchnorm -> batch_norm, "fan out" -> fan_out); then the closest
    spelling wins when its similarity reaches `cutoff` (Sequencial -> Sequential). Without `fold`,
    case counts (an undefined `List` is typing's, not a typo of the builtin `list`).
    """
    pool = sorted(set(candidates))
    if name in pool:
        return name
    folds = (str.casefold, _without_separators) if fold else ()
    for same_when in folds:
        same = [candidate for candidate in pool if same_when(candidate) == same_when(name)]
        if same:
            return max(same, key=lambda candidate: _similarity(name, candidate, str))
    if not pool:
        return None
    # Equal scores (AdaptiveAvgPool -> 1d/2d/3d): prefer the 2d layer, which is what image models use.
    score, _, best = max(
        (
            _similarity(name, candidate, str.casefold if fold else str),
            "2d" in candidate.casefold(),
            candidate,
        )
        for candidate in pool
    )
    return best if score >= cutoff else None


def sole_guess(
    name: str, candidates: Iterable[str], cutoff: float = CLOSE_ENOUGH, fold: bool = True
) -> str | None:
    """The one candidate `name` can be a typo of, or None when none or several are: what --fix may
    write. With `fold`, a candidate equal but for case and separators (conv2d -> Conv2d) is the one
    when it is alone, however close the others are."""
    pool = set(candidates) - {name}
    for same_when in (str.casefold, _without_separators) if fold else ():
        same = [candidate for candidate in pool if same_when(candidate) == same_when(name)]
        if same:
            return same[0] if len(same) == 1 else None
    close = [
        candidate
        for candidate in pool
        if _similarity(name, candidate, str.casefold if fold else str) >= cutoff
    ]
    return close[0] if len(close) == 1 else None


def _similarity(name: str, candidate: str, fold) -> float:
    import difflib  # here, not at the top: most runs suggest nothing

    return difflib.SequenceMatcher(None, fold(name), fold(candidate)).ratio()


def _without_separators(text: str) -> str:
    return _SEPARATORS.sub("", text).casefold()
