"""What forward does with the values it assigns: locals never read, stores overwritten before any
read (`out = self.bn2(out)` then `out = self.relu(x)`), and last stores nothing reads afterwards
(`residual = self.shortcut(residual)` with the addition gone)."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import cast

import libcst as cst

from reslint.model.walk import children, descendants


@dataclass(frozen=True)
class DeadStore:
    """`name` assigned by `first`, assigned again by `second` before anything read it."""

    name: str
    first: cst.Assign | cst.AugAssign
    second: cst.Assign


def names_read(node: cst.CSTNode) -> set[str]:
    """Every plain name read anywhere inside `node` (assignment targets excluded)."""
    read: set[str] = set()
    stack = [node]
    while stack:
        current = stack.pop()
        kind = type(current)
        if kind is cst.Name:
            read.add(cast(cst.Name, current).value)
        elif kind is not cst.AssignTarget:  # an AssignTarget holds its target and nothing else
            stack.extend(children(current))
    return read


@dataclass
class Liveness:
    """What a function body does with the values it assigns (a backward liveness pass over it; loops
    and try blocks are judged conservatively: only a loop's stores its own iteration overwrites
    unread are reported)."""

    # Assignments whose value no path reads before the name is assigned again.
    overwritten: list[DeadStore] = field(default_factory=list)
    # Assignments whose value no path reads before the function ends.
    unread: list[cst.Assign | cst.AugAssign] = field(default_factory=list)
    # Those of `unread` that are their name's last binding in the body.
    unread_last: list[cst.Assign | cst.AugAssign] = field(default_factory=list)
    # A value built up step by step (`out += residual`), thrown away by the `if` right after it: a
    # branch assigns the name anew before reading it (`if self.final_relu: out = self.relu(x)`).
    overwritten_in_branch: list[DeadStore] = field(default_factory=list)


def liveness(body: cst.BaseSuite) -> Liveness:
    """The liveness facts of a function body (ModuleModel.liveness keeps them per function)."""
    found = Liveness()
    _live_before(list(body.body), set(), found, {}, judge=True)
    last = _last_bindings(body)
    found.unread_last = [store for store in found.unread if last.get(assigned_name(store)) is store]
    found.overwritten_in_branch = list(_overwritten_in_branch(list(body.body)))
    return found


def _overwritten_in_branch(statements: list[cst.CSTNode]) -> Iterator[DeadStore]:
    """`out = out * self.scale + x` then `if ...: out = self.relu(x)`: the first store extends the
    name's own chain (it reads the name, or is `out += ...`), and a branch of the next `if` assigns
    the name from something else before anything reads it. A store that starts a fresh value
    (`out = self.shortcut(x)` then `if ...: out = self.downsample(x)`) is a default, not reported."""
    for first, statement in zip(statements, statements[1:]):
        store = _single_assignment(first)
        if store is None or not isinstance(statement, cst.If):
            continue
        name = assigned_name(store)
        chained = isinstance(store, cst.AugAssign) or name in names_read(store.value)
        if not chained or name in names_read(statement.test):
            continue
        orelse = statement.orelse
        branches = [statement.body] + ([orelse.body] if isinstance(orelse, cst.Else) else [])
        for branch in branches:
            second = _first_touch(list(branch.body), name)
            if second is not None:
                yield DeadStore(name, store, second)
    for statement in statements:
        for suite in _suites(statement):
            yield from _overwritten_in_branch(suite)


def _first_touch(statements: list[cst.CSTNode], name: str) -> cst.Assign | None:
    """The statement of a branch that first reads or binds `name`, when it is `name = value` with a
    value that calls something and does not read `name`."""
    for statement in statements:
        store = _single_assignment(statement)
        if store is not None and isinstance(store, cst.Assign) and assigned_name(store) == name:
            fresh = name not in names_read(store.value)
            calls = any(isinstance(node, cst.Call) for node in descendants(store.value))
            return store if fresh and calls else None
        if name in names_read(statement) or name in _assigned(statement):
            return None
    return None


def _suites(statement: cst.CSTNode) -> Iterator[list[cst.CSTNode]]:
    """The statement lists nested directly in a compound statement (both branches of an `if`)."""
    if isinstance(statement, cst.If):
        yield list(statement.body.body)
        if isinstance(statement.orelse, cst.If):
            yield from _suites(statement.orelse)
        elif isinstance(statement.orelse, cst.Else):
            yield list(statement.orelse.body.body)
    elif isinstance(statement, (cst.For, cst.While, cst.With, cst.Try)):
        yield _suite(statement)


def _last_bindings(body: cst.BaseSuite) -> dict[str, cst.CSTNode]:
    """Each name's last binding in source order: the assignment, loop, `with` or walrus that binds it."""
    last: dict[str, cst.CSTNode] = {}
    for node in descendants(body):
        if type(node) not in _BINDINGS:
            continue  # most nodes: one set lookup, not five failed isinstance checks on ABCs
        if isinstance(node, cst.Assign):
            targets: list[cst.CSTNode] = [target.target for target in node.targets]
        elif isinstance(node, (cst.AugAssign, cst.AnnAssign, cst.For, cst.NamedExpr)):
            targets = [node.target]
        elif isinstance(node, cst.AsName):
            targets = [node.name]
        else:
            continue
        for target in targets:
            for name in descendants(target):
                if type(name) is cst.Name:
                    last[name.value] = node
    return last


