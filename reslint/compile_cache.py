"""The methods `@dataclass` writes, compiled once instead of at every start of the command.

`dataclasses` writes each class's `__init__`, `__repr__`, `__eq__` (and, when frozen, `__hash__`,
`__setattr__` and `__delattr__`) as Python source and compiles it while the class's module is imported.
Python keeps a module's bytecode in `__pycache__`, but not this: for libcst's 184 node classes and
reslint's 81 dataclasses that compiling was a third of a cold one-file run (0.74 G of 2.24 G
instructions, measured with cachegrind). The command keeps the compiled methods in one file in the
user's cache folder, keyed by their exact source, and executes them from there on later runs: the same
source compiled the same way gives the same code. A file that is missing, unreadable, made by another
Python or writable by anyone but its owner is not used, and the methods are compiled as always.
"""

from __future__ import annotations

import dataclasses
import marshal
import os
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from importlib.util import MAGIC_NUMBER
from types import CodeType
from typing import Any

# libcst, rich and reslint write about 1,050 methods; a cache grown past this (other versions of them
# over time) keeps only what the run that finds it too large used.
MAX_ENTRIES = 4096


@contextmanager
def compiled_once(directory: str | None = None) -> Iterator[None]:
    """While inside, dataclasses' methods come from the cache in `directory` (default: the user's
    cache folder), and the ones compiled afresh are added to it on the way out."""
    if directory is None:
        directory = default_directory()
    if directory is None or "exec" in vars(dataclasses):  # no home, or someone else's hook
        yield
        return
    path = os.path.join(directory, _file_name())
    cache = _MethodCache(path)
    dataclasses.exec = cache.exec  # type: ignore[attr-defined]  # shadows the builtin for it alone
    try:
        yield
    finally:
        del dataclasses.exec  # type: ignore[attr-defined]
        if cache.compiled:
            _save(path, cache.to_keep())


def default_directory() -> str | None:
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return os.path.join(base, "reslint") if os.path.isabs(base) else None


class _MethodCache:
    def __init__(self, path: str) -> None:
        self.path = path
        self._known: dict[str, CodeType] | None = None  # read at the first dataclass, not before
        self.used: dict[str, CodeType] = {}
        self.compiled = False

    @property
    def known(self) -> dict[str, CodeType]:
        if self._known is None:
            self._known = _load(self.path)
        return self._known

    def exec(self, source: Any, globals: Any = None, locals: Any = None) -> None:
        """`exec(source, globals, locals)` as dataclasses calls it, with the compiled source cached."""
        if not isinstance(source, str):
            exec(source, globals, locals)
            return
        code = self.known.get(source)
        if not isinstance(code, CodeType):
            # What exec(source) inside dataclasses compiles: its module has no __future__ imports.
            code = compile(source, "<string>", "exec", dont_inherit=True)
            self.compiled = True
        self.used[source] = code
        exec(code, globals, locals)

    def to_keep(self) -> dict[str, CodeType]:
        merged = {**self.known, **self.used}
        return merged if len(merged) <= MAX_ENTRIES else self.used


def _file_name() -> str:
    """One file per bytecode format and optimisation level: code from another Python is never run."""
    tag = sys.implementation.cache_tag or sys.implementation.name
    return f"dataclass-methods-{tag}-{MAGIC_NUMBER.hex()}-O{sys.flags.optimize}.marshal"


def _load(path: str) -> dict[str, CodeType]:
    try:
        with open(path, "rb") as handle:
            if not _trusted(os.fstat(handle.fileno())):
                return {}
            known = marshal.loads(handle.read())
    except (OSError, EOFError, ValueError, TypeError):
        return {}
    return known if isinstance(known, dict) else {}


def _trusted(status: os.stat_result) -> bool:
    """Code is only run from a file of the user's own that nobody else can write."""
    own = not hasattr(os, "geteuid") or status.st_uid == os.geteuid()
    return own and not status.st_mode & 0o022


def _save(path: str, methods: dict[str, CodeType]) -> None:
    import tempfile

    try:
        os.makedirs(os.path.dirname(path), mode=0o700, exist_ok=True)
        handle, temporary = tempfile.mkstemp(dir=os.path.dirname(path), suffix=".tmp")
        try:
            with os.fdopen(handle, "wb") as out:
                out.write(marshal.dumps(methods))
            os.replace(temporary, path)  # another run writing at the same time: the last one stays
        except BaseException:
            os.unlink(temporary)
            raise
    except OSError:
        pass  # a read-only home: every run compiles, as without the cache
