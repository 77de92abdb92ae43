"""Huge files linted a part at a time: their top-level statements split into independent segments.

libcst's tree costs about 16 KB per line of code (a 100k-line file: 1.7 GB), and the model and the
rules keep it whole. A file longer than SEGMENT_THRESHOLD lines is therefore cut into segments of
about SEGMENT_BUDGET lines that are parsed, modelled and checked one after the other, so that the
peak memory is one segment's. The cut must not change what the rules see:

- two top-level statements go into the same segment when one reads a module-level name the other
  binds (a class and its bases, a function and its callers, a name bound twice: everything a
  definition "in force" could depend on), followed transitively, so a segment holds whole connected
  groups in source order;
- imports and small constant assignments whose names nothing else binds are the shared context:
  they are copied, at their place in source order, into every segment;
- a group larger than the budget is one segment of its own (it is one graph: linted whole).

A rule that asks about the whole module gets the file's answer where the engine can give it
(`ModuleModel.defines_networks`); a finding on the shared context is reported once, by the first
segment that reports it, so a message naming "the first use" of an import (RN119) names the first in
that segment.

Each segment keeps whole lines of the file, so a column stays where it was and a line is mapped back
with `Segment.file_line`. Statements are found without tokenizing the file nor building its whole
`ast` tree (100k lines of `ast` nodes alone take 500 MB): a line that starts at column 0 starts a
candidate statement, and the candidate is confirmed when `ast.parse` accepts it alone; a candidate
that does not parse (a decorator, a string or brackets over several lines) is joined with the next
ones. A prefix of whole lines that parses, ending where the next line starts at column 0, is tokenized
as the whole file tokenizes it, so each confirmed unit is exactly the file's statements. A file with
a syntax error is not segmented (the whole-file parse reports it).
"""

from __future__ import annotations

import ast
import re
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import overload

from reslint.source import split_lines

# Files longer than this are linted in segments; measured on the growth benchmark's generated files,
# a 2,500-line segment peaks at about 45 MB of libcst tree, and segments under 1,000 lines start to
# cost more in repeated shared context than they save.
SEGMENT_THRESHOLD = 5_000
SEGMENT_BUDGET = 2_500
# An import or constant longer than this is not copied into every segment (a data table).
_SHARED_MAX_LINES = 20

# Keywords that continue a compound statement at column 0: never the start of a statement.
_CONTINUATION = re.compile(r"(else|elif|except|finally)\b")
_IDENTIFIER = re.compile(r"[^\W\d]\w*")


@dataclass(frozen=True)
class Segment:
    """Part of a file: whole lines of it, and the file's number for each of them."""

    text: str
    lines: tuple[int, ...]  # 1-based file line of each line of `text`
    # Whether another segment of the file defines an nn.Module class (ModuleModel.defines_networks).
    in_network_file: bool = False

    def file_line(self, line: int) -> int:
        """The file's number of the segment's `line` (a line past the end counts on from the last)."""
        if 1 <= line <= len(self.lines):
            return self.lines[line - 1]
        return self.lines[-1] + line - len(self.lines)

    def lines_as_in_file(self) -> FileLines:
        return FileLines(self)


class FileLines(Sequence[str]):
    """A segment's lines indexed as the file's (0-based); the file's other lines read as empty."""

    def __init__(self, segment: Segment) -> None:
        self._texts = segment.text.splitlines()
        self._index = {number - 1: index for index, number in enumerate(segment.lines)}
        self._length = segment.lines[-1]

    def __len__(self) -> int:
        return self._length

    @overload
    def __getitem__(self, index: int) -> str: ...
    @overload
    def __getitem__(self, index: slice) -> Sequence[str]: ...
    def __getitem__(self, index: int | slice) -> str | Sequence[str]:
        if isinstance(index, slice):
            return [self[number] for number in range(len(self))[index]]
        if index < 0:
            index += len(self)
        if not 0 <= index < len(self):
            raise IndexError(index)
        at = self._index.get(index)
        return "" if at is None else self._texts[at]


