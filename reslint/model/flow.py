"""Control-flow facts about one function body: can it finish without returning a value, may a local be
unbound where it is read, which statements never run.

One forward pass over the statements carries the set of locals that are bound on every path so far
(None once no path reaches the point: after `return`, `raise`, `break`, `continue`). Branches meet by
intersection. Two choices keep the facts true claims rather than guesses:

- A loop's trip count is unknown. For *binding*, a loop is assumed to run at least once (a name bound
  in a loop body counts as bound after it), and a read of a name that the loop body itself binds is
  never doubted (it may come from an earlier iteration). For *reaching the end*, the loop may run zero
  times, so `for ...: return y` can still fall off the end.
- Names bound in ways the pass does not follow step by step (`:=`, `match` patterns) are never doubted.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any, cast

import libcst as cst

from reslint.model.walk import children

# None: no path reaches this point.
State = frozenset[str] | None

# Exact node types, compared with `type(node) in ...`: isinstance on libcst nodes goes through ABC
# machinery and was most of this module's time.
_SCOPES = frozenset({cst.FunctionDef, cst.ClassDef, cst.Lambda})
_COMPREHENSIONS = frozenset({cst.ListComp, cst.SetComp, cst.DictComp, cst.GeneratorExp})


@dataclass(frozen=True)
class FunctionFlow:
    """The control-flow facts of one function."""

    falls_off_end: bool
    bare_returns: tuple[cst.Return, ...]
    is_generator: bool
    # Reads of the function's own locals that some path reaches with the name unbound, in source order.
    maybe_unbound_reads: tuple[cst.Name, ...]
    # Statements no path reaches (the first of each unreachable run and everything after it).
    unreachable: tuple[cst.CSTNode, ...]

    @property
    def can_finish_without_value(self) -> bool:
        """A call can return None: a path falls off the end or hits a bare `return`."""
        return not self.is_generator and (self.falls_off_end or bool(self.bare_returns))

    def may_be_unbound(self, read: cst.Name) -> bool:
        return any(read is candidate for candidate in self.maybe_unbound_reads)


def analyse_function(function: cst.FunctionDef, reads: Iterable[cst.Name]) -> FunctionFlow:
    """The flow facts of `function`; `reads` are its Name nodes that are reads (not targets, keywords,
    attribute names), as the module's name index found them."""
    return _Analysis(function, reads).result()


def is_placeholder(function: cst.FunctionDef) -> bool:
    """`pass`, `...`, a docstring or `raise NotImplementedError`: a base class's placeholder."""
    body = function.body.body if isinstance(function.body, cst.IndentedBlock) else []
    for statement in body:
        if not isinstance(statement, cst.SimpleStatementLine):
            return False
        for small in statement.body:
            if isinstance(small, (cst.Pass, cst.Raise)):
                continue
            if isinstance(small, cst.Expr) and isinstance(
                small.value, (cst.SimpleString, cst.Ellipsis, cst.ConcatenatedString)
            ):
                continue
            return False
    return True


def own_code(node: cst.CSTNode) -> Iterator[cst.CSTNode]:
    """The nodes below `node` that run as part of it: not the bodies of functions, lambdas or classes
    defined inside it."""
    stack = list(children(node))
    while stack:
        current = stack.pop()
        yield current
        if type(current) not in _SCOPES:
            stack.extend(children(current))


@dataclass
class _Loop:
    """The states that leave a loop early (`break`) or start its next iteration early (`continue`)."""

    binds: frozenset[str]
    breaks: list[State] = field(default_factory=list)
    continues: list[State] = field(default_factory=list)


