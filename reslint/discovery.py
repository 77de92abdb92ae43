"""Which files a run lints, as ruff finds them.

Folders are searched for *.py and *.ipynb files, skipping what the settings exclude (hidden folders,
virtual environments, build output, ... and `exclude`/`extend-exclude`), what `.gitignore` files ignore
(`respect-gitignore`), and any folder that holds a Python environment (`conda-meta/` or `pyvenv.cfg`
inside, whatever its name). Symbolic links are not followed (what one points to inside the tree is
found as itself), and anything that is not a regular file (a FIFO, a device) is skipped. Files named
explicitly are linted whatever their name, unless `--force-exclude` asks for the exclusions to apply
to them too (a named FIFO or device is reported by the engine, RN002, never read).
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from reslint.settings import Settings, SettingsResolver
from reslint.source import DEFAULT_MAX_BYTES, is_lintable_file, read_regular_file

if TYPE_CHECKING:
    import pathspec

LINTED_SUFFIXES = (".py", ".ipynb")
ENVIRONMENT_MARKERS = ("conda-meta", "pyvenv.cfg")


@dataclass
class Discovery:
    files: list[tuple[str, Settings]] = field(default_factory=list)
    missing: list[str] = field(default_factory=list)


def discover(paths: Iterable[str | os.PathLike[str]], resolver: SettingsResolver) -> Discovery:
    """The files to lint under `paths`, each with its settings, and the named paths that do not exist."""
    found = Discovery()
    seen: set[str] = set()
    ignores = _GitIgnoresCache()

    def add(path: str, settings: Settings) -> None:
        key = os.path.realpath(path)
        if key not in seen:
            seen.add(key)
            found.files.append((path, settings))

    for path in (os.path.normpath(os.fspath(given)) for given in paths):
        if os.path.isdir(path):
            settings = resolver.for_folder(os.path.abspath(path))
            if not (settings.force_exclude and excluded_explicitly(path, settings, ignores)):
                for file, file_settings in _walk(path, resolver, ignores.at(path)):
                    add(file, file_settings)
        elif not os.path.lexists(path):
            found.missing.append(path)
        else:  # a named FIFO or device too: the engine reports it (RN002) without reading it
            settings = resolver.for_path(path)
            if not (settings.force_exclude and excluded_explicitly(path, settings, ignores)):
                add(path, settings)
    return found


def is_environment(folder: str) -> bool:
    return any(os.path.exists(os.path.join(folder, marker)) for marker in ENVIRONMENT_MARKERS)


# ----------------------------------------------------------------------------------------------------------


def _walk(
    top: str, resolver: SettingsResolver, ignores: GitIgnores
) -> Iterator[tuple[str, Settings]]:
    """The lintable files under `top`. A folder named explicitly is searched even if it is excluded or
    git-ignored itself; its contents would all match then, so that exclusion is not applied inside."""
    skip = _Skip(
        excludes=not resolver.for_folder(os.path.abspath(top)).is_excluded(top, is_dir=True),
        gitignore=not ignores.ignored(top, is_dir=True),
        ignores=ignores,
    )
    folders = [top]
    while folders:
        folder = folders.pop()
        settings = resolver.for_folder(os.path.abspath(folder))
        subfolders: list[str] = []
        for entry in _entries(folder):
            path = entry.name if folder == os.curdir else os.path.join(folder, entry.name)
            if entry.is_symlink():  # out of the tree, or to what the search reaches as itself
                continue
            if entry.is_dir(follow_symlinks=False):
                if not (skip.skips(path, True, settings) or is_environment(path)):
                    subfolders.append(path)
            elif (
                entry.name.endswith(LINTED_SUFFIXES)
                and not skip.skips(path, False, settings)
                and is_lintable_file(path)
            ):
                yield path, settings
        folders.extend(reversed(subfolders))  # depth first, in name order


@dataclass(frozen=True)
class _Skip:
    excludes: bool
    gitignore: bool
    ignores: GitIgnores

    def skips(self, path: str, is_dir: bool, settings: Settings) -> bool:
        return (self.excludes and settings.is_excluded(path, is_dir)) or (
            self.gitignore and settings.respect_gitignore and self.ignores.ignored(path, is_dir)
        )


def _entries(folder: str) -> list[os.DirEntry[str]]:
    try:
        with os.scandir(folder) as entries:
            return sorted(entries, key=lambda entry: entry.name)
    except OSError:  # unreadable folder: nothing to lint in it
        return []


def excluded_explicitly(
    path: str, settings: Settings, ignores: _GitIgnoresCache | None = None
) -> bool:
    """--force-exclude: would a folder search have skipped `path` (or a folder it is in)?"""
    ignores = ignores or _GitIgnoresCache()
    is_dir = os.path.isdir(path)
    if settings.is_excluded(path, is_dir):
        return True
    if settings.respect_gitignore and ignores.at(path).ignored(path, is_dir):
        return True
    folder = os.path.abspath(path if is_dir else os.path.dirname(path))
    root = os.path.abspath(settings.root)
    while _inside(folder, root) and folder != root:
        if is_environment(folder):
            return True
        folder = os.path.dirname(folder)
    return False


def _inside(path: str, folder: str) -> bool:
    return path == folder or path.startswith(folder.rstrip(os.sep) + os.sep)


class GitIgnores:
    """The .gitignore files under `top` (a git repository's root, or outside a repository the folder
    searched), and the repository's .git/info/exclude."""

    def __init__(self, top: str) -> None:
        self.top = top
        self._specs: dict[str, pathspec.PathSpec | None] = {}

    def ignored(self, path: str, is_dir: bool) -> bool:
        absolute = os.path.abspath(path)
        if not _inside(absolute, self.top) or absolute == self.top:
            return False
        folder = os.path.dirname(absolute)
        while True:  # the deepest .gitignore that has a say wins
            spec = self._spec_of(folder)
            if spec is not None:
                relative = os.path.relpath(absolute, folder).replace(os.sep, "/")
                verdict = spec.check_file(relative + ("/" if is_dir else "")).include
                if verdict is not None:
                    return verdict
            if folder == self.top:
                return False
            folder = os.path.dirname(folder)

    def _spec_of(self, folder: str) -> pathspec.PathSpec | None:
        if folder not in self._specs:
            lines = _lines(os.path.join(folder, ".gitignore"))
            if folder == self.top:
                lines = _lines(os.path.join(folder, ".git", "info", "exclude")) + lines
            self._specs[folder] = _gitignore_spec(lines) if lines else None
        return self._specs[folder]