@dataclass
class _Unit:
    """One or more top-level statements that start at column 0 and parse alone."""

    first: int  # 0-based index of its first line in the file (its leading comments included)
    end: int  # 0-based index past its last line of code
    binds: frozenset[str]
    reads: frozenset[str]
    shareable: bool


def plan_segments(
    text: str, threshold: int = SEGMENT_THRESHOLD, budget: int = SEGMENT_BUDGET
) -> list[Segment] | None:
    """The segments to lint `text` in, or None when it is to be linted whole (short, a syntax error, or
    one connected group)."""
    lines = split_lines(text)
    if len(lines) <= threshold:
        return None
    units = _units(lines)
    if units is None:
        return None
    shared = _shared(units)
    groups = _packed(_components(units, shared), units, budget)
    if len(groups) < 2:
        return None
    shared_indexes = sorted(shared)
    return [_segment(lines, units, sorted(shared_indexes + group)) for group in groups]


# ----------------------------------------------------------------------------------------------------------
# Units: the file's top-level statements, found a few lines at a time.


def _units(lines: Sequence[str]) -> list[_Unit] | None:
    starts = [0] + [index for index in range(1, len(lines)) if _starts_statement(lines[index])]
    starts.append(len(lines))
    units: list[_Unit] = []
    position = 0
    while position < len(starts) - 1:
        unit, position = _next_unit(lines, starts, position)
        if unit is None:
            return None
        if unit.end > unit.first:  # not only comments
            units.append(unit)
    # The comments and blank lines after a unit's code lead the next unit: libcst counts them in the
    # next statement's lines, which must be whole in a segment (its positions are counted from them).
    for previous, unit in zip([None, *units], units):
        unit.first = previous.end if previous is not None else 0
    if units:
        units[-1].end = len(lines)
    return units


def _starts_statement(line: str) -> bool:
    return bool(line) and line[0] not in " \t\f\r\n#" and not _CONTINUATION.match(line)


def _next_unit(
    lines: Sequence[str], starts: Sequence[int], position: int
) -> tuple[_Unit | None, int]:
    """The unit from candidate `position` on, and the candidate after it. A candidate that does not
    parse is joined with 1, 2, 4... more (a syntax error reaches the end in logarithmically many
    tries)."""
    step = 1
    while True:
        after = min(position + step, len(starts) - 1)
        first, end = starts[position], starts[after]
        text = "".join(lines[first:end])
        try:
            tree = ast.parse(text)
        except SyntaxError:
            if after == len(starts) - 1:
                return None, after
            step *= 2
            continue
        except (ValueError, RecursionError, MemoryError):  # a null byte, a very deep expression
            return None, after
        return _unit(tree, text, first, end), after


def _unit(tree: ast.Module, text: str, first: int, end: int) -> _Unit:
    scoped = "global" in text or "nonlocal" in text
    binds = {name for statement in tree.body for name in _module_bindings(statement, scoped)}
    # Every identifier of the text counts as read (attributes, strings and comments too): more links
    # than needed, never fewer (a string annotation "Block" reads Block), and no tree walk.
    reads = frozenset(_IDENTIFIER.findall(text))
    code_end = first + tree.body[-1].end_lineno if tree.body else first  # type: ignore[operator]
    shareable = end - first <= _SHARED_MAX_LINES and all(map(_shareable, tree.body))
    return _Unit(first, code_end, frozenset(binds), reads, shareable)


def _module_bindings(node: ast.AST, scoped: bool) -> Iterator[str]:
    """The module-level names a top-level statement binds (not its functions' or classes' locals);
    `scoped`: whether a `global`/`nonlocal` may make a function bind one."""
    if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
        yield node.name
        if scoped:
            for inner in ast.walk(node):
                if isinstance(inner, (ast.Global, ast.Nonlocal)):
                    yield from inner.names
        return
    if isinstance(node, (ast.Lambda, ast.ListComp, ast.SetComp, ast.DictComp, ast.GeneratorExp)):
        # their own scope: only an assignment expression binds outside it
        for inner in ast.walk(node):
            if isinstance(inner, ast.NamedExpr) and isinstance(inner.target, ast.Name):
                yield inner.target.id
        return
    if isinstance(node, ast.Name) and isinstance(node.ctx, (ast.Store, ast.Del)):
        yield node.id
    elif isinstance(node, ast.alias):
        yield (node.asname or node.name).split(".")[0]
    elif isinstance(node, ast.ExceptHandler) and node.name:
        yield node.name
    elif isinstance(node, (ast.MatchAs, ast.MatchStar)) and node.name:
        yield node.name
    elif isinstance(node, ast.MatchMapping) and node.rest:
        yield node.rest
    for child in ast.iter_child_nodes(node):
        yield from _module_bindings(child, scoped)