class _Analysis:
    def __init__(self, function: cst.FunctionDef, reads: Iterable[cst.Name]) -> None:
        self.function = function
        self.read_ids = {id(read) for read in reads}
        self.scan = _Scan(function.body)
        self.opaque = frozenset(self.scan.opaque)
        self.locals = (_parameters(function) | self.scan.bound) - self.scan.declared
        self.loops: list[_Loop] = []
        self.maybe_unbound: list[cst.Name] = []
        self.unreachable: list[cst.CSTNode] = []

    def result(self) -> FunctionFlow:
        body = self.function.body
        end = self.suite(body, frozenset(_parameters(self.function)))
        return FunctionFlow(
            falls_off_end=end is not None,
            bare_returns=tuple(self.scan.bare_returns),
            is_generator=self.scan.is_generator,
            maybe_unbound_reads=tuple(self.maybe_unbound),
            unreachable=tuple(self.unreachable),
        )

    # ----- statements ----------------------------------------------------------------------

    def suite(self, body: cst.BaseSuite, state: State) -> State:
        """An indented block, or the statements after the colon on one line (`if x: return y`)."""
        if isinstance(body, cst.IndentedBlock):
            return self.block(body.body, state)
        return self.block([body], state)

    def block(self, statements: Sequence[cst.CSTNode], state: State) -> State:
        for statement in statements:
            if state is None:
                self.unreachable.append(statement)
                continue
            state = self.statement(statement, state)
        return state

    def statement(self, node: cst.CSTNode, state: State) -> State:
        assert state is not None
        if isinstance(node, cst.SimpleStatementLine | cst.SimpleStatementSuite):
            for small in node.body:
                if state is None:
                    break
                state = self.small(small, state)
            return state
        handler = getattr(self, f"_{type(node).__name__}", None)
        if handler is not None:
            return handler(node, state)
        # Anything else (a future statement kind): read what it reads, bind what it binds.
        self.reads(node, state)
        return state | (_bound_names(node) & self.locals)

    def small(self, node: cst.BaseSmallStatement, state: frozenset[str]) -> State:
        if isinstance(node, cst.Return):
            self.reads(node.value, state)
            return None
        if isinstance(node, cst.Raise):
            self.reads(node, state)
            return None
        if isinstance(node, cst.Break | cst.Continue):
            if self.loops:
                exits = (
                    self.loops[-1].breaks
                    if isinstance(node, cst.Break)
                    else self.loops[-1].continues
                )
                exits.append(state)
            return None
        if isinstance(node, cst.Del):
            self.reads(node, state)
            return state - target_names(node.target)
        if (
            isinstance(node, cst.Assert)
            and isinstance(node.test, cst.Name)
            and node.test.value == "False"
        ):
            self.reads(node.msg, state)
            return None  # `assert False, "unknown variant"`: as good as a raise
        if isinstance(node, cst.AnnAssign) and node.value is None:
            return state  # `x: int` declares, binds nothing
        self.reads(node, state)
        binder = _BINDERS.get(type(node))
        return state | (frozenset(binder(node)) & self.locals) if binder else state

    def _If(self, node: cst.If, state: frozenset[str]) -> State:
        self.reads(node.test, state)
        taken = self.suite(node.body, state)
        if node.orelse is None:
            return _join(taken, state)
        if isinstance(node.orelse, cst.If):
            return _join(taken, self._If(node.orelse, state))
        return _join(taken, self.suite(node.orelse.body, state))

    def _For(self, node: cst.For, state: frozenset[str]) -> State:
        self.reads(node.iter, state)
        return self.loop(node, state, state | target_names(node.target), runs_forever=False)

    def _While(self, node: cst.While, state: frozenset[str]) -> State:
        self.reads(node.test, state)
        test = node.test
        forever = (isinstance(test, cst.Name) and test.value == "True") or (
            isinstance(test, cst.Integer) and test.value != "0"
        )
        return self.loop(node, state, state, runs_forever=forever)

    def loop(
        self,
        node: cst.For | cst.While,
        before: frozenset[str],
        entry: frozenset[str],
        runs_forever: bool,
    ) -> State:
        self.loops.append(_Loop(_bound_names(node.body) & self.locals))
        end = self.suite(node.body, entry)
        exits = self.loops.pop()
        # At least one iteration: the loop ends normally after its last one, or leaves by break.
        normal = None if runs_forever else _join(end, *exits.continues)
        if normal is not None and node.orelse is not None:
            normal = self.suite(node.orelse.body, normal)
        after = _join(normal, *exits.breaks)
        if after is not None or runs_forever:
            return after
        # No iteration can finish: only the zero-iteration path (through `else`) goes on.
        if node.orelse is not None:
            return self.suite(node.orelse.body, before)
        return before

    def _Try(self, node: cst.Try | cst.TryStar, state: frozenset[str]) -> State:
        # The body may raise before binding anything: each handler starts from the entry state.
        end = self.suite(node.body, state)
        if end is not None and node.orelse is not None:
            end = self.suite(node.orelse.body, end)
        outcomes = [end]
        for handler in node.handlers:
            self.reads(handler.type, state)
            name = _handler_name(handler)
            handled = self.suite(handler.body, state | name)
            outcomes.append(handled - name if handled is not None else None)
        after = _join(*outcomes)
        if node.finalbody is None:
            return after
        # `finally` runs on every path, the failing ones included: its reads see the entry state.
        final = self.suite(node.finalbody.body, state)
        return None if final is None or after is None else after | final

    _TryStar = _Try

    def _With(self, node: cst.With, state: frozenset[str]) -> State:
        for item in node.items:
            self.reads(item.item, state)
            if item.asname is not None:
                state = state | target_names(item.asname.name)
        return self.suite(node.body, state)

    def _Match(self, node: cst.Match, state: frozenset[str]) -> State:
        self.reads(node.subject, state)
        outcomes: list[State] = [state]  # no case may match
        for case in node.cases:
            self.reads(case.guard, state)
            outcomes.append(self.suite(case.body, state | (_bound_names(case) & self.locals)))
        return _join(*outcomes)

    def _FunctionDef(self, node: cst.FunctionDef, state: frozenset[str]) -> State:
        for decorator in node.decorators:
            self.reads(decorator, state)
        for param in _all_params(node.params):
            self.reads(param.default, state)
        return state | {node.name.value}

    def _ClassDef(self, node: cst.ClassDef, state: frozenset[str]) -> State:
        for decorator in node.decorators:
            self.reads(decorator, state)
        for arg in [*node.bases, *node.keywords]:
            self.reads(arg, state)
        return state | {node.name.value}

    # ----- reads ---------------------------------------------------------------------------

    def reads(self, node: cst.CSTNode | None, state: frozenset[str]) -> None:
        """Check every read of a local inside `node` (an expression or a simple statement)."""
        if node is None:
            return
        stack: list[tuple[cst.CSTNode, frozenset[str]]] = [(node, frozenset())]
        while stack:
            current, hidden = stack.pop()
            kind = type(current)
            if kind is cst.Name:
                name = cast(cst.Name, current)
                if id(name) in self.read_ids and name.value not in hidden:
                    self.check(name, state)
                continue
            if kind in _SCOPES:
                continue  # a lambda's body runs later, with whatever is bound then
            if kind in _COMPREHENSIONS:
                hidden = hidden | _comprehension_targets(current)
            stack.extend((child, hidden) for child in children(current))

    def check(self, read: cst.Name, state: frozenset[str]) -> None:
        name = read.value
        if name not in self.locals or name in state or name in self.opaque:
            return
        if any(name in loop.binds for loop in self.loops):
            return  # may come from an earlier iteration
        self.maybe_unbound.append(read)


