"""Attributes that `__init__` reads before it first sets them.

Python runs `__init__` top to bottom. A `self.X` read that surely runs (a plain statement of
`__init__`, or of a method `__init__` calls from such a statement, before anything in that method
branches or returns) while no statement before it can have set `X` raises AttributeError whenever
the class is built: `self.layer1 = self._make_layer(...)` where `_make_layer` reads `self.block`
and `self.block = block` comes three lines later.

"Can have set" is read generously: any store of `self.X` in an earlier statement (at any depth,
in any branch), in any method called from one, or anywhere in the method being read before the
read; a statement that hands `self` to another function may set anything, and ends the search."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

import libcst as cst

from reslint.model.walk import children

# Nodes whose inner code may not run when the statement does (or runs later).
_DEFERRED = (
    cst.Lambda,
    cst.FunctionDef,
    cst.ClassDef,
    cst.ListComp,
    cst.SetComp,
    cst.DictComp,
    cst.GeneratorExp,
    cst.IfExp,
    cst.BooleanOperation,
)
MAX_CALL_DEPTH = 3


@dataclass(frozen=True)
class EarlyRead:
    read: cst.Attribute  # the `self.X` read
    method: cst.FunctionDef  # the method it is in
    call: cst.Call | None  # the call in `__init__` that leads there (None: read in `__init__`)
    first_store: cst.Attribute | None  # the first store of `self.X` in `__init__`, if it has one


def early_reads(cls, module) -> list[EarlyRead]:
    """The `self.X` reads `cls.__init__` surely makes before `X` can have been set (see above).
    Only a class whose methods are all its own (no base class of the file) is read."""
    init = cls.methods.get("__init__")
    if init is None or cls.local_bases():
        return []
    return _Search(cls, module, init).run()


class _Search:
    def __init__(self, cls, module, init: cst.FunctionDef) -> None:
        self.cls = cls
        self.module = module
        self.init = init
        self.stored: set[str] = set()
        self.found: list[EarlyRead] = []
        self.reported: set[str] = set()
        self.first_stores = _first_stores(init, module)
        # Only attributes the class sets itself: one it never sets is RN116's "never set", and a
        # method name read as `self.name` is no attribute to wait for.
        self.class_stores = set().union(
            *(_self_stores(m, module) for m in cls.methods.values())
        ) - set(cls.methods)

    def run(self) -> list[EarlyRead]:
        for statement in _statements(self.init):
            if not isinstance(statement, cst.SimpleStatementLine):
                self._store_all(statement, self.init)
                continue
            if _hands_self_away(statement, self.init):
                break
            self._reads(statement, self.init, None, self.stored)
            calls = list(self._method_calls(statement, self.init))
            for call, method in calls:
                others = set().union(
                    *(self._stores_of(m, set()) for c, m in calls if c is not call)
                )
                self._read_method(method, call, 1, self.stored | others, set())
            self._store_all(statement, self.init)
            if any(isinstance(small, (cst.Return, cst.Raise)) for small in statement.body):
                break
        return self.found

    def _read_method(
        self,
        method: cst.FunctionDef,
        call: cst.Call,
        depth: int,
        stored: set[str],
        seen: set[int],
    ) -> None:
        if depth > MAX_CALL_DEPTH or id(method) in seen or _decorated(method):
            return
        seen = seen | {id(method)}
        local = set(stored)
        for statement in _statements(method):
            if not isinstance(statement, cst.SimpleStatementLine):
                return  # what follows a branch or a loop may not run, or run after a store
            if _hands_self_away(statement, method):
                return
            self._reads(statement, method, call, local)
            calls = list(self._method_calls(statement, method))
            for inner_call, inner in calls:
                others = set().union(
                    *(self._stores_of(m, set()) for c, m in calls if c is not inner_call)
                )
                self._read_method(inner, call, depth + 1, local | others, seen)
            local |= set().union(*(self._stores_of(inner, set()) for _, inner in calls))
            local |= _stores(statement, method, self.module)
            if any(isinstance(small, (cst.Return, cst.Raise)) for small in statement.body):
                return

    def _reads(
        self,
        statement: cst.CSTNode,
        method: cst.FunctionDef,
        call: cst.Call | None,
        stored: set[str],
    ) -> None:
        targets = {id(t) for t in _store_targets(statement)}
        for node in _surely_run(statement):
            if (
                isinstance(node, cst.Attribute)
                and id(node) not in targets
                and _is_self(node.value, method)
                and node.attr.value in self.class_stores
                and node.attr.value not in stored
                and node.attr.value not in self.reported
            ):
                name = node.attr.value
                self.reported.add(name)
                self.found.append(EarlyRead(node, method, call, self.first_stores.get(name)))

    def _method_calls(
        self, statement: cst.CSTNode, method: cst.FunctionDef
    ) -> Iterator[tuple[cst.Call, cst.FunctionDef]]:
        for node in _surely_run(statement):
            if (
                isinstance(node, cst.Call)
                and isinstance(node.func, cst.Attribute)
                and _is_self(node.func.value, method)
            ):
                called = self.cls.methods.get(node.func.attr.value)
                if called is not None:
                    yield node, called

    def _stores_of(self, method: cst.FunctionDef, seen: set[int]) -> set[str]:
        """Every attribute `method` (and the methods it calls, any depth) may store on self."""
        names = _self_stores(method, self.module)
        seen = seen | {id(method)}
        for attribute in self.module.attributes_in_method(method):
            called = self.cls.methods.get(attribute.attr.value)
            if called is not None and id(called) not in seen and _is_self(attribute.value, method):
                names |= self._stores_of(called, seen)
        return names

    def _store_all(self, statement: cst.CSTNode, method: cst.FunctionDef) -> None:
        """What a statement of `__init__` may have set once it has run, the methods it calls
        included."""
        self.stored |= _stores(statement, method, self.module)
        for node in _all_nodes(statement):
            if isinstance(node, cst.Attribute) and _is_self(node.value, method):
                called = self.cls.methods.get(node.attr.value)
                if called is not None:
                    self.stored |= self._stores_of(called, set())


def _statements(method: cst.FunctionDef) -> list[cst.CSTNode]:
    body = method.body
    return list(body.body) if isinstance(body, cst.IndentedBlock) else [body]


def _is_self(node: cst.CSTNode, method: cst.FunctionDef) -> bool:
    params = [*method.params.posonly_params, *method.params.params]
    return isinstance(node, cst.Name) and bool(params) and node.value == params[0].name.value


def _decorated(method: cst.FunctionDef) -> bool:
    """A static, class or otherwise wrapped method: what runs is not simply this body on self."""
    return bool(method.decorators)


def _all_nodes(node: cst.CSTNode) -> Iterator[cst.CSTNode]:
    pending = [node]
    while pending:
        current = pending.pop()
        yield current
        pending.extend(children(current))


def _surely_run(node: cst.CSTNode) -> Iterator[cst.CSTNode]:
    """The nodes of a statement that run whenever it does: not inside a lambda, a comprehension, a
    conditional expression or the right side of `and` / `or`."""
    pending = [node]
    while pending:
        current = pending.pop()
        yield current
        if isinstance(current, cst.BooleanOperation):
            pending.append(current.left)
        elif isinstance(current, cst.IfExp):
            pending.append(current.test)
        elif not isinstance(current, _DEFERRED):
            pending.extend(children(current))


def _store_targets(statement: cst.CSTNode) -> list[cst.BaseExpression]:
    """Targets of plain assignments in the statement (`self.X = ...`): set, not read."""
    found: list[cst.BaseExpression] = []
    for node in _all_nodes(statement):
        if isinstance(node, cst.Assign):
            found.extend(_flattened(t.target for t in node.targets))
        elif isinstance(node, cst.AnnAssign):
            found.extend(_flattened([node.target]))
        elif isinstance(node, cst.Del):
            found.extend(_flattened([node.target]))
    return found


def _flattened(targets) -> list[cst.BaseExpression]:
    found = []
    for target in targets:
        if isinstance(target, (cst.Tuple, cst.List)):
            found.extend(_flattened(element.value for element in target.elements))
        else:
            found.append(target)
    return found


def _self_stores(method: cst.FunctionDef, module) -> set[str]:
    return {
        target.attr.value
        for target in module.attribute_stores_in_method(method)
        if _is_self(target.value, method)
    }


def _stores(statement: cst.CSTNode, method: cst.FunctionDef, module) -> set[str]:
    stored = {
        target.attr.value
        for target in module.attribute_stores_in_method(method)
        if _is_self(target.value, method) and _inside(target, statement, module)
    }
    return stored


def _inside(node: cst.CSTNode, container: cst.CSTNode, module) -> bool:
    parents = module.names.parents
    current: cst.CSTNode | None = node
    while current is not None:
        if current is container:
            return True
        current = parents.get(id(current))
    return False


def _hands_self_away(statement: cst.CSTNode, method: cst.FunctionDef) -> bool:
    """A call that is given `self` itself (`init_weights(self)`, `super().__init__(self)` style): the
    callee may set any attribute. `super(Net, self)` only names the class whose bases to search."""
    for node in _all_nodes(statement):
        if (
            isinstance(node, cst.Call)
            and not (isinstance(node.func, cst.Name) and node.func.value == "super")
            and any(_is_self(arg.value, method) for arg in node.args)
        ):
            return True
    return False


def _first_stores(init: cst.FunctionDef, module) -> dict[str, cst.Attribute]:
    first: dict[str, cst.Attribute] = {}
    for target in module.attribute_stores_in_method(init):
        if _is_self(target.value, init):
            name = target.attr.value
            if name not in first or module.position(target) < module.position(first[name]):
                first[name] = target
    return first
