"""Small helpers shared by rules: deduplication, wording, calls of torch and of the file's functions."""

from __future__ import annotations

from collections.abc import Iterable, Iterator

import libcst as cst

from reslint.knowledge.signatures import Signature
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


def argument_keywords(call: cst.Call) -> list[str | None]:
    """Each argument's keyword, None for a positional one: what Signature.bind takes."""
    return [arg.keyword.value if arg.keyword else None for arg in call.args]


def function_signature(function: cst.FunctionDef) -> Signature:
    """A function of the file in the notation of the generated signatures."""
    params = function.params
    parts: list[str] = [_part(p) for p in params.posonly_params]
    if parts:
        parts.append("/")
    parts += [_part(p) for p in params.params]
    star = params.star_arg
    if isinstance(star, cst.Param):
        parts.append(f"*{star.name.value}")
    elif params.kwonly_params:
        parts.append("*")
    parts += [_part(p) for p in params.kwonly_params]
    if params.star_kwarg is not None:
        parts.append(f"**{params.star_kwarg.name.value}")
    return Signature.parse(parts)


def _part(param: cst.Param) -> str:
    return param.name.value + ("=" if param.default is not None else "")