# ----- name sets -------------------------------------------------------------------------------


def _join(*states: State) -> State:
    """Where paths meet: bound on all of those that reach it (unreachable paths do not count)."""
    reached = [state for state in states if state is not None]
    if not reached:
        return None
    return frozenset.intersection(*reached)


def _all_params(params: cst.Parameters) -> list[cst.Param]:
    found = [*params.posonly_params, *params.params, *params.kwonly_params]
    found += [star for star in (params.star_arg, params.star_kwarg) if isinstance(star, cst.Param)]
    return found


def _parameters(function: cst.FunctionDef) -> frozenset[str]:
    return frozenset(param.name.value for param in _all_params(function.params))


def target_names(target: cst.CSTNode) -> frozenset[str]:
    """The plain names an assignment target binds (`a`, `a, (b, *c)`), not `x.attr` nor `x[i]`."""
    if isinstance(target, cst.Name):
        return frozenset({target.value})
    if isinstance(target, cst.Tuple | cst.List):
        return frozenset().union(*(target_names(element.value) for element in target.elements))
    if isinstance(target, cst.StarredElement):
        return target_names(target.value)
    return frozenset()


def _bound_names(node: cst.CSTNode) -> frozenset[str]:
    """Every name the code inside `node` binds in the enclosing function's scope (comprehension
    targets excluded)."""
    found: set[str] = set()
    for inner in own_code(node):
        binder = _BINDERS.get(type(inner))
        if binder is not None:
            found.update(binder(inner))
    return frozenset(found)