class _GitIgnoresCache:
    """One GitIgnores per repository (or folder) in a run: pre-commit names hundreds of files of one repo."""

    def __init__(self) -> None:
        self._by_top: dict[str, GitIgnores] = {}

    def at(self, path: str) -> GitIgnores:
        start = os.path.abspath(path)
        top = _repository_root(start) or (start if os.path.isdir(start) else os.path.dirname(start))
        if top not in self._by_top:
            self._by_top[top] = GitIgnores(top)
        return self._by_top[top]


def _gitignore_spec(lines: list[str]) -> pathspec.PathSpec | None:
    import pathspec

    try:
        return pathspec.GitIgnoreSpec.from_lines(lines)
    except ValueError:  # git skips a malformed line; pathspec refuses the file: keep the good lines
        good = [line for line in lines if _valid_pattern(line)]
        return pathspec.GitIgnoreSpec.from_lines(good) if good else None


def _valid_pattern(line: str) -> bool:
    import pathspec

    try:
        pathspec.GitIgnoreSpec.from_lines([line])
    except ValueError:
        return False
    return True


def _lines(path: str) -> list[str]:
    try:
        return read_regular_file(path, DEFAULT_MAX_BYTES).decode("utf-8", "replace").splitlines()
    except OSError:  # missing, unreadable, too large, or a FIFO or device: no patterns from it
        return []


def _repository_root(start: str) -> str | None:
    folder = start if os.path.isdir(start) else os.path.dirname(start)
    while True:
        if os.path.exists(os.path.join(folder, ".git")):
            return folder
        parent = os.path.dirname(folder)
        if parent == folder:
            return None
        folder = parent
