"""RN317 residual-added-twice."""

from __future__ import annotations

from collections.abc import Iterator

from reslint.model import ModuleModel
from reslint.model.repeated_addends import repeated_addends
from reslint.rule import Rule, Violation
from reslint.rules_support import unique


class ResidualAddedTwice(Rule):
    """## What it does
    Checks forward for a sum that adds a tensor the sum it extends already holds: `out += residual`
    right after `out = branch + residual` (or `out += residual` again under an `if`), with nothing
    applied to the sum in between.

    ## Why is this bad?
    The block computes `branch + 2 * x` instead of `branch + x`: the identity path carries twice the
    input, and through a deep stack of such blocks the activations grow by a factor of two per
    block. Training is unstable or diverges, and pretrained weights of the published architecture do
    not fit.

    ## Example
    ```python
    out = self.layer2(self.layer1(x))
    out += residual
    if self.shortcut:
        out += residual
    ```

    Use instead:
    ```python
    out = self.layer2(self.layer1(x))
    if self.shortcut:
        out += residual
    ```
    """

    code = "RN317"
    name = "residual-added-twice"

    def check(self, module: ModuleModel) -> Iterator[Violation]:
        yield from unique(self._check(module))

    def _check(self, module: ModuleModel) -> Iterator[Violation]:
        for instance in module.instances():
            forward = instance.forward
            if forward is None:
                continue
            for found in repeated_addends(forward.adds):
                yield Violation(
                    found.site.node,
                    f"`{module.code(found.site.node)}` adds a tensor that the sum on line "
                    f"{module.line_of(found.earlier.node)} already holds: it is counted twice",
                    "add it once",
                )


ResidualAddedTwice.INVALID = [
    """
import torch.nn as nn
class Block(nn.Module):
    def __init__(self, c, shortcut=True):
        super().__init__()
        self.shortcut = shortcut
        self.conv1 = nn.Conv2d(c, c, 3, 1, 1, bias=False)
        self.bn1 = nn.BatchNorm2d(c)
    def forward(self, x):
        residual = x
        out = self.bn1(self.conv1(x))
        out += residual
        if self.shortcut:
            out += residual
        return out
""",
    """
import torch.nn as nn
import torch.nn.functional as F
class Block(nn.Module):
    def __init__(self, c):
        super().__init__()
        self.conv1 = nn.Conv2d(c, c, 3, 1, 1, bias=False)
        self.bn1 = nn.BatchNorm2d(c)
    def forward(self, x):
        out = self.bn1(self.conv1(x)) + x
        out = x + out
        return F.relu(out)
""",
]
ResidualAddedTwice.VALID = [
    """
import torch.nn as nn
import torch.nn.functional as F
class Block(nn.Module):
    def __init__(self, c, shortcut=True):
        super().__init__()
        self.shortcut = shortcut
        self.conv1 = nn.Conv2d(c, c, 3, 1, 1, bias=False)
        self.bn1 = nn.BatchNorm2d(c)
        self.conv2 = nn.Conv2d(c, c, 3, 1, 1, bias=False)
        self.bn2 = nn.BatchNorm2d(c)
    def forward(self, x):
        out = self.bn1(self.conv1(x))
        if self.shortcut:
            out += x
        out = F.relu(out)
        out = self.bn2(self.conv2(out)) + out
        return out + x
""",
]
