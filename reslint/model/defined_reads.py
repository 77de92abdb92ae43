"""Whether every name a file reads is bound where it is read, in a way pyflakes surely sees.

pyflakes decides the undefined names (reslint.model.bindings); running it costs about a sixth of
checking a file (its own `ast` parse and a walk of every node). Most model files read only builtins,
imports, their own classes and functions, parameters and locals assigned a line earlier: this module
proves that from the name index alone, so the check can skip pyflakes when it could report nothing.

Each rule below follows the order pyflakes processes a file in: the module's top level first,
statement by statement (class bodies and comprehensions on the way), then the bodies of functions and
lambdas (deferred: every module-level binding exists by then). A binding stays once made, except
through `del`, `global`/`nonlocal` and an annotation without a value, so reads of names any of those
touch are never proven. A read nothing here proves leaves the decision to pyflakes.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import libcst as cst

from reslint.model.names import NameIndex, target_names

COMPREHENSIONS = (cst.ListComp, cst.SetComp, cst.GeneratorExp, cst.DictComp)
COMPREHENSION_KINDS = frozenset(COMPREHENSIONS)
BLOCKS = frozenset({cst.IndentedBlock, cst.SimpleStatementSuite})
# Nodes that bind names for a part of themselves (see _binder_binds).
BINDERS = frozenset({cst.For, cst.With, cst.ExceptHandler, cst.ExceptStarHandler, cst.CompFor})


def every_read_defined(names: NameIndex, tree: cst.Module, builtins: frozenset[str]) -> bool:
    """True when no read of the file can be an undefined name for pyflakes (with `builtins` known);
    False when one might (pyflakes then decides)."""
    proof = ReadProof(names, tree, builtins)
    return all(proof.defined(use.node) for use in names.reads)


class ReadProof:
    """Which reads of a file are surely bound (see `defined`)."""

    def __init__(self, names: NameIndex, tree: cst.Module, builtins: frozenset[str]) -> None:
        self.names = names
        self.builtins = builtins
        # name -> order of the first top-level statement binding it at module scope
        self.module_first: dict[str, int] = {}
        self.top_level: dict[int, int] = {}  # id of a top-level statement -> its order
        for order, statement in enumerate(tree.body):
            self.top_level[id(statement)] = order
            for name in _module_scope_names(statement):
                self.module_first.setdefault(name, order)
        self._parameters: dict[int, frozenset[str]] = {}
        self._orders: dict[int, dict[int, int]] = {}

    def defined(self, read: cst.Name) -> bool:
        name = read.value
        if name in self.names.unsettled:
            return False
        if name in self.builtins:
            return True
        parents = self.names.parents
        binders = name not in self.names.class_annotations
        child: cst.CSTNode = read
        node: Any = parents.get(
            id(read)
        )  # exact type() tests below (mypy narrows on isinstance only)
        # The statement on the way up in each block of the innermost function's body.
        blocks: dict[int, cst.CSTNode] = {}
        crossed = False  # a scope (function, lambda, class, comprehension) lies below `node`
        deferred = False  # the read is in the body of a function or lambda below `node`
        while node is not None:
            kind = type(node)
            if kind in BLOCKS:
                if not deferred:
                    blocks[id(node)] = child
            elif kind is cst.FunctionDef and child is node.body:
                if name in self.parameters(node):
                    return True
                if not deferred:
                    # The body runs after the module's top level; in order itself.
                    if name in self.module_first or self.bound_before(node, name, blocks):
                        return True
                elif self.bound_before(node, name, {}):
                    return True  # a nested function or lambda runs after this whole body
                deferred = crossed = True
            elif kind is cst.Lambda and child is node.body:
                if name in self.parameters(node) or (not deferred and name in self.module_first):
                    return True
                deferred = crossed = True
            elif kind is cst.Module:
                first = self.module_first.get(name)
                return not deferred and first is not None and first < self.top_level[id(child)]
            elif kind is cst.ClassDef and child is node.body:
                crossed = True
            elif kind in COMPREHENSION_KINDS:
                if not crossed and binders and child is not node.for_in:
                    if _comprehension_binds(node, name):
                        return True
                crossed = True
            elif kind in BINDERS and not crossed and binders and _binder_binds(node, child, name):
                return True
            child, node = node, parents.get(id(node))
        return False

    def parameters(self, function: cst.FunctionDef | cst.Lambda) -> frozenset[str]:
        known = self._parameters.get(id(function))
        if known is None:
            params = function.params
            every = [*params.posonly_params, *params.params, *params.kwonly_params]
            every += [
                star for star in (params.star_arg, params.star_kwarg) if isinstance(star, cst.Param)
            ]
            known = self._parameters[id(function)] = frozenset(param.name.value for param in every)
        return known

    def bound_before(
        self, function: cst.FunctionDef, name: str, blocks: dict[int, cst.CSTNode]
    ) -> bool:
        """Whether the function binds `name` in its own scope before the read whose statement in
        each block is `blocks` (pyflakes processes a body in order): in an earlier statement of a
        block the read is in. With no blocks: anywhere in the body."""
        for binding in self.names.functions[id(function)].bound.get(name, ()):
            place = self.place(function, binding, blocks)
            if place is None:
                continue
            block, statement = place
            if not blocks:
                return True
            order = self.statement_orders(block)
            if order[id(statement)] < order[id(blocks[id(block)])]:
                return True
        return False

    def statement_orders(self, block: cst.CSTNode) -> dict[int, int]:
        known = self._orders.get(id(block))
        if known is None:
            body: Sequence[cst.CSTNode] = getattr(block, "body", ())
            known = self._orders[id(block)] = {id(s): k for k, s in enumerate(body)}
        return known

    def place(
        self, function: cst.FunctionDef, binding: cst.CSTNode, blocks: dict[int, cst.CSTNode]
    ) -> tuple[cst.CSTNode, cst.CSTNode] | None:
        """The first block of `blocks` (or the function's body) above `binding`, and the statement of
        it that holds the binding; None when the binding is not in the function's own scope (in a
        nested function, lambda, class or comprehension), or is a parameter or an `except ... as`
        name (which pyflakes unbinds after the handler)."""
        if isinstance(binding, (cst.Param, cst.ExceptHandler, cst.ExceptStarHandler)):
            return None
        parents = self.names.parents
        child, node = binding, parents.get(id(binding))
        while node is not None and node is not function.body and id(node) not in blocks:
            if isinstance(node, (*COMPREHENSIONS, cst.Lambda)) or (
                isinstance(node, (cst.FunctionDef, cst.ClassDef)) and child is node.body
            ):
                return None
            child, node = node, parents.get(id(node))
        return (node, child) if node is not None else None


def _module_scope_names(statement: cst.CSTNode) -> list[str]:
    """The names a top-level statement binds at module scope (the blocks of its if/try/with/for/while
    included; not the `except ... as` name, which pyflakes unbinds after the handler)."""
    found: list[str] = []
    pending: list[cst.CSTNode] = [statement]
    while pending:
        node = pending.pop()
        if isinstance(node, (cst.FunctionDef, cst.ClassDef)):
            found.append(node.name.value)
        elif isinstance(node, cst.SimpleStatementLine | cst.SimpleStatementSuite):
            for small in node.body:
                found += _small_statement_names(small)
        elif isinstance(node, cst.For):
            found += target_names(node.target)
            pending += [node.body, *([node.orelse] if node.orelse else [])]
        elif isinstance(node, cst.With):
            found += [
                n for item in node.items if item.asname for n in target_names(item.asname.name)
            ]
            pending.append(node.body)
        elif isinstance(node, cst.If | cst.While):
            pending.append(node.body)
            if node.orelse is not None:
                pending.append(node.orelse)
        elif isinstance(node, cst.Else | cst.Finally | cst.ExceptHandler | cst.ExceptStarHandler):
            pending.append(node.body)
        elif isinstance(node, cst.Try | cst.TryStar):
            pending += [node.body, *node.handlers]
            pending += [part for part in (node.orelse, node.finalbody) if part is not None]
        elif isinstance(node, cst.IndentedBlock):
            pending += node.body
    return found


def _small_statement_names(small: cst.BaseSmallStatement) -> list[str]:
    if isinstance(small, cst.Assign):
        return [name for target in small.targets for name in target_names(target.target)]
    if isinstance(small, cst.AnnAssign) and small.value is not None:
        return target_names(small.target)
    if isinstance(small, cst.AugAssign):
        return target_names(small.target)
    if isinstance(small, cst.Import):
        return [_imported_name(alias) for alias in small.names]
    if isinstance(small, cst.ImportFrom) and not isinstance(small.names, cst.ImportStar):
        return [_imported_name(alias) for alias in small.names]
    return []


def _imported_name(alias: cst.ImportAlias) -> str:
    if alias.asname is not None and isinstance(alias.asname.name, cst.Name):
        return alias.asname.name.value
    name: cst.BaseExpression = alias.name
    while isinstance(name, cst.Attribute):
        name = name.value
    return name.value if isinstance(name, cst.Name) else ""


def _binder_binds(node: cst.CSTNode, child: cst.CSTNode, name: str) -> bool:
    """Whether `node` binds `name` before the part `child` of it runs, in the same scope: a for loop's
    target for its body, a with's `as` names for its body, an except handler's name for its body, a
    comprehension clause's target for its conditions and the clauses inside it."""
    if isinstance(node, cst.For):
        return (
            child is not node.iter
            and child is not node.target
            and name in target_names(node.target)
        )
    if isinstance(node, cst.With):
        return child is node.body and any(
            item.asname is not None and name in target_names(item.asname.name)
            for item in node.items
        )
    if isinstance(node, cst.ExceptHandler | cst.ExceptStarHandler):
        return child is node.body and node.name is not None and name in target_names(node.name.name)
    if isinstance(node, cst.CompFor):
        return (
            child is not node.iter
            and child is not node.target
            and name in target_names(node.target)
        )
    return False


def _comprehension_binds(node: cst.CSTNode, name: str) -> bool:
    """Whether one of the comprehension's clauses binds `name` (pyflakes walks the clauses before
    the element)."""
    clause: cst.CompFor | None = getattr(node, "for_in", None)
    while clause is not None:
        if name in target_names(clause.target):
            return True
        clause = clause.inner_for_in
    return False
