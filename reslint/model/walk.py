"""A fast pre-order walk over libcst trees.

libcst's visitor machinery rebuilds every node it passes (it is shared with transformers), which makes
a read-only pass the slowest step of a lint. This walk reads the dataclass fields directly, skips
whitespace and punctuation, and calls the same `visit_<Type>` / `leave_<Type>` methods.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator
from typing import Any

import libcst as cst

_SKIPPED_FIELDS = {
    "lpar",
    "rpar",
    "comma",
    "semicolon",
    "leading_lines",
    "lines_after_decorators",
    "header",
    "footer",
    "newline",
    "trailing_whitespace",
    "dot",
    "equal",
    "colon",
    "whitespace",
    "default_indent",
    "default_newline",
    "encoding",
    "indent",
    "star_tok",
}
_FIELDS: dict[type, tuple[str, ...]] = {}


def _fields(kind: type) -> tuple[str, ...]:
    names = _FIELDS.get(kind)
    if names is None:
        names = tuple(
            field.name
            for field in dataclasses.fields(kind)
            if field.name not in _SKIPPED_FIELDS and not field.name.startswith("whitespace")
        )
        _FIELDS[kind] = names
    return names


def children(node: cst.CSTNode) -> Iterator[cst.CSTNode]:
    for name in _fields(type(node)):
        value = getattr(node, name)
        if _is_node(type(value)):
            yield value
        elif isinstance(value, (list, tuple)):
            for item in value:
                if _is_node(type(item)):
                    yield item


# CSTNode is an abstract class: isinstance() against it costs an ABC check for every field of every
# node (a fifth of a 10k-line file's model-building time, cProfile); a type's answer never changes.
_NODE_TYPES: dict[type, bool] = {}


def _is_node(kind: type) -> bool:
    known = _NODE_TYPES.get(kind)
    if known is None:
        known = _NODE_TYPES[kind] = issubclass(kind, cst.CSTNode)
    return known


def walk(node: cst.CSTNode, visitor: Any) -> None:
    """Call visitor.visit_<Type>(node) (children skipped if it returns False), then leave_<Type>(node)."""
    kind = type(node).__name__
    on_visit = getattr(visitor, "on_visit", None)
    descend = on_visit(node) if on_visit is not None else True
    visit = getattr(visitor, f"visit_{kind}", None)
    if visit is not None and visit(node) is False:
        descend = False
    if descend is not False:
        for child in children(node):
            walk(child, visitor)
    leave = getattr(visitor, f"leave_{kind}", None)
    if leave is not None:
        leave(node)
    on_leave = getattr(visitor, "on_leave", None)
    if on_leave is not None:
        on_leave(node)


def descendants(node: cst.CSTNode) -> Iterator[cst.CSTNode]:
    stack = [node]
    while stack:
        current = stack.pop()
        yield current
        stack.extend(reversed(list(children(current))))
