"""Small helpers shared by rules: deduplication and wording."""

from __future__ import annotations

from collections.abc import Iterable, Iterator

from reslint.model.symbolic import Expr
from reslint.rule import Violation


def unique(violations: Iterable[Violation]) -> Iterator[Violation]:
    """The same fault seen through several instances of a class is reported once, at its node."""
    seen: set[int] = set()
    for violation in violations:
        if id(violation.node) not in seen:
            seen.add(id(violation.node))
            yield violation


def quoted(expr: Expr) -> str:
    """`planes * self.expansion`, with its value when the user's words are not a plain number."""
    text = str(expr)
    value = expr.constant
    if value is None or text == _number(value):
        return f"`{text}`"
    if text.isidentifier():
        # A bare name bound to a number elsewhere (`midchannel` inside a builder) says less than the number.
        return f"`{_number(value)}`"
    return f"`{text}` (= {_number(value)})"


def _number(value: float) -> str:
    return str(int(value)) if float(value).is_integer() else str(value)


def edit_distance(a: str, b: str) -> int:
    previous = list(range(len(b) + 1))
    for i, char_a in enumerate(a, 1):
        current = [i]
        for j, char_b in enumerate(b, 1):
            current.append(
                min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + (char_a != char_b))
            )
        previous = current
    return previous[-1]
