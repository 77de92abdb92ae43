"""The files of the same archive a corpus file imports relatively, for linting it as part of its package.

`from .resnet import Bottleneck as _Bottleneck` in res2net.py names resnet.py of the same wheel; a user
who runs `reslint mmdet/models/backbones/` lints both together. `--with-imports` (mutate.py) copies
these siblings next to each file and each mutant, and counts findings only in the file itself.

Followed transitively, but a package's `__init__.py` only as far as the names imported from it: it is
copied (so the import resolves) and, of its own imports, only those that bring in those names are
followed, so `from ..layers import ResLayer` adds layers/__init__.py and layers/res_layer.py, not the
thirty other modules that `__init__` re-exports.
"""

from __future__ import annotations

import ast
import posixpath
import warnings
from collections.abc import Callable, Iterator

from corpus import (
    HELDOUT,
    HELDOUT2,
    HELDOUT3,
    PACKAGES,
    RealFile,
    archive_names,
    download,
    read_members,
)


def relative_imports(text: str) -> Iterator[tuple[int, str, list[str]]]:
    """(level, module, imported names) of each relative import of `text`."""
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            tree = ast.parse(text)
    except (SyntaxError, ValueError):
        return
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and node.level:
            yield node.level, node.module or "", [alias.name for alias in node.names]


def resolve(importer: str, level: int, module: str, names: set[str]) -> Iterator[str]:
    """Candidate archive paths of `from <level dots><module> import <names>` in `importer`."""
    base = posixpath.dirname(importer)
    for _ in range(level - 1):
        base = posixpath.dirname(base)
    target = posixpath.join(base, *module.split(".")) if module else base
    yield f"{target}.py"
    yield f"{target}/__init__.py"
    for name in names:  # `from . import resnet` imports a module
        yield f"{target}/{name}.py"


def sibling_files(real: RealFile) -> dict[str, str]:
    """Archive path -> text of every file `real` needs through relative imports (itself excluded)."""
    archive = download(
        next(
            p
            for p in (*PACKAGES, *HELDOUT, *HELDOUT2, *HELDOUT3)
            if p.name == real.package and real.path in p.files
        )
    )
    present = archive_names(archive)
    return needed_files(real.path, real.text, present, lambda path: read_members(archive, (path,)))


def needed_files(
    path: str, text: str, present: set[str], read: Callable[[str], dict[str, str]]
) -> dict[str, str]:
    """The files of `present` (read with `read`) that `text`, at `path`, imports relatively,
    transitively; package `__init__`s only as far as the imported names lead."""
    texts: dict[str, str] = {path: text}
    wanted: list[tuple[str, set[str] | None]] = [(path, None)]  # None: follow every import
    while wanted:
        importer, only = wanted.pop()
        for level, module, names in relative_imports(texts[importer]):
            if only is not None and not only & {*names, "*"}:
                continue
            for candidate in resolve(importer, level, module, set(names)):
                if candidate in present and candidate not in texts:
                    texts.update(read(candidate))
                    is_package = candidate.endswith("/__init__.py")
                    wanted.append((candidate, set(names) if is_package else None))
    del texts[path]
    return texts
