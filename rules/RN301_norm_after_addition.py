"""RN301 norm-after-addition."""

from __future__ import annotations

from collections.abc import Iterator

from reslint.model import ModuleModel
from reslint.model.queries import kind_of, residuals
from reslint.model.values import AddSite, Flow, Step, options
from reslint.rule import Rule, Violation
from reslint.rules_support import unique

# What may sit between the addition and a norm that still normalizes the sum itself.
SHAPE_KEEPING = ("act", "dropout", "identity", "mul")


class NormAfterAddition(Rule):
    """## What it does
    Checks for a BatchNorm applied to the sum of a residual block (after `out += identity`), when the
    normalized sum replaces the trunk (a pre-norm design that only feeds the next branch is fine).

    ## Why is this bad?
    The identity path is meant to carry the block's input unchanged through the network; normalizing
    the sum rescales the shortcut in every block, which is what makes very deep plain networks hard to
    train. In the original (post-activation) ResNet, only ReLU follows the addition; in the
    pre-activation ResNet, nothing does.

    ## Example
    ```python
    out = self.bn3(self.conv3(out))
    out += residual
    out = self.bn3(out)
    out = self.relu(out)
    ```

    Use instead:
    ```python
    out = self.bn3(self.conv3(out))
    out += residual
    out = self.relu(out)
    ```
    """

    code = "RN301"
    name = "norm-after-addition"

    def check(self, module: ModuleModel) -> Iterator[Violation]:
        yield from unique(self._check(module))

    def _check(self, module: ModuleModel) -> Iterator[Violation]:
        for instance in module.instances():
            if instance.forward is None:
                continue  # no forward: no residual either
            reused = _reused_sums(instance.forward)
            for residual in residuals(instance):
                if residual.site in reused:
                    continue  # a pre-norm design: the raw sum stays the trunk, the norm feeds the next branch
                for index, step in enumerate(residual.site.after):
                    kind = kind_of(step)
                    if kind not in ("batchnorm", *SHAPE_KEEPING):
                        break  # the sum went through a conv (or something unknown) first
                    if kind == "batchnorm":
                        if _feeds_a_layer(residual.site.after[index + 1 :]):
                            break  # the norm pre-activates the next layer (BN-ReLU-conv): not the output
                        yield Violation(
                            step.node,
                            f"`{step.text}` normalizes the sum `{module.code(residual.site.node)}`: the shortcut "
                            "no longer carries the input unchanged",
                            "apply the norm to the residual branch before the addition; after it, use only ReLU "
                            "(or nothing, in a pre-activation block)",
                        )
                        break


def _feeds_a_layer(steps: list[Step]) -> bool:
    """The normalized sum goes on into something other than shape-keeping steps: a conv it
    pre-activates (BN-ReLU-conv), or a module reslint cannot see. Either way it is not surely the
    block's output. A layer applied only under a condition forward cannot decide (mmcv's
    `if self.with_plugins: out = self.forward_plugin(out, ...)`) does not count: where the condition
    is false, the normalized sum is what the block returns."""
    return any(kind_of(step) not in SHAPE_KEEPING and not step.guards for step in steps)


def _reused_sums(forward) -> set[AddSite]:
    """The additions whose unnormalized sum itself is added again later or returned (one pass over
    the forward: a sum of n terms holds n additions)."""
    later = [(other, option) for other in forward.adds for option in (*other.left, *other.right)]
    later += [(None, option) for value in forward.returns for option in options(value)]
    return {
        option.origin
        for other, option in later
        if isinstance(option, Flow) and not option.steps and option.origin is not other
    }


NormAfterAddition.INVALID = [
    """
import torch.nn as nn
class Block(nn.Module):
    def __init__(self, c):
        super().__init__()
        self.conv1 = nn.Conv2d(c, c, 3, padding=1, bias=False)
        self.bn1 = nn.BatchNorm2d(c)
        self.bn2 = nn.BatchNorm2d(c)
        self.relu = nn.ReLU()
    def forward(self, x):
        out = self.bn1(self.conv1(x))
        out = out + x
        out = self.bn2(out)
        return self.relu(out)
"""
]
NormAfterAddition.VALID = [
    """
import torch.nn as nn
class Block(nn.Module):
    def __init__(self, c):
        super().__init__()
        self.conv1 = nn.Conv2d(c, c, 3, padding=1, bias=False)
        self.bn1 = nn.BatchNorm2d(c)
        self.relu = nn.ReLU()
    def forward(self, x):
        out = self.bn1(self.conv1(x))
        out = out + x
        return self.relu(out)
"""
]
