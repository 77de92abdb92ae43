"""RN302 norm-reused."""

from __future__ import annotations

from typing import Iterator

from reslint.model import ModuleModel
from reslint.model.values import AddSite, Flow, Step, options
from reslint.rule import Rule, Violation
from reslint.rules_support import unique

NORMS = ("batchnorm",)  # running statistics make reuse wrong; a shared LayerNorm is a design choice


class NormReused(Rule):
    """## What it does
    Checks for one BatchNorm module applied twice along the same tensor's path in one forward pass.

    ## Why is this bad?
    A BatchNorm layer owns one set of running statistics and one affine transform. Calling it at two
    places mixes the statistics of two different distributions (before and after the addition), so the
    model behaves differently in eval mode than it trained, and the two places cannot learn separate
    scales.

    ## Example
    ```python
    out = self.bn3(self.conv3(out))
    out += residual
    out = self.bn3(out)
    ```

    Use instead:
    ```python
    out = self.bn3(self.conv3(out))
    out += residual
    out = self.relu(out)
    ```
    """

    code = "RN302"
    name = "norm-reused"

    def check(self, module: ModuleModel) -> Iterator[Violation]:
        yield from unique(self._check(module))

    def _check(self, module: ModuleModel) -> Iterator[Violation]:
        for instance in module.instances():
            forward = instance.forward
            if forward is None:
                continue
            for value in forward.returns:
                for flow in options(value):
                    if isinstance(flow, Flow):
                        for path in _lineages(flow):
                            yield from _reuses(path, module)


MAX_PATHS = 16


def _lineages(flow: Flow, depth: int = 0) -> list[list[Step]]:
    """The steps that produced this tensor, oldest first, through residual additions: one list per
    combination of the alternatives an `if` in forward created (they never run together)."""
    own = list(flow.steps)
    if not isinstance(flow.origin, AddSite) or depth >= 32:
        return [own]
    sides = []
    for side in (flow.origin.left, flow.origin.right):
        paths = [path for option in side if isinstance(option, Flow) for path in _lineages(option, depth + 1)]
        sides.append(paths or [[]])
    return [left + right + own for left in sides[0] for right in sides[1]][:MAX_PATHS]


def _reuses(steps: list[Step], module: ModuleModel) -> Iterator[Violation]:
    first_call: dict[int, Step] = {}
    for step in steps:
        layer = step.layer
        if layer is None or layer.kind not in NORMS:
            continue
        seen = first_call.get(id(layer))
        if seen is None:
            first_call[id(layer)] = step
        elif seen.node is not step.node:
            yield Violation(
                step.node,
                f"`{step.text}` is called a second time in forward (first on line {module.line_of(seen.node)}): "
                "one norm layer, two different inputs, one set of running statistics",
                f"give the second place its own norm layer, or drop it",
            )


NormReused.INVALID = [
    """
import torch.nn as nn
class Block(nn.Module):
    def __init__(self, c):
        super().__init__()
        self.conv = nn.Conv2d(c, c, 3, padding=1, bias=False)
        self.bn = nn.BatchNorm2d(c)
    def forward(self, x):
        out = self.bn(self.conv(x))
        out = self.bn(out)
        return out
"""
]
NormReused.VALID = [
    """
import torch.nn as nn
class Block(nn.Module):
    def __init__(self, c):
        super().__init__()
        self.conv = nn.Conv2d(c, c, 3, padding=1, bias=False)
        self.bn1 = nn.BatchNorm2d(c)
        self.bn2 = nn.BatchNorm2d(c)
    def forward(self, x):
        out = self.bn1(self.conv(x))
        out = self.bn2(self.conv(out))
        return out
"""
]
