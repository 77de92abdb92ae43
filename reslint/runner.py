"""Running the static pass over many files: discovery, units of work, worker processes.

The unit of work is a group of files that are linted together in one process (`lint_group`): files
that import one another (directly or through others of the run), so that a stage built from an
imported block knows its channels and strides. `group_files` is the one place that decides.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from reslint.discovery import discover
from reslint.findings import FileResult, Finding, finding_order
from reslint.processes import cpu_count, pooled_map
from reslint.progress import progress_bar, wanted
from reslint.project_files import connected_groups
from reslint.settings import Settings, SettingsResolver
from reslint.source import read_regular_file

if TYPE_CHECKING:
    from reslint.cache import Cache

Progress = Callable[[int], None]  # advance(files_done)

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
    sources: dict[str, str] = field(default_factory=dict)  # text of files not on disk (stdin)
    fixed: int = 0  # --fix / --diff: the fixes applied (or shown)
    diffs: list[str] = field(default_factory=list)  # --diff: one unified diff a changed file


def run(
    paths: Sequence[str | os.PathLike[str]],
    resolver: SettingsResolver,
    jobs: int | None = None,
    cache: Cache | None = None,
    show_progress: bool = False,
) -> LintRun:
    """Discover, lint (from the cache where it can), and say everything about the run."""
    found = discover(paths, resolver)
    groups = group_files(found.files)
    with progress_bar(len(found.files), show_progress and wanted(len(found.files))) as advance:
        results = _lint_with_cache(groups, jobs, cache, advance)
    return LintRun(
        findings=sorted((f for result in results for f in result.findings), key=finding_order),
        files=[path for path, _ in found.files],
        empty_files=[result.path for result in results if result.empty],
        missing=found.missing,
    )


def group_files(files: Sequence[tuple[str, Settings]]) -> list[Group]:
    """The units of work: the files that import one another, among those under one configuration."""
    by_settings: dict[int, tuple[Settings, list[str]]] = {}
    for path, settings in files:
        by_settings.setdefault(id(settings), (settings, []))[1].append(path)
    groups = []
    for settings, paths in by_settings.values():
        texts = {path: _text_for_imports(path, settings.max_bytes) for path in paths}
        groups += [Group(tuple(group), settings) for group in connected_groups(paths, texts)]
    return groups


def _text_for_imports(path: str, max_bytes: int) -> str:
    if not path.endswith(".py"):
        return ""
    try:
        return read_regular_file(path, max_bytes).decode("utf-8", errors="replace")
    except OSError:  # a FIFO, a device, a file too large: it is not linted either
        return ""


def lint_group(paths: Sequence[str], settings: Settings, workers: int = 1) -> list[FileResult]:
    """Lint the files of one group (in this process; a huge file's segments on up to `workers`
    processes), each file modelled once. The engine (libcst, the rules) is imported here, so that a
    run answered from the cache never loads it."""
    from reslint.engine import FileGroup, check_file

    with FileGroup(paths, settings.max_bytes, workers) as group:
        return [check_file(path, settings.checks_for(path), group) for path in paths]


def lint_groups(
    groups: Sequence[Group], jobs: int | None = None, advance: Progress = lambda done: None
) -> list[FileResult]:
    workers = _worker_count(groups, jobs)
    pooled = _lint_in_pool(groups, workers, advance) if workers > 1 else None
    if pooled is not None:
        return pooled
    # In this process, one group at a time: the cores go to the segments of a huge file instead.
    segment_workers = jobs if jobs is not None else cpu_count()
    results: list[FileResult] = []
    for group in groups:
        results.extend(lint_group(group.paths, group.settings, segment_workers))
        advance(len(group.paths))
    return results


def _lint_with_cache(
    groups: Sequence[Group], jobs: int | None, cache: Cache | None, advance: Progress
) -> list[FileResult]:
    """A group comes from the cache only if every file of it does (its files are analysed together)."""
    if cache is None:
        return lint_groups(groups, jobs, advance)
    keys = {path: key for group in groups for path, key in _group_keys(group, cache).items()}
    results: list[FileResult] = []
    stale: list[Group] = []
    for group in groups:
        hits = [cache.get(path, keys[path]) for path in group.paths]
        if all(hit is not None for hit in hits):
            results.extend(hit for hit in hits if hit is not None)
            advance(len(group.paths))
        else:
            stale.append(group)
    for result in lint_groups(stale, jobs, advance):
        cache.put(keys[result.path], result)
        results.append(result)
    cache.save()
    return results


def _group_keys(group: Group, cache: Cache) -> dict[str, str | None]:
    """Each file's cache key, made to depend on every file of its group: a finding may be about what
    another file of the group defines, and a file that leaves the group changes what imports find."""
    own = {path: cache.key(path, group.settings) for path in group.paths}
    if len(own) == 1:
        return own
    if None in own.values():
        return dict.fromkeys(own)  # a file that cannot be keyed: the whole group is linted afresh
    import hashlib  # only a cached run needs it

    together = "\0".join(f"{os.path.abspath(path)}={key}" for path, key in sorted(own.items()))
    return {
        path: hashlib.sha256(f"{key}\0{together}".encode()).hexdigest() for path, key in own.items()
    }


def _lint_group(group: Group) -> list[FileResult]:
    return lint_group(group.paths, group.settings)


def _lint_in_pool(
    groups: Sequence[Group], workers: int, advance: Progress
) -> list[FileResult] | None:
    """The groups linted on `workers` processes; None when the pool broke (go on in-process). The
    largest go first, so that the workers finish together: a large group handed out last keeps one
    worker busy while the others wait. Results come back in the groups' order."""
    order = sorted(range(len(groups)), key=lambda index: -_total_size(groups[index : index + 1]))
    pooled = pooled_map(
        _lint_group, [groups[index] for index in order], workers, lambda found: advance(len(found))
    )
    if pooled is None:
        return None
    by_group = dict(zip(order, pooled))
    return [result for index in range(len(groups)) for result in by_group[index]]


def _worker_count(groups: Sequence[Group], jobs: int | None) -> int:
    if jobs is not None:
        return max(1, min(jobs, len(groups)))
    if len(groups) < 2 or _total_size(groups) < PARALLEL_MIN_BYTES:
        return 1
    return max(1, min(cpu_count(), len(groups)))


def _total_size(groups: Sequence[Group]) -> int:
    total = 0
    for group in groups:
        for path in group.paths:
            try:
                total += os.path.getsize(path)
            except OSError:
                pass
    return total
