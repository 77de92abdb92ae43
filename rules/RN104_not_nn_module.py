"""RN104 not-nn-module."""

from __future__ import annotations

from collections.abc import Iterator

import libcst as cst

from reslint.model import ModuleModel
from reslint.model.classes import ClassModel
from reslint.model.values import Layer, options
from reslint.rule import Rule, Violation


class NotNnModule(Rule):
    """## What it does
    Checks for classes that build layers on `self` and define a `forward`, but do not inherit
    `nn.Module` (directly or through another class of the file). A class without a forward (a
    trainer, a data pipeline holding a model) is not meant to be a module.

    ## Why is this bad?
    Without `nn.Module`, assigning layers to `self` registers nothing: `model.parameters()` is
    empty, `.to(device)`, `.eval()` and `state_dict()` do not exist, `model(x)` is not callable,
    and `super().__init__()` does not set up the module machinery.

    ## Example
    ```python
    class ResNet:
        def __init__(self):
            self.conv1 = nn.Conv2d(3, 64, 7, 2, 3, bias=False)

        def forward(self, x):
            return self.conv1(x)
    ```

    Use instead:
    ```python
    class ResNet(nn.Module):
        def __init__(self):
            super().__init__()
            self.conv1 = nn.Conv2d(3, 64, 7, 2, 3, bias=False)

        def forward(self, x):
            return self.conv1(x)
    ```
    """

    code = "RN104"
    name = "not-nn-module"

    def check(self, module: ModuleModel) -> Iterator[Violation]:
        for cls in module.class_defs:
            if cls.is_module or cls.has_unresolved_bases or _other_torch_class(cls, module):
                continue
            if cls.method("forward") is None:
                continue  # a trainer or a data pipeline holding a model: not meant to be a module
            # A loss kept as a criterion (an evaluator, a loss wrapper) is not a network's layer; a
            # class with a forward but no layers is often a mixin for nn.Module subclasses.
            builds_layers = cls.generic is not None and any(
                isinstance(option, Layer)
                and option.kind not in ("object", "unknown")
                and not option.type_name.endswith("Loss")
                for value in cls.generic.attrs.values()
                for option in options(value)
            )
            if not builds_layers:
                continue
            yield Violation(
                cls.node.name,
                f"class `{cls.name}` builds layers but does not inherit nn.Module: "
                "its layers are not registered and it cannot be called",
                f"declare it as `class {cls.name}(nn.Module):` and call `super().__init__()` first",
            )


def _other_torch_class(cls: ClassModel, module: ModuleModel) -> bool:
    """A subclass of a torch class outside torch.nn (`torch.autograd.Function`, whose `forward` is a
    staticmethod; `torch.utils.data.Dataset`): not a module that forgot its base."""
    for owner in [cls, *cls.ancestors()]:
        for base in owner.base_nodes:
            qualified = module.imports.qualified(base) or ""
            if qualified.startswith("torch.") and not qualified.startswith("torch.nn."):
                return True
    forward = cls.methods.get("forward")
    return forward is not None and any(
        isinstance(d.decorator, cst.Name) and d.decorator.value == "staticmethod"
        for d in forward.decorators
    )


NotNnModule.INVALID = [
    """
import torch.nn as nn
class ResNet:
    def __init__(self):
        self.conv1 = nn.Conv2d(3, 64, 7, 2, 3, bias=False)
    def forward(self, x):
        return self.conv1(x)
"""
]
NotNnModule.VALID = [
    """
import torch
import torch.nn as nn
import pytorch_lightning as pl
class Base(nn.Module):
    pass
class ResNet(Base):
    def forward(self, x):
        return x
class Lit(pl.LightningModule):
    def forward(self, x):
        return x
class Config:
    depth = 50
class SwishFunction(torch.autograd.Function):
    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        return x * torch.sigmoid(x)
class FFTForwardMixin:
    def forward(self, x):
        return torch.fft.irfft(torch.fft.rfft(x) * self.kernel)
class Evaluator:
    def __init__(self):
        self.criterion = nn.CrossEntropyLoss()
"""
]
