"""RN302 norm-reused."""

from __future__ import annotations

from collections.abc import Iterator

from reslint.model import ModuleModel
from reslint.model.values import Step, compatible
from reslint.rule import Rule, Violation
from reslint.rules_support import unique

NORMS = ("batchnorm",)  # running statistics make reuse wrong; a shared LayerNorm is a design choice


class NormReused(Rule):
    """## What it does
    Checks for one BatchNorm module called at two places that both run in one forward pass (on the
    branch and again after the addition, or on both the branch and the shortcut).

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
    defers_to = ("RN301",)  # the second call normalizes the sum: RN301 names the cause
    name = "norm-reused"

    def check(self, module: ModuleModel) -> Iterator[Violation]:
        yield from unique(self._check(module))

    def _check(self, module: ModuleModel) -> Iterator[Violation]:
        for instance in module.instances():
            forward = instance.forward
            if forward is None:
                continue
            calls: dict[int, list[Step]] = {}
            for step in forward.steps:
                if step.layer is not None and step.layer.kind in NORMS:
                    calls.setdefault(id(step.layer), []).append(step)
            for steps in calls.values():
                yield from _reuses(steps, module)


def _reuses(steps: list[Step], module: ModuleModel) -> Iterator[Violation]:
    """A later call of the layer at another place that runs in the same forward pass (not in the
    other branch of an `if`)."""
    for index, later in enumerate(steps[1:], 1):
        first = next(
            (
                s
                for s in steps[:index]
                if s.node is not later.node and compatible(s.guards, later.guards)
            ),
            None,
        )
        if first is not None:
            yield Violation(
                later.node,
                f"`{later.text}` is called a second time in forward (first on line {module.line_of(first.node)}): "
                "one norm layer, two different inputs, one set of running statistics",
                "give the second place its own norm layer, or drop it",
                defers_to=(("RN301", later.node),),
            )
            return


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
