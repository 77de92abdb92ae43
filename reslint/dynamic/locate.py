"""Where in the user's source a finding belongs: the line that builds a module, or that raised."""

from __future__ import annotations

import ast
import functools
import inspect
import os
import re
import textwrap

from torch import nn

from reslint.dynamic.target import Target


def user_line(error: BaseException, path: str) -> int | None:
    """The innermost line of `path` in the error's traceback."""
    tb, line = error.__traceback__, None
    while tb is not None:
        if os.path.abspath(tb.tb_frame.f_code.co_filename) == os.path.abspath(path):
            line = tb.tb_lineno
        tb = tb.tb_next
    return line


class SourceLocator:
    """Where the user builds a module: the `self.<attr> =` line in the nearest user-written class."""

    def __init__(self, model: nn.Module, target: Target) -> None:
        self.model, self.target = model, target
        self.default = (target.path, target.line)  # where a module that cannot be found is reported

    def __call__(self, name: str) -> tuple[str, int]:
        parts = name.split(".") if name else []
        while parts:
            attr = parts[-1]
            parent_name = ".".join(parts[:-1])
            try:
                parent = self.model.get_submodule(parent_name) if parent_name else self.model
            except AttributeError:
                parent = None
            found = self._assignment(type(parent), attr) if parent is not None else None
            if found:
                return found
            parts = parts[:-1]
        return self.default

    def _assignment(self, cls: type, attr: str) -> tuple[str, int] | None:
        if not attr.isidentifier():
            return None
        for klass in cls.__mro__:
            if klass.__module__.startswith("torch."):
                return None
            try:
                lines, start = inspect.getsourcelines(klass)
                path = inspect.getsourcefile(klass)
            except (OSError, TypeError):
                continue
            pattern = re.compile(rf"\bself\.{re.escape(attr)}\s*(:[^=]*)?=(?!=)")
            for offset, text in enumerate(lines):
                if pattern.search(text):
                    return path or self.target.path, start + offset
        return None


@functools.cache
def attributes_used_outside_forward(cls: type) -> frozenset[str]:
    """`self.X` names that methods of the user's class (and its user-written bases) other than __init__
    and forward read: a loss or a metric kept for `training_step`, a head only `predict` calls."""
    used: set[str] = set()
    for klass in cls.__mro__:
        if klass.__module__.startswith("torch.") or klass is object:
            continue
        try:
            tree = ast.parse(textwrap.dedent(inspect.getsource(klass)))
        except (OSError, TypeError, SyntaxError):
            continue
        for node in ast.walk(tree):
            if isinstance(node, ast.FunctionDef) and node.name not in ("__init__", "forward"):
                used |= {
                    attr.attr
                    for attr in ast.walk(node)
                    if isinstance(attr, ast.Attribute)
                    and isinstance(attr.value, ast.Name)
                    and attr.value.id == "self"
                }
    return frozenset(used)


def forward_site(module: nn.Module) -> tuple[str, int] | None:
    """The `def forward` line of a user-written module class (None for torch's own modules)."""
    forward = type(module).forward
    if type(module).__module__.startswith("torch."):
        return None
    try:
        path, (_, line) = inspect.getsourcefile(forward), inspect.getsourcelines(forward)
    except (OSError, TypeError):
        return None
    return (path, line) if path else None
