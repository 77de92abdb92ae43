"""Running the static pass over many files: discovery, units of work, worker processes.

The unit of work is a group of files that are linted together in one process (`lint_group`). Every
file is its own group today; `group_files` is the one place that decides, so that files which import
each other can later be analysed together.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from dataclasses import dataclass, field

from reslint.discovery import discover
from reslint.engine import FileResult, check_file, finding_order
from reslint.findings import Finding
from reslint.settings import Settings, SettingsResolver

# Below this much source in total, starting worker processes costs more than it saves.
PARALLEL_MIN_BYTES = 96 * 1024


@dataclass(frozen=True)
class Group:
    """Files linted together, in one process, with one Settings."""

    paths: tuple[str, ...]
    settings: Settings


@dataclass
class LintRun:
    """Everything about one run: findings (sorted), the files linted, and what could not be."""

    findings: list[Finding]
    files: list[str]
    empty_files: list[str]
    missing: list[str]
    not_regular: list[str]
    sources: dict[str, str] = field(default_factory=dict)  # text of files not on disk (stdin)


def run(
    paths: Sequence[str | os.PathLike[str]],
    resolver: SettingsResolver,
    jobs: int | None = None,
) -> LintRun:
    found = discover(paths, resolver)
    results = lint_groups(group_files(found.files), jobs)
    return LintRun(
        findings=sorted((f for result in results for f in result.findings), key=finding_order),
        files=[path for path, _ in found.files],
        empty_files=[result.path for result in results if result.empty],
        missing=found.missing,
        not_regular=found.not_regular,
    )


def group_files(files: Sequence[tuple[str, Settings]]) -> list[Group]:
    """The units of work: one file per group."""
    return [Group((path,), settings) for path, settings in files]


def lint_group(paths: Sequence[str], settings: Settings) -> list[FileResult]:
    """Lint the files of one group (in this process)."""
    return [check_file(path, settings.checks_for(path)) for path in paths]


def lint_groups(groups: Sequence[Group], jobs: int | None = None) -> list[FileResult]:
    workers = _worker_count(groups, jobs)
    if workers > 1:
        from concurrent.futures.process import BrokenProcessPool

        try:
            return _lint_in_pool(groups, workers)
        except (BrokenProcessPool, OSError):
            pass  # a worker died (out of memory, killed) or processes cannot start here: go on in-process
    return [result for group in groups for result in _lint_group(group)]


def _lint_group(group: Group) -> list[FileResult]:
    return lint_group(group.paths, group.settings)


def _lint_in_pool(groups: Sequence[Group], workers: int) -> list[FileResult]:
    import multiprocessing
    from concurrent.futures import ProcessPoolExecutor

    # fork: the workers inherit the imported libcst and rules instead of importing them again.
    context = (
        multiprocessing.get_context("fork")
        if "fork" in multiprocessing.get_all_start_methods()
        else None
    )
    pool = ProcessPoolExecutor(max_workers=workers, mp_context=context)
    try:
        chunk = max(1, len(groups) // (workers * 4))
        results = [
            result
            for group_results in pool.map(_lint_group, groups, chunksize=chunk)
            for result in group_results
        ]
    except KeyboardInterrupt:
        pool.shutdown(wait=False, cancel_futures=True)
        raise
    pool.shutdown()
    return results


def _worker_count(groups: Sequence[Group], jobs: int | None) -> int:
    if jobs is not None:
        return max(1, min(jobs, len(groups)))
    if len(groups) < 2 or _total_size(groups) < PARALLEL_MIN_BYTES:
        return 1
    return max(1, min(_cpu_count(), len(groups)))


def _cpu_count() -> int:
    if hasattr(os, "sched_getaffinity"):
        return len(os.sched_getaffinity(0))
    return os.cpu_count() or 1


def _total_size(groups: Sequence[Group]) -> int:
    total = 0
    for group in groups:
        for path in group.paths:
            try:
                total += os.path.getsize(path)
            except OSError:
                pass
    return total
