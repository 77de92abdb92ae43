"""RN314 shortcut-misses-a-stride."""

from __future__ import annotations

from collections.abc import Iterator

from reslint.findings import Severity
from reslint.model import ModuleModel
from reslint.model.queries import convs_of, describe, residuals
from reslint.model.symbolic import Expr
from reslint.model.values import Layer
from reslint.rule import Rule, Violation
from reslint.rules_support import unique


class ShortcutMissesAStride(Rule):
    """## What it does
    Checks for a projection shortcut that downsamples by only one of the separate strides the main
    branch applies (`stride[0]` on conv1, `stride[1]` on conv2, the shortcut `stride[0]` alone).

    ## Why is this bad?
    The block works only while the other stride stays 1: the day a caller passes `[2, 2]` (or the
    configuration changes), the branch halves the map twice and the shortcut once, and the addition
    fails. The block's signature promises a freedom its shortcut does not honour.

    ## Example
    ```python
    self.conv1 = nn.Conv2d(cin, cout, 3, stride=stride[0], padding=1)
    self.conv2 = nn.Conv2d(cout, cout, 3, stride=stride[1], padding=1)
    self.extra = nn.Conv2d(cin, cout, 1, stride=stride[0])
    ```

    Use instead:
    ```python
    self.conv1 = nn.Conv2d(cin, cout, 3, stride=stride, padding=1)
    self.conv2 = nn.Conv2d(cout, cout, 3, stride=1, padding=1)
    self.extra = nn.Conv2d(cin, cout, 1, stride=stride)
    ```
    """

    code = "RN314"
    name = "shortcut-misses-a-stride"
    severity = Severity.WARNING

    def check(self, module: ModuleModel) -> Iterator[Violation]:
        yield from unique(self._check(module))

    def _check(self, module: ModuleModel) -> Iterator[Violation]:
        for instance in module.instances():
            for residual in residuals(instance):
                strided = [
                    (conv, stride)
                    for conv in convs_of(residual.main)
                    if isinstance(stride := conv.arg("stride"), Expr) and stride.constant is None
                ]
                if len({str(stride) for _, stride in strided}) < 2:
                    continue
                for shortcut in residual.shortcuts:
                    yield from _partial(shortcut, strided)


def _partial(shortcut: list, strided: list[tuple[Layer, Expr]]) -> Iterator[Violation]:
    convs = convs_of(shortcut)
    if len(convs) != 1 or not isinstance(stride := convs[0].arg("stride"), Expr):
        return
    covered = [conv for conv, main in strided if str(main) == str(stride)]
    missed = [(conv, main) for conv, main in strided if str(main) != str(stride)]
    if covered and missed:
        conv, main = missed[0]
        yield Violation(
            convs[0].anchor,
            f"the shortcut `{describe(convs[0])}` downsamples by `{stride}` only, but `{describe(conv)}` "
            f"also strides by `{main}`: any `{main}` other than 1 breaks the addition",
            f"keep the block's stride on one conv of the branch, or give the shortcut `{stride} * {main}`",
        )


ShortcutMissesAStride.INVALID = [
    """
import torch.nn as nn
import torch.nn.functional as F
class DownBlock(nn.Module):
    def __init__(self, cin, cout, stride):
        super().__init__()
        self.conv1 = nn.Conv2d(cin, cout, 3, stride=stride[0], padding=1, bias=False)
        self.bn1 = nn.BatchNorm2d(cout)
        self.conv2 = nn.Conv2d(cout, cout, 3, stride=stride[1], padding=1, bias=False)
        self.bn2 = nn.BatchNorm2d(cout)
        self.extra = nn.Sequential(nn.Conv2d(cin, cout, 1, stride=stride[0], bias=False),
                                   nn.BatchNorm2d(cout))
    def forward(self, x):
        out = F.relu(self.bn1(self.conv1(x)))
        return F.relu(self.extra(x) + self.bn2(self.conv2(out)))
"""
]
ShortcutMissesAStride.VALID = [
    """
import torch.nn as nn
import torch.nn.functional as F
class DownBlock(nn.Module):
    def __init__(self, cin, cout, stride):
        super().__init__()
        self.conv1 = nn.Conv2d(cin, cout, 3, stride=stride, padding=1, bias=False)
        self.bn1 = nn.BatchNorm2d(cout)
        self.conv2 = nn.Conv2d(cout, cout, 3, stride=1, padding=1, bias=False)
        self.bn2 = nn.BatchNorm2d(cout)
        self.extra = nn.Sequential(nn.Conv2d(cin, cout, 1, stride=stride, bias=False),
                                   nn.BatchNorm2d(cout))
    def forward(self, x):
        out = F.relu(self.bn1(self.conv1(x)))
        return F.relu(self.extra(x) + self.bn2(self.conv2(out)))
"""
]
