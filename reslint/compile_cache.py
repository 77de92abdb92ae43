"""What the command would compile at every start, compiled once: dataclass methods and regular expressions.

Python keeps a module's bytecode in `__pycache__`, but not two things a module may compile while it is
imported:
- `dataclasses` writes each class's `__init__`, `__repr__`, `__eq__` (and, when frozen, `__hash__`,
  `__setattr__` and `__delattr__`) as Python source and compiles it. For libcst's 184 node classes
  and reslint's 81 dataclasses that was a third of a cold one-file run (0.74 G of 2.24 G
  instructions, measured with cachegrind).
- `re.compile` parses each pattern and compiles it to the regular-expression engine's program, in
  Python. reslint, libcst and the standard library compile about a hundred patterns in a run: 4% of
  a cold one-file run (58 M of 1.41 G instructions).
The command keeps both in one file in the user's cache folder, keyed by their exact source (and, for a
pattern, its flags), and uses them from there on later runs: the same source compiled by the same
Python gives the same code. A file that is missing, unreadable, made by another Python or writable by
anyone but its owner is not used, and everything is compiled as always.
"""

from __future__ import annotations

import dataclasses
import marshal
import os
import re
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from importlib.util import MAGIC_NUMBER
from types import CodeType
from typing import Any

# libcst, rich and reslint write about 1,050 methods and compile about 100 patterns; a cache grown
# past this (other versions of them over time) keeps only what the run that finds it too large used.
MAX_ENTRIES = 4096

try:  # the pattern compiler of Python 3.11 and later (3.10 has no cache for it)
    import _sre
    from re import _compiler as pattern_compiler  # type: ignore[attr-defined]
except ImportError:  # pragma: no cover - Python 3.10, or another implementation
    pattern_compiler = None


@contextmanager
def compiled_once(directory: str | None = None) -> Iterator[None]:
    """While inside, dataclass methods and regular expressions come from the cache in `directory`
    (default: the user's cache folder), and those compiled afresh are added to it on the way out."""
    if directory is None:
        directory = default_directory()
    if directory is None or "exec" in vars(dataclasses):  # no home, or someone else's hook
        yield
        return
    path = os.path.join(directory, _file_name())
    cache = _CompileCache(path)
    dataclasses.exec = cache.exec  # type: ignore[attr-defined]  # shadows the builtin for it alone
    compile_pattern = pattern_compiler.compile if pattern_compiler is not None else None
    if compile_pattern is not None:
        cache.compile_pattern = compile_pattern
        pattern_compiler.compile = cache.pattern
    try:
        yield
    finally:
        del dataclasses.exec  # type: ignore[attr-defined]
        if compile_pattern is not None:
            pattern_compiler.compile = compile_pattern
        if cache.compiled:
            _save(path, cache.to_keep())


def default_directory() -> str | None:
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return os.path.join(base, "reslint") if os.path.isabs(base) else None


# A pattern's entry: the arguments `re._compiler.compile` hands the engine after its pattern string
# (flags, program, group count, group names both ways), all plain values marshal can store.
PatternEntry = tuple[int, list[int], int, dict[str, int], tuple[Any, ...]]


