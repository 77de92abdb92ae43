"""RN313 output-discarded."""

from __future__ import annotations

from collections.abc import Iterator

import libcst as cst

from reslint.model import ModuleModel
from reslint.model.stores import assigned_name, names_read
from reslint.model.walk import descendants
from reslint.rule import Rule, Violation


class OutputDiscarded(Rule):
    """## What it does
    Checks forward (and the methods it runs, `self._forward`) for a layer's output that is assigned
    and then overwritten before anything reads it: `out = self.bn2(out)` followed by
    `out = self.relu(x)`, which reads the block input again, also when the overwrite sits in the
    branch of an `if` right after the chain
    (`out += residual` then `if self.final_relu: out = self.relu(x)`).

    ## Why is this bad?
    The overwritten layer still runs (and still has weights), but its result never reaches the
    output: the block silently skips it, usually because a copy-pasted line kept `x` where `out` was
    meant. Shapes often still match, so nothing fails.

    ## Example
    ```python
    out = self.conv1(x)
    out = self.conv2(x)
    ```

    Use instead:
    ```python
    out = self.conv1(x)
    out = self.conv2(out)
    ```
    """

    code = "RN313"
    name = "output-discarded"
    # `x = nn.Linear(64, n)` after `x = torch.flatten(x, 1)`: the layer built in forward (RN112) is
    # the cause; the discarded output follows from it.
    defers_to = ("RN112",)

    def check(self, module: ModuleModel) -> Iterator[Violation]:
        for function in module.forward_and_helpers():
            for store in module.liveness(function).overwritten:
                computed = _computation(store.first)
                if computed is None:
                    continue  # a plain value overwritten: a default, not a computation
                first = module.code(computed)
                yield Violation(
                    store.second,
                    f"`{store.name}` is assigned again before `{first}` (line "
                    f"{module.line_of(store.first)}) is read: that output is discarded",
                    f"feed `{store.name}` on: `{module.code(store.second.value)}` probably "
                    f"meant to read `{store.name}`",
                    defers_to=(("RN112", store.second.value),),
                )
            for store in module.liveness(function).overwritten_in_branch:
                yield Violation(
                    store.second,
                    f"`{store.name}` is assigned anew in this branch before "
                    f"`{module.code(_chained(store.first))}` (line "
                    f"{module.line_of(store.first)}) is read: whenever the branch runs, the "
                    "network's output skips that computation",
                    f"feed `{store.name}` on: `{module.code(store.second.value)}` probably "
                    f"meant to read `{store.name}`",
                )


def _computation(first: cst.Assign | cst.AugAssign) -> cst.CSTNode | None:
    """What a dead store throws away: an expression that calls something (`self.conv1(x)`,
    `self.se(out) + shortcut`), a step of the name's own chain (`out = out * self.scale + x`), or
    a whole `out += identity`."""
    if isinstance(first, cst.AugAssign):
        return first
    calls = any(isinstance(node, cst.Call) for node in descendants(first.value))
    chained = assigned_name(first) in names_read(first.value)
    return first.value if calls or chained else None


def _chained(first: cst.Assign | cst.AugAssign) -> cst.CSTNode:
    """What a step of a chain computes, as written: the value, or a whole `out += identity`."""
    return first if isinstance(first, cst.AugAssign) else first.value


OutputDiscarded.INVALID = [
    """
import torch.nn as nn
class Block(nn.Module):
    def __init__(self, c):
        super().__init__()
        self.conv1 = nn.Conv2d(c, c, 3, padding=1)
        self.conv2 = nn.Conv2d(c, c, 3, padding=1)
    def forward(self, x):
        out = self.conv1(x)
        out = self.conv2(x)
        return out + x
"""
]
OutputDiscarded.VALID = [
    """
import torch.nn as nn
class Block(nn.Module):
    def __init__(self, c):
        super().__init__()
        self.conv1 = nn.Conv2d(c, c, 3, padding=1)
        self.conv2 = nn.Conv2d(c, c, 3, padding=1)
    def forward(self, x):
        out = None
        out = self.conv1(x)
        out = self.conv2(out)
        return out + x
"""
]
