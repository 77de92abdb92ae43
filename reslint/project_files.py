"""Which linted file an import names, and which linted files import each other.

`from .blocks import Bottleneck`, `from models.layers import conv3x3` and `import resnet_parts as rp`
name other files of the run; files linked that way are linted together so that each sees the other's
classes (reslint.model.project). The run groups files before parsing anything, so imports are found
here with a line scan, not libcst: a run answered from the cache must not load the parser. A scan that
sees an import too many only makes a group larger; the model resolves each import exactly.
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterable, Iterator

_FROM_IMPORT = re.compile(r"^[ \t]*from[ \t]+(\.*)[ \t]*([\w.]*)[ \t]+import[ \t]+(.*)$", re.M)
_IMPORT = re.compile(r"^[ \t]*import[ \t]+(.*)$", re.M)
_NAME = re.compile(r"[A-Za-z_][\w.]*")


class ProjectFiles:
    """The files of one run, found by the dotted names that may import them."""

    def __init__(self, paths: Iterable[str] = ()) -> None:
        self._paths: set[str] = set()
        self._by_dotted: dict[str, list[str]] = {}
        for path in paths:
            self.add(path)

    def add(self, path: str) -> None:
        key = normal_path(path)
        if key in self._paths:
            return
        self._paths.add(key)
        parts = key[: -len(".py")].split(os.sep) if key.endswith(".py") else key.split(os.sep)
        if parts and parts[-1] == "__init__":
            parts = parts[:-1]
        parts = [part for part in parts if part]
        # `models/layers.py` may be imported as `layers`, `models.layers`, `src.models.layers`...
        for start in range(len(parts)):
            self._by_dotted.setdefault(".".join(parts[start:]), []).append(key)

    @property
    def paths(self) -> list[str]:
        return sorted(self._paths)

    def find(self, importer: str, level: int, dotted: str | None) -> str | None:
        """The file `from <level dots><dotted> import ...` in `importer` names, if it is linted."""
        if level:
            base = os.path.dirname(normal_path(importer))
            for _ in range(level - 1):
                base = os.path.dirname(base)
            relative = os.path.join(base, *dotted.split(".")) if dotted else base
            for candidate in (relative + ".py", os.path.join(relative, "__init__.py")):
                if normal_path(candidate) in self._paths:
                    return normal_path(candidate)
            return None
        candidates = self._by_dotted.get(dotted, []) if dotted else []
        if not candidates:
            return None
        # Several files may end in `models/layers.py`: the one nearest the importer is meant.
        here = normal_path(importer)
        return max(candidates, key=lambda path: _shared_depth(path, here))

    def imported_by(self, importer: str, text: str) -> set[str]:
        """The linted files `text` (the source of `importer`) may import."""
        found = set()
        for level, module, names in scan_imports(text):
            for dotted in (module, *(f"{module}.{name}" if module else name for name in names)):
                target = self.find(importer, level, dotted)
                if target is not None and target != normal_path(importer):
                    found.add(target)
        return found


def scan_imports(text: str) -> Iterator[tuple[int, str, list[str]]]:
    """(level, module, imported names) of each import statement, as far as a line scan can tell."""
    for match in _FROM_IMPORT.finditer(text):
        level, module, rest = len(match.group(1)), match.group(2), match.group(3)
        if rest.lstrip().startswith("("):  # names over several lines, up to the parenthesis
            end = text.find(")", match.start(3))
            rest = text[match.start(3) : end if end >= 0 else len(text)]
        yield level, module, _names(rest)
    for match in _IMPORT.finditer(text):
        for name in _names(match.group(1)):
            yield 0, name, []


def _names(listing: str) -> list[str]:
    """The names of `a, b as c, (d)`: each up to its `as`, comments and brackets dropped."""
    listing = re.sub(r"#[^\n]*", "", listing).replace("(", " ").replace(")", " ").replace("\\", " ")
    parts = (part.split(" as ")[0].strip() for part in listing.replace("\n", ",").split(","))
    return [match.group() for part in parts if (match := _NAME.match(part))]


def connected_groups(paths: list[str], texts: dict[str, str]) -> list[list[str]]:
    """`paths` split into groups of files that import one another (directly or through others), each
    group in the order of `paths`."""
    files = ProjectFiles(paths)
    parent = {normal_path(path): normal_path(path) for path in paths}

    def root(key: str) -> str:
        while parent[key] != key:
            parent[key] = parent[parent[key]]
            key = parent[key]
        return key

    for path in paths:
        for target in files.imported_by(path, texts.get(path, "")):
            parent[root(target)] = root(normal_path(path))
    groups: dict[str, list[str]] = {}
    for path in paths:
        groups.setdefault(root(normal_path(path)), []).append(path)
    return list(groups.values())


def normal_path(path: str) -> str:
    return os.path.normpath(os.path.abspath(path))


def _shared_depth(a: str, b: str) -> int:
    return len(os.path.commonpath([os.path.dirname(a), os.path.dirname(b)]).split(os.sep))
