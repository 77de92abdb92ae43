"""Settings: `[tool.reslint]` in pyproject.toml (or a reslint.toml) merged with command-line flags.

The configuration file of a file is the nearest one found walking up from its folder, as ruff finds
its own: `reslint.toml` (keys at the top level) or a `pyproject.toml` that has a `[tool.reslint]` table
(one without it is passed over). `--config FILE` names one for every file. Flags override the file.
Patterns (exclude, per-file-ignores) are gitignore-style and relative to the folder of the
configuration file, or to the working directory when there is none. An unknown key or a bad value is
a ConfigError: the command reports it and exits 2.
"""

from __future__ import annotations

import os
import re
import sys
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from functools import cached_property, lru_cache
from typing import TYPE_CHECKING, Any

from reslint.selection import Layer, Selection, normal_selectors, unknown_selectors
from reslint.source import DEFAULT_MAX_BYTES, read_regular_file

if TYPE_CHECKING:
    import pathspec

    from reslint.engine import Checks
    from reslint.rule import Rule

CONFIG_NAMES = ("reslint.toml", "pyproject.toml")

# Folders no one means to lint (gitignore patterns, as ruff's defaults): hidden folders (.git, .venv,
# .tox, .nox, ...), virtual environments, installed packages, build output. Folders holding a Python
# environment (conda-meta/ or pyvenv.cfg inside) are skipped whatever their name: see discovery.
DEFAULT_EXCLUDE = (
    ".*/",
    "__pycache__/",
    "__pypackages__/",
    "_build/",
    "buck-out/",
    "build/",
    "dist/",
    "env/",
    "node_modules/",
    "site-packages/",
    "venv/",
    "virtualenv/",
)


class ConfigError(ValueError):
    """A configuration file (or a flag) that cannot be used: unreadable, unknown key, bad value."""


@dataclass(frozen=True)
class Overrides:
    """What the command line (or an API call) says; None (or empty) means "not given"."""

    select: tuple[str, ...] | None = None
    ignore: tuple[str, ...] = ()
    extend_select: tuple[str, ...] = ()
    exclude: tuple[str, ...] | None = None
    extend_exclude: tuple[str, ...] = ()
    respect_gitignore: bool | None = None
    force_exclude: bool | None = None
    config: str | None = None
    # Replace the rule catalogue (tests and the API use small rule sets).
    rules: tuple[type[Rule], ...] | None = None


@dataclass(frozen=True)
class Settings:
    root: str
    selection: Selection = field(default_factory=Selection)
    per_file_ignores: tuple[tuple[str, tuple[str, ...]], ...] = ()
    exclude: tuple[str, ...] = DEFAULT_EXCLUDE
    extend_exclude: tuple[str, ...] = ()
    respect_gitignore: bool = True
    force_exclude: bool = False
    rules: tuple[type[Rule], ...] | None = None
    max_bytes: int = DEFAULT_MAX_BYTES

    def checks_for(self, path: str) -> Checks:
        """The rules to run and the codes to report in `path` (per-file-ignores applied)."""
        ignored = self._ignored_in(path)
        if ignored not in self._checks:
            layer = Layer.of(ignore=ignored)
            selection = self.selection.then(layer) if ignored else self.selection
            self._checks[ignored] = _checks(selection, self.rules, self.max_bytes)
        return self._checks[ignored]

    def fingerprint_for(self, path: str) -> str:
        """What the result of `path` depends on besides its text and reslint itself (for the cache);
        cheap: the rule catalogue is not loaded for it."""
        rules = "catalogue" if self.rules is None else ",".join(rule.code for rule in self.rules)
        return repr((self.selection, self._ignored_in(path), rules, self.max_bytes))

    def _ignored_in(self, path: str) -> tuple[str, ...]:
        relative = self.relative(path)
        return tuple(
            code
            for pattern, codes in self.per_file_ignores
            if _spec((pattern,)).match_file(relative)
            for code in codes
        )

    def is_excluded(self, path: str, is_dir: bool) -> bool:
        relative = self.relative(path)
        return bool(relative) and self._exclusions.match_file(relative + ("/" if is_dir else ""))

    def relative(self, path: str) -> str:
        """`path` relative to the root, with / separators ("" for the root itself); a path outside the
        root: its name only."""
        relative = os.path.relpath(os.path.abspath(path), self.root)
        if relative == os.curdir:
            return ""
        if relative == os.pardir or relative.startswith(os.pardir + os.sep):
            return os.path.basename(os.path.abspath(path))
        return relative.replace(os.sep, "/")

    @cached_property
    def _exclusions(self) -> pathspec.PathSpec:
        return _spec(self.exclude + self.extend_exclude)

    @cached_property
    def _checks(self) -> dict[tuple[str, ...], Checks]:
        """Checks by the codes per-file-ignores add: a handful of distinct ones in a project."""
        return {}