class _Scan:
    """One pass over a function body's own code: what it binds, declares `global` / `nonlocal`, binds
    in ways the flow pass does not follow (`:=`, `match` patterns), and how it returns."""

    def __init__(self, body: cst.CSTNode) -> None:
        self.bound: set[str] = set()
        self.declared: set[str] = set()
        self.opaque: set[str] = set()
        self.bare_returns: list[cst.Return] = []
        self.is_generator = False
        for inner in own_code(body):
            kind = type(inner)
            binder = _BINDERS.get(kind)
            if binder is not None:
                names = binder(inner)
                self.bound.update(names)
                if kind in _OPAQUE:
                    self.opaque.update(names)
            elif kind is cst.Global or kind is cst.Nonlocal:
                declaration = cast(cst.Global | cst.Nonlocal, inner)
                self.declared.update(
                    item.name.value for item in declaration.names if isinstance(item.name, cst.Name)
                )
            elif kind is cst.Return and cast(cst.Return, inner).value is None:
                self.bare_returns.append(cast(cst.Return, inner))
            elif kind is cst.Yield:
                self.is_generator = True


def _assigned(node: cst.Assign) -> frozenset[str]:
    return frozenset().union(*(target_names(target.target) for target in node.targets))


def _defined(node: cst.FunctionDef | cst.ClassDef) -> frozenset[str]:
    return frozenset({node.name.value})


def _named(node: cst.MatchAs | cst.MatchStar) -> frozenset[str]:
    return frozenset({node.name.value}) if node.name is not None else frozenset()


# Node type -> the names it binds in the enclosing function's scope.
_BINDERS: dict[type, Callable[[Any], frozenset[str]]] = {
    cst.Assign: _assigned,
    cst.AnnAssign: lambda node: target_names(node.target),
    cst.AugAssign: lambda node: target_names(node.target),
    cst.For: lambda node: target_names(node.target),
    cst.WithItem: lambda node: target_names(node.asname.name) if node.asname else frozenset(),
    cst.ExceptHandler: lambda node: _handler_name(node),
    cst.ExceptStarHandler: lambda node: _handler_name(node),
    cst.NamedExpr: lambda node: target_names(node.target),
    cst.FunctionDef: _defined,
    cst.ClassDef: _defined,
    cst.Import: lambda node: frozenset(_imported_names(node)),
    cst.ImportFrom: lambda node: frozenset(_imported_names(node)),
    cst.MatchAs: _named,
    cst.MatchStar: _named,
    cst.MatchMapping: lambda node: frozenset({node.rest.value}) if node.rest else frozenset(),
}
# Bindings the flow pass does not follow step by step: their names are never doubted.
_OPAQUE = frozenset({cst.NamedExpr, cst.MatchAs, cst.MatchStar, cst.MatchMapping})


def _handler_name(handler: cst.ExceptHandler | cst.ExceptStarHandler) -> frozenset[str]:
    if handler.name is not None and isinstance(handler.name.name, cst.Name):
        return frozenset({handler.name.name.value})
    return frozenset()


def _imported_names(node: cst.Import | cst.ImportFrom) -> set[str]:
    if isinstance(node.names, cst.ImportStar):
        return set()
    found = set()
    for alias in node.names:
        if alias.asname is not None and isinstance(alias.asname.name, cst.Name):
            found.add(alias.asname.name.value)
            continue
        name: cst.BaseExpression = alias.name
        while isinstance(name, cst.Attribute):
            name = name.value
        if isinstance(name, cst.Name):
            found.add(name.value)
    return found


def _comprehension_targets(node: cst.CSTNode) -> frozenset[str]:
    found: frozenset[str] = frozenset()
    current = getattr(node, "for_in", None)
    while isinstance(current, cst.CompFor):
        found |= target_names(current.target)
        current = current.inner_for_in
    return found
