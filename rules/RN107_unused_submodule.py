"""RN107 unused-submodule."""

from __future__ import annotations

from collections.abc import Iterator

import libcst as cst

from reslint.knowledge.layers import CONTAINER_KINDS
from reslint.model import ModuleModel
from reslint.model.classes import ClassModel
from reslint.model.values import Layer, options
from reslint.rule import Rule, Violation
from reslint.rules_support import function_of

# Layer kinds without weights: unused, they change the computation, not the parameter count.
PARAMETER_FREE = {
    "act",
    "pool",
    "avgpool",
    "globalpool",
    "dropout",
    "identity",
    "flatten",
    "upsample",
}


class UnusedSubmodule(Rule):
    """## What it does
    Checks for layers assigned to `self` in `__init__` that are never used anywhere else.

    ## Why is this bad?
    The layer still adds parameters (and optimizer state) but never touches the data, so the
    network is not the one you think: a projection built for the shortcut but never applied, or a
    max-pool built but never called, changes every shape after it. Unused parameters also break
    `DistributedDataParallel` unless `find_unused_parameters=True`.

    ## Example
    ```python
    self.maxpool = nn.MaxPool2d(kernel_size=3, stride=2, padding=1)
    ...
    def forward(self, x):
        x = self.relu(self.bn1(self.conv1(x)))
        x = self.layer1(x)
    ```

    Use instead:
    ```python
    def forward(self, x):
        x = self.maxpool(self.relu(self.bn1(self.conv1(x))))
        x = self.layer1(x)
    ```
    """

    code = "RN107"
    name = "unused-submodule"
    severity = Rule.severity
    defers_to = ("RN102", "RN312")

    def check(self, module: ModuleModel) -> Iterator[Violation]:
        for unused in module.unused_layers:
            name = unused.assignment.name
            # `downsample(x)` for `self.downsample(x)`: the layer is unused because of that missing
            # `self.`; a shortcut never added: the block is missing its residual addition.
            explained_by: list[tuple[str, cst.CSTNode]] = [
                ("RN102", read) for read in unused.bare_reads
            ]
            if unused.residual_missing_at is not None:
                explained_by.append(("RN312", unused.residual_missing_at))
            yield Violation(
                unused.assignment.target,
                f"`self.{name}` is built in `{_builder(unused.assignment.target, unused.cls, module)}` "
                "but never used: " + _cost(unused.assignment.value),
                f"call `self.{name}` in forward, or delete it",
                defers_to=tuple(explained_by),
            )


def _builder(target: cst.CSTNode, cls: ClassModel, module: ModuleModel) -> str:
    """`Encoder.__init__`: the method whose code assigns the layer, named by its own class (a
    subclass that only calls `super().__init__()` builds nothing itself)."""
    method = function_of(target, module)
    owner = module.class_of(method) if method is not None else None
    if method is None or owner is None:
        return f"{cls.name}.__init__"
    return f"{owner.name}.{module.enclosing_method(method).name.value}"


def _cost(value) -> str:
    # None: built by a callable reslint cannot see, whose weights it does not know.
    layer = next((o for o in options(value) if isinstance(o, Layer)), None)
    if layer is not None and layer.kind in CONTAINER_KINDS and not layer.children:
        return "it is empty, so it is dead code (it adds neither parameters nor computation)"
    if layer is None or layer.kind in PARAMETER_FREE or not layer.holds_weights():
        # Weights are claimed only where reslint knows of them (not for a padding block).
        return "it is never applied: dead code, or a step the network was meant to have and skips"
    return "it adds parameters but no computation"


UnusedSubmodule.INVALID = [
    """
import torch.nn as nn
class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.conv1 = nn.Conv2d(3, 64, 7, 2, 3, bias=False)
        self.maxpool = nn.MaxPool2d(3, 2, 1)
    def forward(self, x):
        return self.conv1(x)
"""
]
UnusedSubmodule.VALID = [
    """
import torch.nn as nn
class Net(nn.Module):
    def __init__(self, include_top=True):
        super().__init__()
        self.conv1 = nn.Conv2d(3, 64, 7, 2, 3, bias=False)
        if include_top:
            self.fc = nn.Linear(64, 10)
    def forward(self, x):
        x = self.conv1(x)
        if self.include_top:
            x = self.fc(x)
        return x
""",
    """
import torch.nn as nn
class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.layer1 = nn.Conv2d(3, 64, 3)
    def forward(self, x):
        for i in range(1):
            x = getattr(self, f"layer{i + 1}")(x)
        return x
""",
]