class _CompileCache:
    def __init__(self, path: str) -> None:
        self.path = path
        self._known: dict[str, dict[Any, Any]] | None = None  # read when first needed, not before
        self.used: dict[str, dict[Any, Any]] = {"methods": {}, "patterns": {}}
        self.compiled = False
        self.compile_pattern: Any = None

    @property
    def known(self) -> dict[str, dict[Any, Any]]:
        if self._known is None:
            self._known = _load(self.path)
        return self._known

    def exec(self, source: Any, globals: Any = None, locals: Any = None) -> None:
        """`exec(source, globals, locals)` as dataclasses calls it, with the compiled source cached."""
        if not isinstance(source, str):
            exec(source, globals, locals)
            return
        code = self.known["methods"].get(source)
        if not isinstance(code, CodeType):
            # What exec(source) inside dataclasses compiles: its module has no __future__ imports.
            code = compile(source, "<string>", "exec", dont_inherit=True)
            self.compiled = True
        self.used["methods"][source] = code
        exec(code, globals, locals)

    def pattern(self, pattern: Any, flags: int = 0) -> re.Pattern[Any]:
        """`re._compiler.compile(pattern, flags)` (what `re.compile` calls for a pattern it has not
        compiled yet in this process), with the engine's program cached."""
        if type(pattern) is not str or type(flags) is not int or flags & re.DEBUG:
            return self.compile_pattern(pattern, flags)
        # Keyed by the engine's program format too, which a bug-fix release of Python may change.
        key = (pattern, flags, _sre.MAGIC)
        entry = self.known["patterns"].get(key)
        if entry is not None:
            try:
                compiled = _sre.compile(pattern, *entry)
            except (TypeError, ValueError, RuntimeError):  # not a program this engine takes
                pass
            else:
                self.used["patterns"][key] = entry
                return compiled
        compiled, entry = self._compiled_afresh(pattern, flags)
        if entry is not None:
            self.used["patterns"][key] = entry
            self.compiled = True
        return compiled

    def _compiled_afresh(self, pattern: str, flags: int) -> tuple[re.Pattern[Any], Any]:
        """The pattern compiled as always, and its entry: what the compiler handed the engine, seen
        through a stand-in for the engine's module that passes every call on."""
        seen = _EngineCalls()
        pattern_compiler._sre = seen
        try:
            compiled = self.compile_pattern(pattern, flags)
        finally:
            pattern_compiler._sre = _sre
        return compiled, seen.entry_for(pattern)

    def to_keep(self) -> dict[str, dict[Any, Any]]:
        merged = {kind: {**self.known[kind], **self.used[kind]} for kind in self.used}
        if sum(map(len, merged.values())) <= MAX_ENTRIES:
            return merged
        return self.used


class _EngineCalls:
    """The engine's module (`_sre`) as the pattern compiler sees it, remembering what it compiles."""

    def __init__(self) -> None:
        self.calls: list[tuple[Any, ...]] = []

    def __getattr__(self, name: str) -> Any:
        return getattr(_sre, name)

    def compile(self, *args: Any) -> re.Pattern[Any]:
        self.calls.append(args)
        return _sre.compile(*args)

    def entry_for(self, pattern: str) -> PatternEntry | None:
        """The one call made for `pattern`, as plain values (the program's opcodes are int
        subclasses, which marshal does not store); None when it was not exactly one such call."""
        if len(self.calls) != 1 or self.calls[0][0] != pattern or len(self.calls[0]) != 6:
            return None
        _, flags, program, groups, by_name, by_number = self.calls[0]
        entry = (
            int(flags),
            [int(op) for op in program],
            int(groups),
            dict(by_name),
            tuple(by_number),
        )
        try:
            marshal.dumps(entry)
        except ValueError:
            return None
        return entry


def _file_name() -> str:
    """One file per bytecode format and optimisation level: code from another Python is never run."""
    tag = sys.implementation.cache_tag or sys.implementation.name
    return f"compiled-{tag}-{MAGIC_NUMBER.hex()}-O{sys.flags.optimize}.marshal"


def _load(path: str) -> dict[str, dict[Any, Any]]:
    empty: dict[str, dict[Any, Any]] = {"methods": {}, "patterns": {}}
    try:
        with open(path, "rb") as handle:
            if not _trusted(os.fstat(handle.fileno())):
                return empty
            known = marshal.loads(handle.read())
    except (OSError, EOFError, ValueError, TypeError):
        return empty
    if not isinstance(known, dict) or not all(isinstance(known.get(k), dict) for k in empty):
        return empty
    return known


def _trusted(status: os.stat_result) -> bool:
    """Code is only run from a file of the user's own that nobody else can write."""
    own = not hasattr(os, "geteuid") or status.st_uid == os.geteuid()
    return own and not status.st_mode & 0o022


def _save(path: str, compiled: dict[str, dict[Any, Any]]) -> None:
    import tempfile

    try:
        os.makedirs(os.path.dirname(path), mode=0o700, exist_ok=True)
        handle, temporary = tempfile.mkstemp(dir=os.path.dirname(path), suffix=".tmp")
        try:
            with os.fdopen(handle, "wb") as out:
                out.write(marshal.dumps(compiled))
            os.replace(temporary, path)  # another run writing at the same time: the last one stays
        except BaseException:
            os.unlink(temporary)
            raise
        _forget_the_old_method_caches(os.path.dirname(path))
    except OSError:
        pass  # a read-only home: every run compiles, as without the cache


def _forget_the_old_method_caches(directory: str) -> None:
    """Earlier versions of reslint kept only the methods, in files of another name: unused now."""
    for name in os.listdir(directory):
        if name.startswith("dataclass-methods-") and name.endswith(".marshal"):
            os.unlink(os.path.join(directory, name))
