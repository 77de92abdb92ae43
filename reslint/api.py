"""The Python API: lint text or paths and get the findings back; nothing is printed.

    import reslint
    findings = reslint.check_source(text, path="model.py")
    findings = reslint.check_paths(["models/"], select=["RN2", "RN3"])
    fixed = reslint.fix_source(text, path="model.py")   # what `reslint --fix` would write

Settings come from the configuration file found as the command finds it (pyproject.toml's
[tool.reslint] or reslint.toml, walking up from each path); the keyword arguments override it.
"""

from __future__ import annotations

import errno
import os
from collections.abc import Iterable, Sequence

from reslint.findings import Finding
from reslint.settings import ConfigError, Overrides, check_codes

__all__ = ["ConfigError", "check_paths", "check_source", "fix_source"]


def check_source(
    text: str,
    path: str | os.PathLike[str] = "model.py",
    *,
    select: Iterable[str] | None = None,
    ignore: Iterable[str] = (),
    extend_select: Iterable[str] = (),
    config: str | os.PathLike[str] | None = None,
) -> list[Finding]:
    """The findings of `text` as if it were the file `path` (which need not exist), sorted by position.
    For a `.ipynb` path, `text` is the notebook's JSON."""
    from reslint.engine import lint_read_source
    from reslint.findings import finding_order
    from reslint.settings import settings_for_source
    from reslint.source import SourceFile

    name = os.fspath(path)
    settings = settings_for_source(name, _overrides(select, ignore, extend_select, config))
    result = lint_read_source(SourceFile(name, text), settings.checks_for(name))
    return sorted(result.findings, key=finding_order)


def fix_source(
    text: str,
    path: str | os.PathLike[str] = "model.py",
    *,
    unsafe_fixes: bool = False,
    select: Iterable[str] | None = None,
    ignore: Iterable[str] = (),
    extend_select: Iterable[str] = (),
    config: str | os.PathLike[str] | None = None,
) -> str:
    """`text` as `reslint --fix` (with `unsafe_fixes`, `--unsafe-fixes`) would write the file `path`.
    A notebook (`.ipynb` path) comes back unchanged, as --fix leaves notebooks alone."""
    from reslint.fixer import fix_text
    from reslint.notebook import is_notebook
    from reslint.settings import settings_for_source

    name = os.fspath(path)
    if is_notebook(name):
        return text
    settings = settings_for_source(name, _overrides(select, ignore, extend_select, config))
    return fix_text(text, name, settings.checks_for(name), unsafe=unsafe_fixes).text


def check_paths(
    paths: Sequence[str | os.PathLike[str]],
    *,
    select: Iterable[str] | None = None,
    ignore: Iterable[str] = (),
    extend_select: Iterable[str] = (),
    config: str | os.PathLike[str] | None = None,
    jobs: int | None = None,
) -> list[Finding]:
    """The findings of files and folders (searched as the command searches them), sorted by position.

    Raises FileNotFoundError for a path that does not exist and ConfigError for a bad configuration."""
    from reslint import runner
    from reslint.settings import SettingsResolver

    overrides = _overrides(select, ignore, extend_select, config)
    result = runner.run(paths, SettingsResolver(overrides), jobs=jobs)
    if result.missing:
        raise FileNotFoundError(errno.ENOENT, "no such file or directory", result.missing[0])
    return result.findings


def _overrides(
    select: Iterable[str] | None,
    ignore: Iterable[str],
    extend_select: Iterable[str],
    config: str | os.PathLike[str] | None,
) -> Overrides:
    return Overrides(
        select=check_codes(list(select), "select") if select is not None else None,
        ignore=check_codes(list(ignore), "ignore"),
        extend_select=check_codes(list(extend_select), "extend_select"),
        config=os.fspath(config) if config is not None else None,
    )
