"""RN316 shortcut-on-branch-output."""

from __future__ import annotations

from collections.abc import Iterator

import libcst as cst

from reslint.model import ModuleModel
from reslint.model.queries import shortcuts_on_branch
from reslint.rule import Rule, Violation
from reslint.rules_support import unique


class ShortcutOnBranchOutput(Rule):
    """## What it does
    Checks for a shortcut (`self.downsample`, `self.shortcut`) applied to the tensor the main branch
    has already transformed, and added to that same tensor: `identity = self.downsample(x)` after
    `x = self.bn3(self.conv3(...))` has overwritten the block's input.

    ## Why is this bad?
    The sum is `branch + projection(branch)`: the block's input reaches it only through the
    convolutions, so the block has no skip connection at all, and the projection, built for the
    input's channels, now receives the branch's (a channel error whenever they differ).

    ## Example
    ```python
    identity = x
    x = self.bn2(self.conv2(self.relu(self.bn1(self.conv1(x)))))
    if self.downsample is not None:
        identity = self.downsample(x)
    x += identity
    ```

    Use instead:
    ```python
    identity = x
    x = self.bn2(self.conv2(self.relu(self.bn1(self.conv1(x)))))
    if self.downsample is not None:
        identity = self.downsample(identity)
    x += identity
    ```
    """

    code = "RN316"
    name = "shortcut-on-branch-output"

    def check(self, module: ModuleModel) -> Iterator[Violation]:
        yield from unique(self._check(module))

    def _check(self, module: ModuleModel) -> Iterator[Violation]:
        for instance in module.instances():
            for found in shortcuts_on_branch(instance):
                shortcut = _callee(found.shortcut.node, module)
                yield Violation(
                    found.shortcut.node,
                    f"`{shortcut}` is applied to the output of the main branch (after "
                    f"`{_callee(found.branch[0].node, module)}`) and added to that same tensor: "
                    "the block's input never reaches the sum",
                    f"apply `{shortcut}` to the block's input, saved before the branch overwrote it",
                )


def _callee(node: cst.CSTNode, module: ModuleModel) -> str:
    """`self.downsample` for the step `self.downsample(x)`: what the step calls, as written."""
    return module.code(node.func if isinstance(node, cst.Call) else node)


ShortcutOnBranchOutput.INVALID = [
    """
import torch.nn as nn
class Block(nn.Module):
    def __init__(self, cin, cout, stride=1, downsample=None):
        super().__init__()
        self.conv1 = nn.Conv2d(cin, cout, 3, stride, 1, bias=False)
        self.bn1 = nn.BatchNorm2d(cout)
        self.conv2 = nn.Conv2d(cout, cout, 3, 1, 1, bias=False)
        self.bn2 = nn.BatchNorm2d(cout)
        self.relu = nn.ReLU(inplace=True)
        self.downsample = downsample
    def forward(self, x):
        identity = x
        x = self.relu(self.bn1(self.conv1(x)))
        x = self.bn2(self.conv2(x))
        if self.downsample is not None:
            identity = self.downsample(x)
        x += identity
        return self.relu(x)
"""
]
ShortcutOnBranchOutput.VALID = [
    """
import torch.nn as nn
class Block(nn.Module):
    def __init__(self, cin, cout, stride=1, downsample=None):
        super().__init__()
        self.conv1 = nn.Conv2d(cin, cout, 3, stride, 1, bias=False)
        self.bn1 = nn.BatchNorm2d(cout)
        self.conv2 = nn.Conv2d(cout, cout, 3, 1, 1, bias=False)
        self.bn2 = nn.BatchNorm2d(cout)
        self.relu = nn.ReLU(inplace=True)
        self.downsample = downsample
    def forward(self, x):
        identity = x
        x = self.relu(self.bn1(self.conv1(x)))
        x = self.bn2(self.conv2(x))
        if self.downsample is not None:
            identity = self.downsample(identity)
        x += identity
        return self.relu(x)
""",
    """
import torch.nn as nn
class PreActBlock(nn.Module):
    def __init__(self, cin, cout, stride=1):
        super().__init__()
        self.bn1 = nn.BatchNorm2d(cin)
        self.conv1 = nn.Conv2d(cin, cout, 3, stride, 1, bias=False)
        self.bn2 = nn.BatchNorm2d(cout)
        self.conv2 = nn.Conv2d(cout, cout, 3, 1, 1, bias=False)
        self.shortcut = nn.Conv2d(cin, cout, 1, stride, bias=False)
    def forward(self, x):
        out = self.bn1(x).relu()
        shortcut = self.shortcut(out)
        out = self.conv1(out)
        out = self.conv2(self.bn2(out).relu())
        return out + shortcut
""",
]
