"""The static pass on a deep stack, so that deeply nested valid Python is checked, not an internal error.

libcst (its parser's tree conversion, code generation and PositionProvider) and pyflakes recurse once
or several times per level of an expression: a sum of 300 terms in 19 nested blocks went past
Python's default limit of 1,000 frames (RecursionError, RN004). Raising the limit in the main thread
risks overflowing its 8 MB C stack (a crash, not an exception), so a file is checked in a thread of
its own with a large stack and a raised limit. The stack is reserved address space: only the pages a
deep file really touches are used.
"""

from __future__ import annotations

import sys
import threading
from collections.abc import Callable
from typing import TypeVar

Result = TypeVar("Result")

# 100,000 frames fit in 1 GiB of stack at the ~10 KB a frame can take where C code calls back into
# Python (isinstance on an abstract class, generators, libcst's visitors); the 5 MB file limit keeps
# real nesting far below (CPython's own parser stops at 200 brackets and ~1,000 levels of blocks).
STACK_BYTES = 1 << 30
RECURSION_LIMIT = 100_000

_here = threading.local()


def on_deep_stack(work: Callable[[], Result]) -> Result:
    """work() run in a thread with a deep stack (directly when already on one), its exception raised
    here."""
    if getattr(_here, "deep", False):
        return work()
    outcome: dict[str, object] = {}

    def run() -> None:
        _here.deep = True
        limit = sys.getrecursionlimit()
        sys.setrecursionlimit(max(limit, RECURSION_LIMIT))
        try:
            outcome["value"] = work()
        except BaseException as error:  # handed to the caller's thread
            outcome["error"] = error
        finally:
            sys.setrecursionlimit(limit)

    try:
        previous = threading.stack_size(STACK_BYTES)
        try:
            # daemon: an interrupted run (Ctrl-C in join) does not wait for the file to finish
            thread = threading.Thread(target=run, name="reslint-check", daemon=True)
            thread.start()
        finally:
            threading.stack_size(previous)
    except (RuntimeError, ValueError, MemoryError):  # no thread that large here: the default stack
        return work()
    thread.join()
    if "error" in outcome:
        raise outcome["error"]  # type: ignore[misc]
    return outcome["value"]  # type: ignore[return-value]
