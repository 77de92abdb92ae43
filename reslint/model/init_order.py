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

from dataclasses import dataclass
from enum import Enum, auto
from typing import Any

import libcst as cst

from reslint.model.call_binding import is_super_call
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
    search = _Search(cls, module, init)
    return search.run() if search.may_find() else []


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
        # What each statement holds, worked out once: a builder's statements are read again for
        # every call that reaches it, and each fact would otherwise be another walk of the statement.
        self._facts: dict[int, _Statement] = {}
        self._stores_by_statement: dict[int, dict[int, set[str]]] = {}
        self._reachable_stores: dict[int, set[str]] = {}

    def may_find(self) -> bool:
        """Whether `__init__` or a method it names reads a `self.X` the class sets: most classes
        read none, and are answered from the model's attribute index without a walk."""
        parents = self.module.names.parents
        return any(
            attribute.attr.value in self.class_stores
            and _is_self(attribute.value, method)
            and not _assignment_target(attribute, parents)
            for method in self._reachable(self.init)
            for attribute in self.module.attributes_in_method(method)
        )

    def run(self) -> list[EarlyRead]:
        for statement in _statements(self.init):
            if not isinstance(statement, cst.SimpleStatementLine):
                self._store_all(statement, self.init)
                continue
            if self._facts_of(statement, self.init).hands_self_away:
                break
            self._reads(statement, self.init, None, self.stored)
            calls = self._facts_of(statement, self.init).method_calls
            for call, method in calls:
                others = set().union(*(self._stores_of(m) for c, m in calls if c is not call))
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
            if self._facts_of(statement, method).hands_self_away:
                return
            self._reads(statement, method, call, local)
            calls = self._facts_of(statement, method).method_calls
            for inner_call, inner in calls:
                others = set().union(*(self._stores_of(m) for c, m in calls if c is not inner_call))
                self._read_method(inner, call, depth + 1, local | others, seen)
            local |= set().union(*(self._stores_of(inner) for _, inner in calls))
            local |= self._stores(statement, method)
            if any(isinstance(small, (cst.Return, cst.Raise)) for small in statement.body):
                return

    def _reads(
        self,
        statement: cst.CSTNode,
        method: cst.FunctionDef,
        call: cst.Call | None,
        stored: set[str],
    ) -> None:
        for node in self._facts_of(statement, method).self_reads:
            name = node.attr.value
            if name in self.class_stores and name not in stored and name not in self.reported:
                self.reported.add(name)
                self.found.append(EarlyRead(node, method, call, self.first_stores.get(name)))

    def _stores_of(self, method: cst.FunctionDef) -> set[str]:
        """Every attribute `method` (and the methods it calls, any depth) may store on self."""
        known = self._reachable_stores.get(id(method))
        if known is None:
            known = self._reachable_stores[id(method)] = set().union(
                *(_self_stores(reached, self.module) for reached in self._reachable(method))
            )
        return known

    def _reachable(self, method: cst.FunctionDef) -> list[cst.FunctionDef]:
        """`method` and the methods of the class it names as `self.name`, at any depth."""
        reached, pending, seen = [], [method], {id(method)}
        while pending:
            current = pending.pop()
            reached.append(current)
            for attribute in self.module.attributes_in_method(current):
                called = self.cls.methods.get(attribute.attr.value)
                if (
                    called is not None
                    and id(called) not in seen
                    and _is_self(attribute.value, current)
                ):
                    seen.add(id(called))
                    pending.append(called)
        return reached

    def _store_all(self, statement: cst.CSTNode, method: cst.FunctionDef) -> None:
        """What a statement of `__init__` may have set once it has run, the methods it calls
        included."""
        self.stored |= self._stores(statement, method)
        for called in self._facts_of(statement, method).methods_named:
            self.stored |= self._stores_of(called)

    def _stores(self, statement: cst.CSTNode, method: cst.FunctionDef) -> set[str]:
        """The attributes a statement of `method` stores on self (at any depth)."""
        by_statement = self._stores_by_statement.get(id(method))
        if by_statement is None:
            by_statement = self._stores_by_statement[id(method)] = _stores_by_statement(
                method, self.module
            )
        return by_statement.get(id(statement), set())

    def _facts_of(self, statement: cst.CSTNode, method: cst.FunctionDef) -> _Statement:
        facts = self._facts.get(id(statement))
        if facts is None:
            facts = self._facts[id(statement)] = _Statement.of(statement, method, self.cls.methods)
        return facts