_BINDINGS = frozenset(
    {cst.Assign, cst.AugAssign, cst.AnnAssign, cst.For, cst.NamedExpr, cst.AsName}
)


def _live_before(
    statements: list[cst.CSTNode],
    live: set[str],
    found: Liveness,
    overwriting: dict[str, cst.Assign],
    judge: bool,
) -> set[str]:
    """The names read before being written, from the start of `statements`; `live` is what is read
    after them. `overwriting` maps a name to the next assignment that kills it."""
    live = set(live)
    overwriting = dict(overwriting)
    for statement in reversed(statements):
        if isinstance(statement, cst.If):
            body = _live_before(list(statement.body.body), live, found, overwriting, judge)
            orelse = statement.orelse
            if isinstance(orelse, cst.Else):
                other = _live_before(list(orelse.body.body), live, found, overwriting, judge)
            elif isinstance(orelse, cst.If):
                other = _live_before([orelse], live, found, overwriting, judge)
            else:
                other = live
            live = body | other | names_read(statement.test)
            overwriting = {}
            continue
        if isinstance(statement, cst.With):
            # `with torch.autocast(...):` runs its body once, in order: a plain run of statements.
            # What it kills of the statements before it is not followed (left unjudged).
            live = _live_before(list(statement.body.body), live, found, overwriting, judge)
            live |= set().union(*(names_read(item.item) for item in statement.items))
            overwriting = {}
            continue
        small = _single_assignment(statement)
        if small is None:
            if isinstance(statement, (cst.For, cst.While, cst.Try)):
                inside = names_read(statement)
                loop = Liveness()
                # A try body may stop anywhere (its handler reads what it likes): nothing is judged.
                # An iteration may leave a value for the next one to read, but a store the same
                # iteration assigns again before any read is lost in every iteration.
                judged = judge and not isinstance(statement, cst.Try)
                _live_before(_suite(statement), live | inside, loop, {}, judge=judged)
                found.overwritten += loop.overwritten
                live |= inside
                overwriting = {}
            elif _returns(statement):
                live = names_read(statement)
                overwriting = {}
            else:
                live |= names_read(statement)
                for name in _assigned(statement):
                    overwriting.pop(name, None)
            continue
        name = assigned_name(small)
        if judge and name not in live:
            if name in overwriting:
                found.overwritten.append(DeadStore(name, small, overwriting[name]))
            else:
                found.unread.append(small)
        live.discard(name)
        live |= names_read(small.value)
        if isinstance(small, cst.AugAssign):
            live.add(name)  # `out += identity` reads `out` too
        else:
            overwriting[name] = small
    return live


def _suite(statement: cst.CSTNode) -> list[cst.CSTNode]:
    body = getattr(statement, "body", None)
    return list(body.body) if isinstance(body, cst.BaseSuite) else []


def _returns(statement: cst.CSTNode) -> bool:
    return isinstance(statement, cst.SimpleStatementLine) and any(
        isinstance(small, (cst.Return, cst.Raise)) for small in statement.body
    )


def _assigned(statement: cst.CSTNode) -> set[str]:
    return {
        node.target.value
        for node in descendants(statement)
        if isinstance(node, cst.AssignTarget) and isinstance(node.target, cst.Name)
    }


def _single_assignment(statement: cst.CSTNode) -> cst.Assign | cst.AugAssign | None:
    """`name = value` or `name += value` as a whole statement."""
    if not isinstance(statement, cst.SimpleStatementLine) or len(statement.body) != 1:
        return None
    small = statement.body[0]
    if (
        isinstance(small, cst.Assign)
        and len(small.targets) == 1
        and isinstance(small.targets[0].target, cst.Name)
    ):
        return small
    if isinstance(small, cst.AugAssign) and isinstance(small.target, cst.Name):
        return small
    return None


def assigned_name(small: cst.Assign | cst.AugAssign) -> str:
    target = small.targets[0].target if isinstance(small, cst.Assign) else small.target
    assert isinstance(target, cst.Name)
    return target.value