def _shareable(node: ast.stmt) -> bool:
    """Imports and plain constants (and `try`/`if` around only those): context every segment needs."""
    if isinstance(node, (ast.Import, ast.ImportFrom, ast.Pass)):
        return True
    if isinstance(node, ast.Assign):
        return all(isinstance(target, ast.Name) for target in node.targets) and _constant(
            node.value
        )
    if isinstance(node, ast.AnnAssign):
        return isinstance(node.target, ast.Name) and (node.value is None or _constant(node.value))
    if isinstance(node, ast.Try):
        handlers = [inner for handler in node.handlers for inner in handler.body]
        return all(map(_shareable, [*node.body, *handlers, *node.orelse, *node.finalbody]))
    if isinstance(node, ast.If):
        return all(map(_shareable, [*node.body, *node.orelse]))
    return False


def _constant(node: ast.expr) -> bool:
    if isinstance(node, (ast.Tuple, ast.List, ast.Set)):
        return all(map(_constant, node.elts))
    if isinstance(node, ast.UnaryOp):
        return _constant(node.operand)
    return isinstance(node, ast.Constant)


# ----------------------------------------------------------------------------------------------------------
# Which units go together.


def _shared(units: Sequence[_Unit]) -> set[int]:
    """The shareable units whose names no other unit binds and that read nothing another unit binds."""
    shared = {index for index, unit in enumerate(units) if unit.shareable}
    while True:
        bound_elsewhere = {
            name for index, unit in enumerate(units) if index not in shared for name in unit.binds
        }
        kept = {
            index
            for index in shared
            if not (units[index].binds | units[index].reads) & bound_elsewhere
        }
        if kept == shared:
            return shared
        shared = kept


def _components(units: Sequence[_Unit], shared: set[int]) -> list[list[int]]:
    """The connected groups of the other units, each in source order, in order of their first unit."""
    parent = {index: index for index in range(len(units)) if index not in shared}

    def root(index: int) -> int:
        while parent[index] != index:
            parent[index] = parent[parent[index]]
            index = parent[index]
        return index

    binders: dict[str, int] = {}
    for index in parent:
        for name in units[index].binds:
            if name in binders:
                parent[root(index)] = root(binders[name])
            else:
                binders[name] = index
    for index in parent:
        for name in units[index].reads:
            if name in binders:
                parent[root(index)] = root(binders[name])
        # a star import that is not shared context (joined with the module docstring before it)
        # may bind any name the other units read: they go with it
        if "*" in binders:
            parent[root(index)] = root(binders["*"])
    components: dict[int, list[int]] = {}
    for index in parent:
        components.setdefault(root(index), []).append(index)
    return sorted(components.values(), key=lambda component: component[0])


def _packed(components: list[list[int]], units: Sequence[_Unit], budget: int) -> list[list[int]]:
    """Components packed in order into groups of at most `budget` lines (a larger one alone)."""
    groups: list[list[int]] = []
    current: list[int] = []
    size = 0
    for component in components:
        lines = sum(units[index].end - units[index].first for index in component)
        if current and size + lines > budget:
            groups.append(current)
            current, size = [], 0
        current.extend(component)
        size += lines
    if current:
        groups.append(current)
    return groups


def _segment(lines: Sequence[str], units: Sequence[_Unit], chosen: Sequence[int]) -> Segment:
    parts: list[str] = []
    numbers: list[int] = []
    for index in chosen:
        unit = units[index]
        for number in range(unit.first, unit.end):
            line = lines[number]
            parts.append(line if line.endswith(("\n", "\r")) else line + "\n")
            numbers.append(number + 1)
    return Segment("".join(parts), tuple(numbers))