class SettingsResolver:
    """The settings of each folder: those of its nearest configuration file, with the overrides."""

    def __init__(self, overrides: Overrides | None = None, cwd: str | None = None) -> None:
        self.overrides = overrides or Overrides()
        self.cwd = os.path.abspath(cwd or os.getcwd())
        self._by_folder: dict[str, Settings] = {}
        self._by_file: dict[str | None, Settings] = {}
        self._fixed = (
            self._settings_of(os.path.abspath(self.overrides.config))
            if self.overrides.config is not None
            else None
        )

    def for_path(self, path: str) -> Settings:
        absolute = os.path.abspath(path)
        return self.for_folder(absolute if os.path.isdir(absolute) else os.path.dirname(absolute))

    def for_folder(self, folder: str) -> Settings:
        if self._fixed is not None:
            return self._fixed
        if folder not in self._by_folder:
            config = config_in(folder)
            parent = os.path.dirname(folder)
            if config is not None:
                self._by_folder[folder] = self._settings_of(config)
            elif parent == folder:
                self._by_folder[folder] = self._settings_of(None)
            else:
                self._by_folder[folder] = self.for_folder(parent)
        return self._by_folder[folder]

    def _settings_of(self, config: str | None) -> Settings:
        if config not in self._by_file:
            table = load_config(config) if config is not None else {}
            root = os.path.dirname(config) if config is not None else self.cwd
            self._by_file[config] = merge(root, table, self.overrides)
        return self._by_file[config]


# ----------------------------------------------------------------------------------------------------------
# Configuration files.


def config_in(folder: str) -> str | None:
    """The configuration file in `folder` itself: reslint.toml, else a pyproject.toml with [tool.reslint]."""
    for name in CONFIG_NAMES:
        path = os.path.join(folder, name)
        if os.path.isfile(path) and (name != "pyproject.toml" or _has_reslint_table(path)):
            return path
    return None


def load_config(path: str) -> dict[str, Any]:
    """The reslint table of a configuration file, checked: unknown keys and bad values raise ConfigError."""
    document = _read_toml(path)
    if os.path.basename(path) == "pyproject.toml":
        table = document.get("tool", {}).get("reslint", {})
        where = f"{path}: [tool.reslint]"
    else:
        table, where = document, path
    if not isinstance(table, dict):
        raise ConfigError(f"{where} must be a table")
    return _checked(table, where)


_CODE_KEYS = ("select", "ignore", "extend-select")
_PATTERN_KEYS = ("exclude", "extend-exclude")
_FLAG_KEYS = ("respect-gitignore", "force-exclude")
KNOWN_KEYS = _CODE_KEYS + _PATTERN_KEYS + _FLAG_KEYS + ("per-file-ignores",)


def _checked(table: Mapping[str, Any], where: str) -> dict[str, Any]:
    unknown = sorted(set(table) - set(KNOWN_KEYS))
    if unknown:
        raise ConfigError(
            f"{where}: unknown key{'s' if len(unknown) > 1 else ''} "
            f"{', '.join(f'`{key}`' for key in unknown)} (known: {', '.join(KNOWN_KEYS)})"
        )
    checked: dict[str, Any] = {}
    for key, value in table.items():
        if key in _CODE_KEYS:
            checked[key] = check_codes(_strings(value, f"{where}: `{key}`"), f"{where}: `{key}`")
        elif key in _PATTERN_KEYS:
            checked[key] = check_patterns(_strings(value, f"{where}: `{key}`"), f"{where}: `{key}`")
        elif key in _FLAG_KEYS:
            if not isinstance(value, bool):
                raise ConfigError(f"{where}: `{key}` must be true or false, not {value!r}")
            checked[key] = value
        else:
            checked[key] = _per_file_ignores(value, f"{where}: `{key}`")
    return checked


def _per_file_ignores(value: Any, where: str) -> tuple[tuple[str, tuple[str, ...]], ...]:
    if not isinstance(value, dict):
        raise ConfigError(
            f'{where} must be a table of pattern = [codes], e.g. {{"tests/*" = ["RN109"]}}'
        )
    check_patterns(tuple(value), where)
    return tuple(
        (pattern, check_codes(_strings(codes, f"{where}: {pattern!r}"), f"{where}: {pattern!r}"))
        for pattern, codes in value.items()
    )


