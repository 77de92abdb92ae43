"""RN401 factory-architecture-mismatch."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from reslint.model import ModuleModel
from reslint.model.symbolic import Expr
from reslint.model.values import ClassRef, Layer, ListValue, options
from reslint.rule import Rule, Violation


@dataclass(frozen=True)
class Architecture:
    block: str  # "basic" or "bottleneck"
    layers: tuple[int, int, int, int]
    groups: int = 1
    width_per_group: int = 64


ARCHITECTURES = {
    "resnet18": Architecture("basic", (2, 2, 2, 2)),
    "resnet34": Architecture("basic", (3, 4, 6, 3)),
    "resnet50": Architecture("bottleneck", (3, 4, 6, 3)),
    "resnet101": Architecture("bottleneck", (3, 4, 23, 3)),
    "resnet152": Architecture("bottleneck", (3, 8, 36, 3)),
    "resnext50_32x4d": Architecture("bottleneck", (3, 4, 6, 3), 32, 4),
    "resnext101_32x8d": Architecture("bottleneck", (3, 4, 23, 3), 32, 8),
    "resnext101_64x4d": Architecture("bottleneck", (3, 4, 23, 3), 64, 4),
    "wide_resnet50_2": Architecture("bottleneck", (3, 4, 6, 3), 1, 128),
    "wide_resnet101_2": Architecture("bottleneck", (3, 4, 23, 3), 1, 128),
}
WIDTH_NAMES = ("width_per_group", "base_width", "width")


class FactoryArchitectureMismatch(Rule):
    """## What it does
    Checks factory functions named after a standard architecture (`resnet50`, `resnext50_32x4d`,
    `wide_resnet50_2`, ...) against what they build: block type, blocks per stage, groups and width.

    ## Why is this bad?
    A model called `resnet50` that is really a ResNet-34 (BasicBlock) or a ResNet-101 with the wrong
    stage counts trains, but every comparison with the paper, every pretrained checkpoint and every
    parameter count is wrong, and nothing fails loudly.

    ## Example
    ```python
    def resnet50(num_classes=1000):
        return ResNet(BasicBlock, [3, 4, 6, 3], num_classes=num_classes)
    ```

    Use instead:
    ```python
    def resnet50(num_classes=1000):
        return ResNet(Bottleneck, [3, 4, 6, 3], num_classes=num_classes)
    ```
    """

    code = "RN401"
    name = "factory-architecture-mismatch"

    def check(self, module: ModuleModel) -> Iterator[Violation]:
        for function in module.function_defs:
            name = function.name.value
            expected = ARCHITECTURES.get(name.lower())  # `ResNet18()` as kuangliu spells it
            if expected is None:
                continue
            built = next(
                (
                    o
                    for o in options(module.factory_model(function))
                    if isinstance(o, Layer) and o.cls
                ),
                None,
            )
            if built is None:
                continue
            problems = _differences(built, expected)
            if problems:
                yield Violation(
                    function.name,
                    f"`{name}` builds {', '.join(problems)}, but {name} is {_describe(expected)}",
                    f"build {_describe(expected)} here, or rename the factory after what it builds",
                )


def _differences(built: Layer, expected: Architecture) -> list[str]:
    problems: list[str] = []
    block = next((v for v in built.args.values() if isinstance(v, ClassRef)), None)
    if block is not None:
        kind, expansion = _block_kind(block)
        if kind is not None and kind != expected.block:
            problems.append(
                f"`{block.cls.name}` blocks of expansion {expansion} (a {kind} block)"
                if expansion is not None
                else f"`{block.cls.name}` blocks (a {kind} block)"
            )
    layers = next((v for v in built.args.values() if _stage_counts(v) is not None), None)
    counts = _stage_counts(layers) if layers is not None else None
    if counts is not None and counts != expected.layers:
        problems.append(f"stages of {list(counts)} blocks")
    groups = _number(built.args.get("groups"))
    if groups is not None and groups != expected.groups:
        problems.append(f"groups={groups}")
    width = next(
        (_number(built.args.get(n)) for n in WIDTH_NAMES if _number(built.args.get(n)) is not None),
        None,
    )
    if width is not None and width != expected.width_per_group:
        problems.append(f"width_per_group={width}")
    return problems


def _block_kind(block: ClassRef) -> tuple[str | None, int | None]:
    """basic or bottleneck, by the class's `expansion` (1 or 4), else by its name."""
    interpreter = block.cls.module.interpreter
    value = _number(block.cls.constant("expansion", interpreter))
    generic = block.cls.generic if value is None else None
    if generic is not None and "expansion" in generic.attrs:
        # `self.expansion = 4` set in `__init__`: the block says what it is, whatever its name.
        value = _number(generic.attribute("expansion", interpreter))
        if value not in (1, 4):
            return None, None
    if value in (1, 4):
        return ("basic" if value == 1 else "bottleneck"), value
    lowered = block.cls.name.lower()
    if "bottleneck" in lowered:
        return "bottleneck", None
    if "basic" in lowered:
        return "basic", None
    return None, None


def _stage_counts(value: Any) -> tuple[int, ...] | None:
    """Four block counts. Four multiples of 16 are the stages' widths (`[64, 128, 256, 512]`): every
    ResNet's counts hold a small number."""
    if not isinstance(value, ListValue) or value.open_ended or len(value.items) != 4:
        return None
    numbers = [_number(item) for item in value.items]
    if None in numbers or all(n % 16 == 0 for n in numbers if n is not None):
        return None
    return tuple(n for n in numbers if n is not None)


def _number(value: Any) -> int | None:
    if (
        isinstance(value, Expr)
        and value.constant is not None
        and float(value.constant).is_integer()
    ):
        return int(value.constant)
    return None


def _describe(arch: Architecture) -> str:
    block = "Bottleneck" if arch.block == "bottleneck" else "BasicBlock"
    text = f"{block} blocks with stages {list(arch.layers)}"
    if arch.groups != 1:
        text += f", groups={arch.groups}"
    if arch.width_per_group != 64:
        text += f", width_per_group={arch.width_per_group}"
    return text


FactoryArchitectureMismatch.INVALID = [
    """
import torch.nn as nn
class BasicBlock(nn.Module):
    expansion = 1
class Bottleneck(nn.Module):
    expansion = 4
class ResNet(nn.Module):
    def __init__(self, block, layers, num_classes=1000):
        super().__init__()
def resnet50(num_classes=1000):
    return ResNet(BasicBlock, [3, 4, 6, 3], num_classes=num_classes)
"""
]
FactoryArchitectureMismatch.VALID = [
    """
import torch.nn as nn
class Bottleneck(nn.Module):
    expansion = 4
class ResNet(nn.Module):
    def __init__(self, block, layers, num_classes=1000, groups=1, width_per_group=64):
        super().__init__()
def _resnet(block, layers, **kwargs):
    return ResNet(block, layers, **kwargs)
def resnext50_32x4d(**kwargs):
    kwargs["groups"] = 32
    kwargs["width_per_group"] = 4
    return _resnet(Bottleneck, [3, 4, 6, 3], **kwargs)
"""
]
