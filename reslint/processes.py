"""Work spread over forked worker processes: files of a run (reslint.runner), segments of a huge file
(reslint.engine).

The workers are forked where the system can: they inherit what this process has imported (libcst, the
rules) and the work function itself with everything it closes over (a FileGroup and its project), so
only the items and the results cross the pipes.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator, Sequence
from typing import Any, TypeVar

Item = TypeVar("Item")
Result = TypeVar("Result")

# The work function of this worker process, set when the pool forks it.
_work: Callable[[Any], Any] | None = None


def cpu_count() -> int:
    """The cores this process may run on."""
    if hasattr(os, "sched_getaffinity"):
        return len(os.sched_getaffinity(0))
    return os.cpu_count() or 1


def can_fork() -> bool:
    import multiprocessing  # here: a run of one file (most runs) starts no process

    return "fork" in multiprocessing.get_all_start_methods()


def forked_map(
    work: Callable[[Item], Result], items: Sequence[Item], workers: int
) -> Iterator[Result]:
    """work(item) for each item, in order, computed by `workers` forked processes (where the system
    cannot fork, started afresh: `work` must then be picklable). Raises BrokenProcessPool when a
    worker dies (out of memory, killed) and OSError when processes cannot be started: the caller
    decides whether to go on in-process."""
    import multiprocessing
    from concurrent.futures import ProcessPoolExecutor

    pool = ProcessPoolExecutor(
        max_workers=workers,
        mp_context=multiprocessing.get_context("fork") if can_fork() else None,
        initializer=_inherit,
        initargs=(work,),  # forked: not pickled, so closures and open state are fine
    )
    try:
        # Small chunks, so that no worker is left with a long tail of items while the others wait;
        # large enough that thousands of small items do not each cross the pipes alone.
        chunk = max(1, len(items) // (workers * 16))
        yield from pool.map(_run, items, chunksize=chunk)
    except BaseException:  # Ctrl-C, a dead worker: do not wait for the rest
        pool.shutdown(wait=False, cancel_futures=True)
        raise
    pool.shutdown()


def pooled_map(
    work: Callable[[Item], Result],
    items: Sequence[Item],
    workers: int,
    each: Callable[[Result], object] = lambda result: None,
) -> list[Result] | None:
    """`forked_map`'s results as a list (`each` called on each as it comes), or None when a worker died
    (out of memory, killed) or processes cannot start here: the caller then goes on in-process."""
    from concurrent.futures.process import BrokenProcessPool

    results: list[Result] = []
    try:
        for result in forked_map(work, items, workers):
            each(result)
            results.append(result)
    except (BrokenProcessPool, OSError):
        return None
    return results


def _inherit(work: Callable[[Any], Any]) -> None:
    global _work
    _work = work


def _run(item: Any) -> Any:
    assert _work is not None, "set by the pool's initializer"
    return _work(item)
