"""RN122 kwargs-dropped."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import libcst as cst

from reslint.findings import Severity
from reslint.knowledge.naming import DISCARDED
from reslint.model import ModuleModel
from reslint.model.classes import ClassModel
from reslint.model.symbolic import Expr
from reslint.model.values import DictValue, Layer
from reslint.rule import Rule, Violation


class KwargsDropped(Rule):
    """## What it does
    Checks for a block whose `__init__` accepts `**kwargs` and never reads them, while the code that
    builds it passes keyword arguments that land there (`groups=`, `base_width=`).

    ## Why is this bad?
    The arguments vanish without an error: a ResNeXt built from that block is not grouped, a wide
    ResNet is not wide. torchvision's `BasicBlock` refuses `groups != 1` for exactly this reason;
    a block that swallows them silently builds a different network than the one asked for.

    ## Example
    ```python
    class BasicBlock(nn.Module):
        def __init__(self, in_channel, out_channel, stride=1, downsample=None, **kwargs):
            ...
    layers.append(block(self.in_channel, channel, groups=self.groups, width_per_group=...))
    ```

    Use instead:
    ```python
    class BasicBlock(nn.Module):
        def __init__(self, in_channel, out_channel, stride=1, downsample=None, groups=1,
                     width_per_group=64):
            if groups != 1 or width_per_group != 64:
                raise ValueError("BasicBlock only supports groups=1 and width_per_group=64")
    ```
    """

    code = "RN122"
    name = "kwargs-dropped"
    severity = Severity.WARNING

    def check(self, module: ModuleModel) -> Iterator[Violation]:
        module.instances()  # runs the classes, which records every instantiation
        dropped: dict[int, tuple[cst.Param, str, set[str]]] = {}
        built_at = _built_at(module.interpreter.constructed)
        for layer in module.interpreter.constructed:
            cls = layer.cls
            if cls is None:
                continue
            init = cls.method("__init__")
            star = init.params.star_kwarg if init is not None else None
            if not isinstance(star, cst.Param) or not module.owns(star):
                continue
            if DISCARDED.fullmatch(star.name.value):
                continue  # `**_`: dropped on purpose
            if star.name.value in {r.value for r in module.names.functions[id(init)].reads}:
                continue  # passed on or read
            extra = layer.args.get(star.name.value)
            if isinstance(extra, DictValue) and extra.items:
                # A value the other block class built by the same call takes as its neutral
                # default (`block(..., groups=1, width_per_group=64)` for a BasicBlock or a
                # Bottleneck): a block without that option builds what was asked.
                siblings = [c for c in built_at[id(layer.node)] if c is not cls]
                names = {
                    str(key)
                    for key, value in extra.items.items()
                    if not _neutral(str(key), value, siblings)
                }
                if names:
                    dropped.setdefault(id(star), (star, cls.name, set()))[2].update(names)
        for star, name, names in dropped.values():
            listed = ", ".join(f"`{n}`" for n in sorted(names))
            yield Violation(
                star,
                f"`{name}.__init__` takes `**{star.name.value}` and never reads it, so {listed} "
                "passed to it are silently dropped",
                f"accept {listed} as parameters and use them (or reject values the block cannot "
                "honour), instead of `**kwargs`",
            )


def _neutral(name: str, value: Any, siblings: list[ClassModel]) -> bool:
    """`value` is a known number that a sibling block takes by default for `name`."""
    if not isinstance(value, Expr) or value.constant is None:
        return False
    return any(value.constant in _defaults(sibling).get(name, ()) for sibling in siblings)


def _defaults(cls: ClassModel) -> dict[str, set[float]]:
    """The numeric defaults of the class's `__init__` parameters, by name."""
    found: dict[str, set[float]] = {}
    init = cls.method("__init__")
    for param in init.params.params if init is not None else ():
        default = param.default
        if isinstance(default, cst.Integer | cst.Float):
            found.setdefault(param.name.value, set()).add(float(default.evaluated_value))
    return found


def _built_at(layers: list[Layer]) -> dict[int, list[ClassModel]]:
    """The classes each call site builds (`block(...)` in a stage builder: one class or another)."""
    found: dict[int, list[ClassModel]] = {}
    for layer in layers:
        if layer.cls is not None and layer.cls not in found.setdefault(id(layer.node), []):
            found[id(layer.node)].append(layer.cls)
    return found


KwargsDropped.INVALID = [
    """
import torch.nn as nn
class BasicBlock(nn.Module):
    def __init__(self, cin, cout, stride=1, **kwargs):
        super().__init__()
        self.conv = nn.Conv2d(cin, cout, 3, stride, 1, bias=False)
    def forward(self, x):
        return self.conv(x) + x
class Net(nn.Module):
    def __init__(self, groups=32):
        super().__init__()
        self.layer = BasicBlock(64, 64, groups=groups, width_per_group=4)
"""
]
KwargsDropped.VALID = [
    """
import torch.nn as nn
class BasicBlock(nn.Module):
    def __init__(self, cin, cout, stride=1, **_):
        super().__init__()
        self.conv = nn.Conv2d(cin, cout, 3, stride, 1, bias=False)
    def forward(self, x):
        return self.conv(x) + x
class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.layer = BasicBlock(64, 64, drop_path=0.1)
""",
    """
import torch.nn as nn
class BasicBlock(nn.Module):
    def __init__(self, cin, cout, stride=1, **kwargs):
        super().__init__()
        self.conv = nn.Conv2d(cin, cout, 3, stride, 1, bias=False, **kwargs)
    def forward(self, x):
        return self.conv(x) + x
class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.layer = BasicBlock(64, 64, groups=1)
""",
]
