"""RN208 class-in-arithmetic."""

from __future__ import annotations

from collections.abc import Iterator

from reslint.model import ModuleModel
from reslint.rule import Rule, Violation


class ClassInArithmetic(Rule):
    """## What it does
    Checks channel arithmetic that multiplies (adds, divides) a number by a block class itself, where
    the class attribute was meant: `norm_layer(planes * block)` for `planes * block.expansion`.
    Reported only where every way the file builds the network passes a class there.

    ## Why is this bad?
    A class supports no arithmetic: building the network raises `TypeError: unsupported operand
    type(s) for *: 'int' and 'type'`.

    ## Example
    ```python
    downsample = nn.Sequential(
        conv1x1(self.inplanes, planes * block.expansion, stride),
        norm_layer(planes * block),
    )
    ```

    Use instead:
    ```python
    downsample = nn.Sequential(
        conv1x1(self.inplanes, planes * block.expansion, stride),
        norm_layer(planes * block.expansion),
    )
    ```
    """

    code = "RN208"
    name = "class-in-arithmetic"

    def check(self, module: ModuleModel) -> Iterator[Violation]:
        module.instances()  # the network is built (and its arithmetic seen) on the way
        for node, wrong in module.interpreter.class_operands.values():
            if wrong and module.owns(node):
                yield Violation(
                    node,
                    f"`{module.code(node)}` computes with a block class itself: a class has no "
                    "arithmetic, so this raises TypeError",
                    "use the class attribute meant (`block.expansion`)",
                )


ClassInArithmetic.INVALID = [
    """
import torch.nn as nn
class Block(nn.Module):
    expansion = 4
    def __init__(self, cin, planes):
        super().__init__()
        self.conv = nn.Conv2d(cin, planes * 4, 1)
    def forward(self, x):
        return self.conv(x)
class Net(nn.Module):
    def __init__(self, block):
        super().__init__()
        self.stage = self._make_layer(block, 64)
    def _make_layer(self, block, planes):
        return nn.Sequential(block(64, planes), nn.BatchNorm2d(planes * block))
    def forward(self, x):
        return self.stage(x)
def net():
    return Net(Block)
""",
]
ClassInArithmetic.VALID = [
    """
import torch.nn as nn
class Block(nn.Module):
    expansion = 4
    def __init__(self, cin, planes):
        super().__init__()
        self.conv = nn.Conv2d(cin, planes * 4, 1)
    def forward(self, x):
        return self.conv(x)
class Net(nn.Module):
    def __init__(self, block, width=2):
        super().__init__()
        self.stage = self._make_layer(block, 64 * width)
    def _make_layer(self, block, planes):
        return nn.Sequential(block(64, planes), nn.BatchNorm2d(planes * block.expansion))
    def forward(self, x):
        return self.stage(x)
def net():
    return Net(Block)
""",
]
