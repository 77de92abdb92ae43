"""RN110 plain-list-of-modules."""

from __future__ import annotations

from collections.abc import Iterator

import libcst as cst

from reslint.findings import Applicability
from reslint.knowledge.layers import MODULE_REGISTRATIONS
from reslint.model import ModuleModel
from reslint.model.classes import AttributeAssignment
from reslint.model.values import DictValue, Layer, ListValue, options
from reslint.rule import Edit, Fix, Rule, Violation
from reslint.rules_support import written_name


class PlainListOfModules(Rule):
    """## What it does
    Checks for layers kept in a plain Python list, tuple or dict on `self` instead of
    `nn.ModuleList` / `nn.Sequential` / `nn.ModuleDict`.

    ## Why is this bad?
    nn.Module only registers submodules assigned directly or held by its containers. Layers in a
    plain list are invisible to `.parameters()` (the optimizer never trains them), to `.to(device)`
    (device mismatch errors), to `state_dict()` (not saved) and to `.eval()` (BatchNorm stays in
    training mode).

    ## Example
    ```python
    self.blocks = [BasicBlock(64, 64) for _ in range(2)]
    ```

    Use instead:
    ```python
    self.blocks = nn.ModuleList([BasicBlock(64, 64) for _ in range(2)])
    ```
    """

    code = "RN110"
    name = "plain-list-of-modules"
    fixable = Applicability.SAFE

    def check(self, module: ModuleModel) -> Iterator[Violation]:
        for cls in module.module_classes:
            instance = cls.generic
            if instance is None or cls.calls_any(MODULE_REGISTRATIONS):
                continue  # layers registered by name as well (`self.add_module(f"adapter_{i}", conv)`)
            for assignment in instance.assignments:
                container = next(
                    (o for o in options(assignment.value) if isinstance(o, (ListValue, DictValue))),
                    None,
                )
                if container is None or not _holds_layers(container):
                    continue
                if not any(o is container for o in options(instance.attrs.get(assignment.name))):
                    continue  # replaced later (`self.x = nn.Sequential(*self.x)`): never kept
                if all(instance.registers(layer) for layer in _layers_in(container)):
                    continue  # `self.body = nn.Sequential(*self.blocks)`: the list is only a view
                kind = "nn.ModuleDict" if isinstance(container, DictValue) else "nn.ModuleList"
                yield Violation(
                    assignment.target,
                    f"`self.{assignment.name}` keeps layers in a plain Python "
                    f"{'dict' if isinstance(container, DictValue) else 'list'}: their parameters are not "
                    "registered, trained, moved or saved",
                    f"wrap it: `self.{assignment.name} = {kind}(...)`",
                    fix=_fix(assignment, container, module),
                )


def _fix(
    assignment: AttributeAssignment, container: ListValue | DictValue, module: ModuleModel
) -> Fix | None:
    """`self.x = [...]` -> `self.x = nn.ModuleList([...])`, for a list written right there that
    holds nothing but layers (nn.ModuleList refuses anything else; a dict may have keys that
    nn.ModuleDict refuses)."""
    statement = assignment.statement
    if not isinstance(container, ListValue) or not isinstance(statement, cst.Assign):
        return None
    if len(statement.targets) != 1 or not isinstance(statement.value, (cst.List, cst.ListComp)):
        return None
    if not all(isinstance(o, Layer) for item in container.items for o in options(item)):
        return None
    module_list = written_name(module, "torch.nn.ModuleList")
    if module_list is None:
        return None
    return Fix(
        (Edit(statement.value, f"{module_list}(", "before"), Edit(statement.value, ")", "after"))
    )


def _layers_in(container: ListValue | DictValue) -> list[Layer]:
    items = container.items.values() if isinstance(container, DictValue) else container.items
    return [o for item in items for o in options(item) if isinstance(o, Layer)]


def _holds_layers(container: ListValue | DictValue) -> bool:
    return any(layer.kind not in ("object", "unknown") for layer in _layers_in(container))


PlainListOfModules.INVALID = [
    """
import torch.nn as nn
class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.blocks = [nn.Conv2d(64, 64, 3, padding=1) for _ in range(2)]
    def forward(self, x):
        for block in self.blocks:
            x = block(x)
        return x
"""
]
PlainListOfModules.FIXED = [
    PlainListOfModules.INVALID[0].replace(
        "= [nn.Conv2d(64, 64, 3, padding=1) for _ in range(2)]",
        "= nn.ModuleList([nn.Conv2d(64, 64, 3, padding=1) for _ in range(2)])",
    )
]
PlainListOfModules.VALID = [
    """
import torch.nn as nn
class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.blocks = nn.ModuleList([nn.Conv2d(64, 64, 3, padding=1) for _ in range(2)])
        self.sizes = [64, 128]
    def forward(self, x):
        for block in self.blocks:
            x = block(x)
        return x
"""
]
