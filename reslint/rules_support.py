"""Small helpers shared by rules: deduplication, wording, near-miss names, the methods a method reaches."""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator
from typing import TYPE_CHECKING

import libcst as cst

from reslint.model.symbolic import Expr
from reslint.rule import Violation

_NUMBERS = re.compile(r"\d+")

if TYPE_CHECKING:
    from reslint.model import ModuleModel
    from reslint.model.classes import ClassModel
    from reslint.model.names import FunctionNames


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


def closest(name: str, candidates: Iterable[str]) -> str | None:
    """The candidate a typo of `name` most likely meant: the same letters in another case (`Resnet` for
    `ResNet`), else the nearest one or two edits away (one for short names). Names with other numbers
    in them (`conv1x1` for `conv3x3`, `resnet34` for `resnet18`) are other things, not typos. None
    when nothing is close."""
    numbers = _NUMBERS.findall(name)
    pool = sorted({c for c in candidates if c != name and _NUMBERS.findall(c) == numbers})
    same_letters = [candidate for candidate in pool if candidate.lower() == name.lower()]
    if same_letters:
        return same_letters[0]
    if len(name) < 4:
        return None
    allowed = 1 if len(name) < 6 else 2
    near = [
        (edit_distance(name, candidate), candidate)
        for candidate in pool
        if abs(len(candidate) - len(name)) <= allowed and len(candidate) >= 4
    ]
    best = min(near, default=None)
    return best[1] if best is not None and best[0] <= allowed else None


def reachable_methods(
    cls: ClassModel, roots: Iterable[str], module: ModuleModel
) -> list[cst.FunctionDef]:
    """The methods named in `roots` and those they call as `self.name(...)`, transitively."""
    found = [method for method in map(cls.method, roots) if method is not None]
    index = 0
    while index < len(found):
        current = found[index]
        index += 1
        for attribute, function in module.names.attributes:
            if function is not current or not is_self(attribute.value, current):
                continue
            method = cls.method(attribute.attr.value)
            if method is not None and method not in found:
                found.append(method)
    return found


def is_self(node: cst.CSTNode, method: cst.FunctionDef) -> bool:
    """Whether `node` is the instance parameter of `method` (usually `self`); a static or class
    method has none."""
    params = method.params.params
    return (
        isinstance(node, cst.Name)
        and bool(params)
        and node.value == params[0].name.value
        and not any(
            isinstance(d.decorator, cst.Name)
            and d.decorator.value in ("staticmethod", "classmethod")
            for d in method.decorators
        )
    )


def unread_assignments(names: FunctionNames, module: ModuleModel) -> dict[str, list[cst.CSTNode]]:
    """The locals a function assigns with plain `name = ...` and never reads: each may be a typo of a
    name it does read. Parameters, loop variables, imports and defs are not typos of a local, and
    names under four letters or starting with `_` are too loosely used to tell."""
    read = {node.value for node in names.reads}
    return {
        name: bindings
        for name, bindings in names.bound.items()
        if name not in read
        and not name.startswith("_")
        and len(name) >= 4
        and all(isinstance(b, cst.Name) and _plain_assignment(b, module) for b in bindings)
    }


def _plain_assignment(target: cst.Name, module: ModuleModel) -> bool:
    parent = module.names.parents.get(id(target))
    while parent is not None and isinstance(
        parent, (cst.AssignTarget, cst.Tuple, cst.List, cst.Element, cst.StarredElement)
    ):
        parent = module.names.parents.get(id(parent))
    return isinstance(parent, (cst.Assign, cst.AnnAssign))
