"""RN126 module-init-not-called."""

from __future__ import annotations

from collections.abc import Iterator

import libcst as cst

from reslint.model import ModuleModel
from reslint.model.classes import AttributeAssignment, ClassModel
from reslint.model.values import Layer, options
from reslint.rule import Rule, Violation


class ModuleInitNotCalled(Rule):
    """## What it does
    Checks for an `nn.Module` whose `__init__` assigns a layer to `self` before any base class
    `__init__` has been called: `super().__init__()` missing, or written without its parentheses
    (`super(BasicBlock, self).__init__`).

    ## Why is this bad?
    `nn.Module.__init__` creates the dictionaries that register submodules. Until it has run, the
    first `self.conv1 = nn.Conv2d(...)` raises `AttributeError: cannot assign module before
    Module.__init__() call`, so the model cannot even be built.

    ## Example
    ```python
    class BasicBlock(nn.Module):
        def __init__(self, inplanes, planes):
            super(BasicBlock, self).__init__
            self.conv1 = nn.Conv2d(inplanes, planes, 3, padding=1, bias=False)
    ```

    Use instead:
    ```python
    class BasicBlock(nn.Module):
        def __init__(self, inplanes, planes):
            super(BasicBlock, self).__init__()
            self.conv1 = nn.Conv2d(inplanes, planes, 3, padding=1, bias=False)
    ```
    """

    code = "RN126"
    name = "module-init-not-called"

    def check(self, module: ModuleModel) -> Iterator[Violation]:
        for cls in module.module_classes:
            init = cls.methods.get("__init__")
            if (
                init is None
                or cls.generic is None
                or not cls.needs_base_init_call
                or _may_run_a_base_init(init, module)
            ):
                continue
            first = _first_layer_assignment(cls, init, module)
            if first is None:
                continue
            uncalled = _uncalled_init(init)
            cause = (
                f"`{module.code(uncalled)}` names the base `__init__` without calling it"
                if uncalled is not None
                else "no base class `__init__` is called before it"
            )
            yield Violation(
                uncalled if uncalled is not None else first.target,
                f"`self.{first.name}` is assigned before `nn.Module.__init__` has run ({cause}): "
                "building the model raises AttributeError",
                "call `super().__init__()` first in `__init__`"
                if uncalled is None
                else "add the parentheses: `super().__init__()`",
            )


def _first_layer_assignment(
    cls: ClassModel, init: cst.FunctionDef, module: ModuleModel
) -> AttributeAssignment | None:
    """The first statement written in `__init__` itself that puts a layer on `self`."""
    assert cls.generic is not None
    for assignment in cls.generic.assignments:
        if not module.names.contains(init, assignment.statement):
            continue  # set by a helper method, which may run after the base __init__
        if any(isinstance(o, Layer) and o.kind != "unknown" for o in options(assignment.value)):
            return assignment
    return None


def _may_run_a_base_init(init: cst.FunctionDef, module: ModuleModel) -> bool:
    """Whether `__init__` calls some `__init__`, or a method of its own (which may call the base
    `__init__`), anywhere in its own body: then reslint does not judge the order."""
    for call, function in module.names.calls:
        if function is not init or not isinstance(call.func, cst.Attribute):
            continue
        if call.func.attr.value == "__init__" or _is_self(call.func.value):
            return True
    return False


def _uncalled_init(init: cst.FunctionDef) -> cst.Attribute | None:
    """`super(...).__init__` written as a statement of its own, without the call."""
    for statement in init.body.body:
        if not isinstance(statement, cst.SimpleStatementLine):
            continue
        for small in statement.body:
            if (
                isinstance(small, cst.Expr)
                and isinstance(small.value, cst.Attribute)
                and small.value.attr.value == "__init__"
            ):
                return small.value
    return None


def _is_self(node: cst.BaseExpression) -> bool:
    return isinstance(node, cst.Name) and node.value == "self"


ModuleInitNotCalled.INVALID = [
    """
import torch.nn as nn
class BasicBlock(nn.Module):
    def __init__(self, inplanes, planes):
        super(BasicBlock, self).__init__
        self.conv1 = nn.Conv2d(inplanes, planes, 3, padding=1, bias=False)
    def forward(self, x):
        return self.conv1(x)
""",
    """
import torch.nn as nn
class Stem(nn.Module):
    def __init__(self, width=64):
        self.conv = nn.Conv2d(3, width, 7, 2, 3, bias=False)
    def forward(self, x):
        return self.conv(x)
""",
]
ModuleInitNotCalled.VALID = [
    """
import torch.nn as nn
class BasicBlock(nn.Module):
    def __init__(self, inplanes, planes):
        self.expansion = 1
        super(BasicBlock, self).__init__()
        self.conv1 = nn.Conv2d(inplanes, planes, 3, padding=1, bias=False)
    def forward(self, x):
        return self.conv1(x)
""",
    """
import torch.nn as nn
class Stem(nn.Module):
    def __init__(self, width=64):
        self._setup()
        self.conv = nn.Conv2d(3, width, 7, 2, 3, bias=False)
    def _setup(self):
        nn.Module.__init__(self)
    def forward(self, x):
        return self.conv(x)
""",
]