def _strings(value: Any, where: str) -> tuple[str, ...]:
    if not isinstance(value, list) or not all(isinstance(item, str) for item in value):
        raise ConfigError(f"{where} must be a list of strings, not {value!r}")
    return tuple(value)


def check_codes(selectors: Sequence[str], where: str) -> tuple[str, ...]:
    """The selectors, normalised; a ConfigError naming any that is not a code or a prefix of one."""
    normal = normal_selectors(selectors)
    from reslint.vocabulary import known_codes

    unknown = unknown_selectors(normal, known_codes())
    if unknown:
        raise ConfigError(
            f"{where}: unknown rule code or prefix: {', '.join(unknown)} (see reslint --list-rules)"
        )
    return normal


def check_patterns(patterns: tuple[str, ...], where: str) -> tuple[str, ...]:
    for pattern in patterns:
        try:
            _spec((pattern,))
        except ValueError as error:  # pathspec's pattern errors are ValueErrors
            raise ConfigError(f"{where}: bad pattern {pattern!r}: {error}") from None
    return patterns


def _read_toml(path: str) -> dict[str, Any]:
    if sys.version_info >= (3, 11):
        import tomllib
    else:  # pragma: no cover - Python 3.10
        import tomli as tomllib
    try:
        return tomllib.loads(read_regular_file(path, DEFAULT_MAX_BYTES).decode("utf-8"))
    except OSError as error:
        raise ConfigError(f"{path}: cannot read: {error.strerror or error}") from None
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as error:
        raise ConfigError(f"{path}: not valid TOML: {error}") from None


# A line that may start reslint's table: `[tool.reslint]` (or one below it), a dotted
# `tool.reslint.select = ...`, or a `[tool]` table or `tool = {...}` that may hold a `reslint` key.
# Many pyproject.toml files name reslint only as a dependency or a hook; those are not parsed.
_MAY_CONFIGURE = re.compile(
    rb"""^[ \t]*\[?[ \t]*["']?tool["']?[ \t]*(?:\.[ \t]*["']?reslint\b|\]|=)""", re.M
)


def _has_reslint_table(path: str) -> bool:
    # Cheap test first: most pyproject.toml files have no reslint table and need not be parsed.
    try:
        text = read_regular_file(path, DEFAULT_MAX_BYTES)
    except OSError:
        return False
    if b"reslint" not in text or not _MAY_CONFIGURE.search(text):
        return False
    return "reslint" in _read_toml(path).get("tool", {})


# ----------------------------------------------------------------------------------------------------------
# Merging.


def merge(root: str, table: Mapping[str, Any], flags: Overrides) -> Settings:
    """One Settings from a checked configuration table and the overrides (which win)."""
    file_layer = Layer.of(
        table.get("select"), table.get("ignore", ()), table.get("extend-select", ())
    )
    flag_layer = Layer.of(flags.select, flags.ignore, flags.extend_select)
    return Settings(
        root=root,
        selection=Selection((file_layer, flag_layer)),
        per_file_ignores=table.get("per-file-ignores", ()),
        exclude=flags.exclude
        if flags.exclude is not None
        else table.get("exclude", DEFAULT_EXCLUDE),
        extend_exclude=tuple(table.get("extend-exclude", ())) + flags.extend_exclude,
        respect_gitignore=_first(flags.respect_gitignore, table.get("respect-gitignore"), True),
        force_exclude=_first(flags.force_exclude, table.get("force-exclude"), False),
        rules=flags.rules,
    )


def settings_for_source(path: str, overrides: Overrides | None = None) -> Settings:
    """The settings of one file that need not exist (stdin, the API's check_source)."""
    return SettingsResolver(overrides).for_folder(os.path.dirname(os.path.abspath(path)))


def _first(*values: bool | None) -> bool:
    return next(value for value in values if value is not None)


@lru_cache(maxsize=256)
def _spec(patterns: tuple[str, ...]) -> pathspec.PathSpec:
    import pathspec

    return pathspec.GitIgnoreSpec.from_lines(patterns)


def _checks(selection: Selection, rules: tuple[type[Rule], ...] | None, max_bytes: int) -> Checks:
    from reslint.engine import Checks
    from reslint.registry import checking_rules, file_level_rules

    candidates = checking_rules() if rules is None else rules
    active = tuple(rule for rule in candidates if selection.enables(rule.code, rule.opt_in))
    reported = active + tuple(
        rule for rule in file_level_rules() if selection.enables(rule.code, rule.opt_in)
    )
    return Checks(active, frozenset(rule.code for rule in reported), max_bytes)
