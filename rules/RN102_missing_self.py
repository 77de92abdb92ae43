"""RN102 missing-self."""

from __future__ import annotations

from collections.abc import Iterator

import libcst as cst

from reslint.findings import Applicability
from reslint.model import ModuleModel
from reslint.model.module import BUILTIN_NAMES
from reslint.rule import Fix, Rule, Violation
from reslint.rules_support import reachable_methods


class MissingSelf(Rule):
    """## What it does
    Checks `forward` for names that are not defined there or in the file, but exist as an attribute
    set on `self` or as a parameter of `__init__`.

    ## Why is this bad?
    `__init__` parameters are gone once `__init__` returns; `forward` must read `self.downsample`.
    A bare `downsample` raises `NameError` on the first forward pass (or, worse, silently reads a
    global of the same name).

    ## Example
    ```python
    def forward(self, x):
        identity = x
        if downsample is not None:
            identity = self.downsample(x)
    ```

    Use instead:
    ```python
    def forward(self, x):
        identity = x
        if self.downsample is not None:
            identity = self.downsample(x)
    ```
    """

    code = "RN102"
    name = "missing-self"
    fixable = Applicability.SAFE

    def check(self, module: ModuleModel) -> Iterator[Violation]:
        for cls in module.class_defs:
            forward = cls.methods.get("forward")
            init = cls.method("__init__")
            if forward is None:
                continue
            attributes = set(cls.generic.attrs) if cls.generic is not None else set()
            init_params = {p.name.value for p in init.params.params} if init is not None else set()
            for method in reachable_methods(cls, ("forward",), module):
                yield from self._check_method(method, attributes, init_params, module)

    def _check_method(
        self, method, attributes: set[str], init_params: set[str], module: ModuleModel
    ):
        names = module.names.functions[id(method)]
        reported: set[str] = set()
        for read in names.reads:
            name = read.value
            if name in reported or name in names.bound or name in module.names.module_bound:
                continue
            if name in BUILTIN_NAMES or name in module.imports.aliases:
                continue
            if name in attributes or name in init_params:
                reported.add(name)
                where = (
                    "an attribute set in __init__"
                    if name in attributes
                    else "a parameter of __init__"
                )
                yield Violation(
                    read,
                    f"`{name}` is not defined in `{method.name.value}`; it is {where}: "
                    f"did you mean `self.{name}`?",
                    f"write `self.{name}`",
                    fix=_fix(read, method, name in attributes),
                )


def _fix(read: cst.Name, method: cst.FunctionDef, on_self: bool) -> Fix | None:
    """`self.name`, through the method's own first parameter. Not for an __init__ parameter that is
    not kept on self (that would only move the NameError), nor in a static method (no self)."""
    params = method.params.params
    static = any(
        isinstance(decorator.decorator, cst.Name) and decorator.decorator.value == "staticmethod"
        for decorator in method.decorators
    )
    if not on_self or not params or static:
        return None
    return Fix.replace(read, f"{params[0].name.value}.{read.value}")


MissingSelf.INVALID = [
    """
import torch.nn as nn
class Block(nn.Module):
    def __init__(self, downsample=None):
        super().__init__()
        self.downsample = downsample
    def forward(self, x):
        if downsample is not None:
            x = self.downsample(x)
        return x
"""
]
MissingSelf.FIXED = [MissingSelf.INVALID[0].replace("if downsample", "if self.downsample")]
MissingSelf.VALID = [
    """
import torch.nn as nn
class Block(nn.Module):
    def __init__(self, downsample=None):
        super().__init__()
        self.downsample = downsample
    def forward(self, x):
        downsample = self.downsample
        if downsample is not None:
            x = downsample(x)
        return x
"""
]