@dataclass(frozen=True)
class _Statement:
    """What a statement of a method holds, found in one walk of it. "Surely run": not inside a
    lambda, a comprehension, a conditional expression or the right side of `and` / `or`; in the
    order of a pre-order walk that takes the last child first."""

    hands_self_away: bool  # a call is given `self` itself: the callee may set anything
    methods_named: tuple[cst.FunctionDef, ...]  # the class's methods it names as `self.name`
    self_reads: tuple[cst.Attribute, ...]  # surely run `self.X` reads (not assignment targets)
    method_calls: tuple[tuple[cst.Call, cst.FunctionDef], ...]  # surely run `self.method(...)`

    @classmethod
    def of(
        cls, statement: cst.CSTNode, method: cst.FunctionDef, methods: dict[str, cst.FunctionDef]
    ) -> _Statement:
        me = _self_name(method)
        hands_away = False
        named: list[cst.FunctionDef] = []
        reads: list[cst.Attribute] = []
        calls: list[tuple[cst.Call, cst.FunctionDef]] = []
        targets: set[int] = set()  # plain assignments' targets: set, not read
        # Any: a node's role, found by its type, says which node class it is
        pending: list[tuple[Any, bool]] = [(statement, True)]
        while pending:
            node, surely = pending.pop()
            role = _ROLES.get(type(node)) or _role(type(node))
            if role is _Role.ATTRIBUTE:
                if _names(node.value, me):
                    called = methods.get(node.attr.value)
                    if called is not None:
                        named.append(called)
                    if surely and id(node) not in targets:
                        reads.append(node)
            elif role is _Role.CALL:
                hands_away = hands_away or _hands_self(node, me)
                func = node.func
                if surely and isinstance(func, cst.Attribute) and _names(func.value, me):
                    called = methods.get(func.attr.value)
                    if called is not None:
                        calls.append((node, called))
            elif role is _Role.ASSIGNMENT:
                targets.update(id(target) for target in _assigned(node))
            below = children(node)
            if not surely or role is _Role.DEFERRED:
                pending.extend((child, False) for child in below)
            elif role is _Role.BOOLEAN or role is _Role.CONDITIONAL:
                runs = node.left if role is _Role.BOOLEAN else node.test
                pending.extend((child, child is runs) for child in below)
            else:
                pending.extend((child, True) for child in below)
        return cls(hands_away, tuple(named), tuple(reads), tuple(calls))


class _Role(Enum):
    ATTRIBUTE = auto()
    CALL = auto()
    ASSIGNMENT = auto()  # its targets are stored, not read
    BOOLEAN = auto()  # only its left side surely runs
    CONDITIONAL = auto()  # only its test surely runs
    DEFERRED = auto()  # nothing inside surely runs
    OTHER = auto()


# A node type's role, found once per type: libcst's node classes are ABCs, where a failed
# isinstance() is an ABCMeta check; asked of every node of every statement it cost most of RN116.
_ROLES: dict[type, _Role] = {}
_ROLE_OF = (
    (cst.Attribute, _Role.ATTRIBUTE),
    (cst.Call, _Role.CALL),
    ((cst.Assign, cst.AnnAssign, cst.Del), _Role.ASSIGNMENT),
    (cst.BooleanOperation, _Role.BOOLEAN),
    (cst.IfExp, _Role.CONDITIONAL),
    (_DEFERRED, _Role.DEFERRED),
)


def _role(kind: type) -> _Role:
    _ROLES[kind] = next((role for kinds, role in _ROLE_OF if issubclass(kind, kinds)), _Role.OTHER)
    return _ROLES[kind]


def _assigned(node: cst.Assign | cst.AnnAssign | cst.Del) -> list[cst.BaseExpression]:
    if isinstance(node, cst.Assign):
        return _flattened(target.target for target in node.targets)
    return _flattened([node.target])


def _statements(method: cst.FunctionDef) -> list[cst.CSTNode]:
    body = method.body
    return list(body.body) if isinstance(body, cst.IndentedBlock) else [body]


def _is_self(node: cst.CSTNode, method: cst.FunctionDef) -> bool:
    return _names(node, _self_name(method))


def _self_name(method: cst.FunctionDef) -> str | None:
    """The name of the method's first parameter (the instance, for an instance method)."""
    params = method.params.posonly_params or method.params.params
    return params[0].name.value if params else None


def _names(node: cst.CSTNode, name: str | None) -> bool:
    return name is not None and isinstance(node, cst.Name) and node.value == name


def _decorated(method: cst.FunctionDef) -> bool:
    """A static, class or otherwise wrapped method: what runs is not simply this body on self."""
    return bool(method.decorators)


def _assignment_target(attribute: cst.Attribute, parents: dict[int, cst.CSTNode]) -> bool:
    """`self.X = ...`: the whole target of a plain assignment (a store, not a read)."""
    parent = parents.get(id(attribute))
    return isinstance(parent, cst.AssignTarget) and parent.target is attribute


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


def _stores_by_statement(method: cst.FunctionDef, module) -> dict[int, set[str]]:
    """The attributes `method` stores on self, by the statement of its body they are in."""
    statements = {id(statement) for statement in _statements(method)}
    parents = module.names.parents
    found: dict[int, set[str]] = {}
    for target in module.attribute_stores_in_method(method):
        if not _is_self(target.value, method):
            continue
        current: cst.CSTNode | None = target
        while current is not None and id(current) not in statements:
            current = parents.get(id(current))
        if current is not None:
            found.setdefault(id(current), set()).add(target.attr.value)
    return found


def _hands_self(call: cst.Call, me: str | None) -> bool:
    """A call that is given `self` itself (`init_weights(self)`, `super().__init__(self)` style): the
    callee may set any attribute. `super(Net, self)` only names the class whose bases to search."""
    return not is_super_call(call) and any(_names(arg.value, me) for arg in call.args)


def _first_stores(init: cst.FunctionDef, module) -> dict[str, cst.Attribute]:
    """Where `__init__` first sets each attribute. `self.X += 1` reads X before it stores it: it
    creates nothing, so a message never names it as where X is first set."""
    first: dict[str, cst.Attribute] = {}
    parents = module.names.parents
    for target in module.attribute_stores_in_method(init):
        if isinstance(parents.get(id(target)), cst.AugAssign):
            continue
        if _is_self(target.value, init):
            name = target.attr.value
            if name not in first or module.position(target) < module.position(first[name]):
                first[name] = target
    return first
