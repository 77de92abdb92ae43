"""RN319 detached-branch."""

from __future__ import annotations

from collections.abc import Iterator

import libcst as cst

from reslint.model import ModuleModel
from reslint.model.queries import Element, residuals
from reslint.model.values import Step
from reslint.rule import Rule, Violation
from reslint.rules_support import unique

# Tensor methods that cut a value from the autograd graph.
DETACHING = {"detach", "detach_"}


class DetachedBranch(Rule):
    """## What it does
    Checks residual blocks for a main branch that detaches its tensor (`x.detach()`,
    `x.clone().detach()`) on its way to the addition, while the shortcut does not.

    ## Why is this bad?
    `detach()` stops the gradient: nothing before it learns through the branch. Detached at the
    block's input, the branch's own layers still train, but every layer before the block gets its
    gradient through the shortcut alone, as if the branch were not there; detached in the middle,
    the layers before the cut never train at all. A copy made to keep the input from being changed in
    place is `x.clone()`, which keeps the gradient.

    ## Example
    ```python
    def forward(self, x):
        out = self.body(x.clone().detach())
        return self.relu(out + self.shortcut(x))
    ```

    Use instead:
    ```python
    def forward(self, x):
        out = self.body(x)
        return self.relu(out + self.shortcut(x))
    ```
    """

    code = "RN319"
    name = "detached-branch"

    def check(self, module: ModuleModel) -> Iterator[Violation]:
        yield from unique(self._check(module))

    def _check(self, module: ModuleModel) -> Iterator[Violation]:
        # Claimed only where every configuration of the sum detaches every alternative of its branch.
        holds: dict[int, bool] = {}
        found: dict[int, Step] = {}
        for instance in module.instances():
            for residual in residuals(instance):
                key = id(residual.site.node)
                cuts = [_detaching(main) for main in residual.mains]
                shortcut_cut = any(_detaching(list(steps)) for steps in residual.shortcut_steps)
                first = cuts[0] if cuts else None
                if first is None or None in cuts or shortcut_cut:
                    holds[key] = False
                    continue
                holds.setdefault(key, True)
                found.setdefault(key, first)
        for key, step in found.items():
            if holds[key]:
                yield Violation(
                    step.node,
                    f"`{module.code(step.node)}` detaches the residual branch from the graph: "
                    "nothing before it learns through the branch, only through the shortcut",
                    "drop `.detach()` (use `.clone()` alone for a copy)",
                )


def _detaching(elements: list[Element]) -> Step | None:
    """The first step of a branch that detaches its tensor (`.detach()`), if any."""
    for element in elements:
        if isinstance(element, Step) and _detaches(element.node):
            return element
    return None


def _detaches(node: cst.CSTNode) -> bool:
    """`x.detach()`; not `(z_q - z).detach()`, a difference detached to be added back to `z`: the
    straight-through estimator of vector quantisers, which passes the gradient on through `z` on
    purpose."""
    return (
        isinstance(node, cst.Call)
        and isinstance(node.func, cst.Attribute)
        and node.func.attr.value in DETACHING
        and not (
            isinstance(node.func.value, cst.BinaryOperation)
            and isinstance(node.func.value.operator, cst.Subtract)
        )
    )


DetachedBranch.INVALID = [
    """
import torch.nn as nn
class Block(nn.Module):
    def __init__(self, c_in, c_out):
        super().__init__()
        self.body = nn.Sequential(
            nn.Conv2d(c_in, c_out, 3, padding=1, bias=False), nn.BatchNorm2d(c_out), nn.ReLU(),
            nn.Conv2d(c_out, c_out, 3, padding=1, bias=False), nn.BatchNorm2d(c_out),
        )
        self.shortcut = nn.Conv2d(c_in, c_out, 1, bias=False)
        self.relu = nn.ReLU()
    def forward(self, x):
        out = self.body(x.clone().detach())
        return self.relu(out + self.shortcut(x))
""",
]

DetachedBranch.VALID = [
    DetachedBranch.INVALID[0].replace("x.clone().detach()", "x.clone()"),
    """
import torch.nn as nn
class TargetMix(nn.Module):
    def __init__(self, c):
        super().__init__()
        self.proj = nn.Conv2d(c, c, 1)
    def forward(self, x):
        frozen = x.detach()
        return self.proj(frozen) + frozen
""",
    """
import torch.nn as nn
class Quantizer(nn.Module):
    def __init__(self, n, c):
        super().__init__()
        self.codebook = nn.Embedding(n, c)
    def forward(self, z):
        z_q = self.codebook(z.argmax(1))
        return z + (z_q - z).detach()
""",
]
