"""Name-binding facts from pyflakes: the names a file reads where nothing binds them.

pyflakes (PyCQA) already knows Python's scoping rules (class bodies, comprehensions, `del`, conditional
imports, `try: ... except NameError`); reslint asks it rather than keep a second scope analysis. It
needs an `ast` tree, so the source is parsed a second time; its findings are mapped back to the
libcst Name nodes the rules report on.
"""

from __future__ import annotations

import ast
import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

import libcst as cst

from reslint.fast_parse import collection_paused
from reslint.model.defined_reads import every_read_defined
from reslint.model.walk import descendants

if TYPE_CHECKING:
    from reslint.model.module import ModuleModel

# Names a notebook's kernel provides; files exported from notebooks call them without importing them.
NOTEBOOK_BUILTINS = frozenset({"get_ipython", "display"})

_IDENTIFIER = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")


@dataclass(frozen=True)
class UndefinedName:
    """A read of a name that nothing binds where it is read (NameError when that line runs)."""

    node: cst.Name
    name: str
    function: cst.FunctionDef | None  # innermost enclosing function


def find_undefined_names(module: ModuleModel) -> tuple[UndefinedName, ...]:
    """pyflakes' undefined names of the module's source (the repaired source, for a file with syntax
    errors), skipping names a repair may have removed the definition of. pyflakes is not run when
    the name index proves every read defined (reslint.model.defined_reads)."""
    from reslint.model.module import BUILTIN_NAMES

    if every_read_defined(module.names, module.tree, BUILTIN_NAMES | NOTEBOOK_BUILTINS):
        return ()
    with collection_paused():  # Python's tree and pyflakes' scopes live only for this call
        places = _undefined_places(module.source, module.path, module.file_line)
    if not places:
        return ()
    found = []
    for read in module.names.reads:
        name = read.node.value
        if name not in places or name in module.lost_in_repair or module.names.loop_carried(read):
            continue  # pyflakes reads a loop in one pass: a name bound later in the body is unseen
        if _presence_checked(read.node, module) or module.repaired_within(read.function):
            continue  # a repaired line of the function (`???`) may be what binds the name
        line, column, _, _ = module.position(read.node)
        if (line, column) in places[name]:
            found.append(((line, column), UndefinedName(read.node, name, read.function)))
    return tuple(undefined for _, undefined in sorted(found, key=lambda item: item[0]))


def _presence_checked(read: cst.Name, module: ModuleModel) -> bool:
    """The read runs only under a test that the name exists (`if "elapsed" in locals() or "elapsed"
    in globals():`, `if name in dir():`): a script's guard for a value an earlier step may not have
    made, which never raises NameError."""
    return any(
        way and any(_tests_presence(node, read.value) for node in descendants(choice.test))
        for choice, way in module.names.choices_around(read, (cst.FunctionDef, cst.ClassDef))
    )


def _tests_presence(node: cst.CSTNode, name: str) -> bool:
    """`"name" in locals()` (or `globals()`, `dir()`, `vars()`)."""
    if not (isinstance(node, cst.Comparison) and len(node.comparisons) == 1):
        return False
    target = node.comparisons[0]
    scope = target.comparator
    return (
        isinstance(target.operator, cst.In)
        and isinstance(node.left, cst.SimpleString)
        and node.left.evaluated_value == name
        and isinstance(scope, cst.Call)
        and isinstance(scope.func, cst.Name)
        and scope.func.value in ("locals", "globals", "dir", "vars")
    )


def names_lost_in_repair(original: str, repaired: str) -> frozenset[str]:
    """The identifiers on the lines a syntax repair changed: a definition there may be gone from the
    repaired source, so a read of one of these names elsewhere proves nothing."""
    changed = lines_changed_in_repair(original, repaired)
    return frozenset(name for line in changed.values() for name in _IDENTIFIER.findall(line))


def lines_changed_in_repair(original: str, repaired: str) -> dict[int, str]:
    """The lines a syntax repair changed, by their 1-based number, as the original had them."""
    if original == repaired:
        return {}
    return {
        number: before
        for number, (before, after) in enumerate(
            zip(original.splitlines(), repaired.splitlines()), start=1
        )
        if before != after
    }


def _undefined_places(
    source: str, path: str, file_line: Callable[[int], int]
) -> dict[str, set[tuple[int, int]]]:
    """name -> {(line of the file, 1-based character column)} of each undefined read pyflakes
    reports."""
    try:
        tree = ast.parse(source)
    except (
        SyntaxError,
        ValueError,
        RecursionError,
    ):  # what libcst parsed, CPython may still refuse
        return {}
    from pyflakes.checker import Checker
    from pyflakes.messages import UndefinedName as Undefined

    checker = Checker(tree, filename=path, builtins=NOTEBOOK_BUILTINS)
    lines = source.splitlines()
    places: dict[str, set[tuple[int, int]]] = {}
    for message in checker.messages:
        if isinstance(message, Undefined):
            line = lines[message.lineno - 1] if message.lineno <= len(lines) else ""
            place = (file_line(message.lineno), _character_column(line, message.col) + 1)
            places.setdefault(message.message_args[0], set()).add(place)
    return places


def _character_column(line: str, byte_offset: int) -> int:
    """ast counts columns in UTF-8 bytes, libcst in characters (they differ after non-ASCII text such as a Chinese string)."""
    return len(line.encode("utf-8")[:byte_offset].decode("utf-8", errors="ignore"))
