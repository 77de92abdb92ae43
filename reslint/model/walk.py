"""A fast pre-order walk over libcst trees.

libcst's visitor machinery rebuilds every node it passes (it is shared with transformers), which makes
a read-only pass the slowest step of a lint. This walk reads the dataclass fields directly, skips
whitespace and punctuation, and calls the same `visit_<Type>` / `leave_<Type>` methods.
"""

from __future__ import annotations

import dataclasses
import operator
from collections.abc import Callable, Iterator
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


# A node type's walked fields read in one call (attrgetter of several names returns a tuple): the
# walk asks every node of every tree, and a getattr per field was most of its time.
_VALUES: dict[type, Callable[[cst.CSTNode], tuple[Any, ...]]] = {}


def _values(kind: type) -> Callable[[cst.CSTNode], tuple[Any, ...]]:
    names = _fields(kind)
    values: Callable[[cst.CSTNode], tuple[Any, ...]] = _no_values
    if len(names) == 1:
        values = _one_value(operator.attrgetter(names[0]))
    elif names:
        values = operator.attrgetter(*names)
    _VALUES[kind] = values
    return values


def _one_value(get: Callable[[cst.CSTNode], Any]) -> Callable[[cst.CSTNode], tuple[Any, ...]]:
    return lambda node: (get(node),)


def _no_values(node: cst.CSTNode) -> tuple[Any, ...]:
    return ()


def children(node: cst.CSTNode) -> list[cst.CSTNode]:
    """The node's child nodes in source order (whitespace and punctuation skipped)."""
    found: list[cst.CSTNode] = []
    kind = type(node)
    for value in (_VALUES.get(kind) or _values(kind))(node):
        kind = type(value)
        is_node = _NODE_TYPES.get(kind)
        if is_node is None:
            is_node = _is_node(kind)
        if is_node:
            found.append(value)
        elif kind is tuple or kind is list or isinstance(value, (list, tuple)):
            for item in value:
                if _NODE_TYPES.get(type(item)) or _is_node(type(item)):
                    found.append(item)
    return found


# CSTNode is an abstract class: isinstance() against it costs an ABC check for every field of every
# node (a fifth of a 10k-line file's model-building time, cProfile); a type's answer never changes.
_NODE_TYPES: dict[type, bool] = {}


def _is_node(kind: type) -> bool:
    known = _NODE_TYPES.get(kind)
    if known is None:
        known = _NODE_TYPES[kind] = issubclass(kind, cst.CSTNode)
    return known


# A visitor class's visit_<Type> and leave_<Type> functions by node type (looked up once per type
# rather than twice per node).
_Hooks = tuple[Callable[..., Any] | None, Callable[..., Any] | None]
_HOOKS: dict[type, dict[type, _Hooks]] = {}


def _hooks(visitor_kind: type, node_kind: type, known: dict[type, _Hooks]) -> _Hooks:
    name = node_kind.__name__
    hooks = known[node_kind] = (
        getattr(visitor_kind, f"visit_{name}", None),
        getattr(visitor_kind, f"leave_{name}", None),
    )
    return hooks


def walk(
    node: cst.CSTNode, visitor: Any, path: list[cst.CSTNode], parents: dict[int, cst.CSTNode]
) -> None:
    """Call visitor.visit_<Type>(node) (children skipped if it returns False), then
    leave_<Type>(node), for `node` and every node under it. While a node's hooks run, `path` holds
    the nodes from the root to it; `parents` gets the parent of each node (by id)."""
    _walk(node, visitor, _HOOKS.setdefault(type(visitor), {}), path, parents)


def _walk(
    node: cst.CSTNode,
    visitor: Any,
    hooks: dict[type, _Hooks],
    path: list[cst.CSTNode],
    parents: dict[int, cst.CSTNode],
) -> None:
    kind = type(node)
    visit, leave = hooks.get(kind) or _hooks(type(visitor), kind, hooks)
    if path:
        parents[id(node)] = path[-1]
    path.append(node)
    if visit is None or visit(visitor, node) is not False:
        for child in children(node):
            _walk(child, visitor, hooks, path, parents)
    if leave is not None:
        leave(visitor, node)
    path.pop()


def descendants(node: cst.CSTNode) -> Iterator[cst.CSTNode]:
    """`node` and every node under it, in source order (pre-order)."""
    stack = [node]
    while stack:
        current = stack.pop()
        yield current
        below = children(current)
        if below:
            below.reverse()
            stack.extend(below)
