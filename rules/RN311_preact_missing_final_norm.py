"""RN311 preact-missing-final-norm."""

from __future__ import annotations

from collections.abc import Iterator

from reslint.findings import Severity
from reslint.knowledge.layers import NORMS
from reslint.model import ModuleModel
from reslint.model.queries import (
    Element,
    anchor_of,
    describe,
    kind_of,
    layer_of,
    layer_sequences,
    residual_blocks,
    residuals,
)
from reslint.model.values import Layer
from reslint.rule import Rule, Violation
from reslint.rules_support import unique


class PreactMissingFinalNorm(Rule):
    """## What it does
    Checks that a pre-activation residual network (blocks of BN -> ReLU -> conv) normalises and
    rectifies the output of its last stage before the global pool.

    ## Why is this bad?
    A pre-activation block ends with the raw sum: nothing after the last block normalises it. He et
    al. ("Identity Mappings in Deep Residual Networks", 2016) add a final BN + ReLU before pooling;
    without them the classifier sees an un-normalised, un-rectified sum whose scale grows with depth,
    and accuracy drops.

    ## Example
    ```python
    out = self.layer4(out)
    out = F.adaptive_avg_pool2d(out, 1)
    ```

    Use instead:
    ```python
    out = F.relu(self.bn(self.layer4(out)))
    out = F.adaptive_avg_pool2d(out, 1)
    ```
    """

    code = "RN311"
    name = "preact-missing-final-norm"
    severity = Severity.WARNING

    def check(self, module: ModuleModel) -> Iterator[Violation]:
        yield from unique(self._check(module))

    def _check(self, module: ModuleModel) -> Iterator[Violation]:
        for instance in module.instances():
            blocks = residual_blocks(instance)
            if not blocks or not all(
                _pre_activated(block) and _ends_with_raw_sum(block) for block in blocks
            ):
                continue
            chains = layer_sequences(instance)
            if any(_normalised_after_last_block(chain, blocks[-1]) for chain in chains):
                continue  # `if self.preact: out = F.relu(self.bn_last(out))`: a path normalises
            for chain in chains:
                pool = _pool_after_last_block(chain, blocks[-1])
                if pool is not None:
                    yield Violation(
                        anchor_of(pool),
                        f"the pre-activation blocks ({_block_names(blocks)}) end with a raw sum, "
                        f"and `{describe(pool)}` pools "
                        f"the last stage's output with no BN + ReLU before it",
                        "normalise and rectify the last stage's output before pooling "
                        "(`F.relu(self.bn(out))`), as in He et al. 2016",
                    )


def _pre_activated(block: Layer) -> bool:
    """The block's forward normalises its input before its first conv (the pre-activation shared by
    the branch and the shortcut counts)."""
    forward = block.instance.forward if block.instance is not None else None
    if forward is None:
        return False
    for step in forward.steps:
        kind = kind_of(step)
        layer = layer_of(step)
        while kind == "sequential" and layer is not None and layer.children:
            # `self.residual = nn.Sequential(nn.BatchNorm2d(c), nn.ReLU(), conv, ...)`: its first part.
            layer = layer.children[0]
            kind = layer.kind
        if kind in NORMS:
            return True
        if kind in ("conv", "linear", "block", "call", "unknown"):
            return False
    return False


def _ends_with_raw_sum(block: Layer) -> bool:
    """No activation after the block's sums (`return relu(out + shortcut)` after a pre-activated
    input is a hybrid whose output is already rectified)."""
    instance = block.instance
    return instance is not None and not any(
        kind_of(element) == "act" for residual in residuals(instance) for element in residual.after
    )


def _block_names(blocks: list[Layer]) -> str:
    """The block classes in the user's words: a network built in another file names its blocks there."""
    return ", ".join(f"`{name}`" for name in sorted({block.type_name for block in blocks}))


def _normalised_after_last_block(chain: list[Element], last: Layer) -> bool:
    """The chain goes from the last block through a norm before any global pool."""
    position = next((i for i, e in enumerate(chain) if layer_of(e) is last), None)
    for element in chain[position + 1 :] if position is not None else ():
        kind = kind_of(element)
        if kind in NORMS:
            return True
        if kind in ("globalpool", "avgpool"):
            return False
    return False


def _pool_after_last_block(chain: list[Element], last: Layer) -> Element | None:
    """The global pool the chain reaches from the last block with only activations (or nothing)
    between: no norm."""
    position = next((i for i, e in enumerate(chain) if layer_of(e) is last), None)
    if position is None:
        return None
    for element in chain[position + 1 :]:
        kind = kind_of(element)
        if kind in ("globalpool", "avgpool"):
            return element
        if kind not in ("act", "dropout", "identity"):
            return None
    return None


PreactMissingFinalNorm.INVALID = [
    """
import torch.nn as nn
import torch.nn.functional as F
class PreActBlock(nn.Module):
    def __init__(self, c):
        super().__init__()
        self.bn1 = nn.BatchNorm2d(c)
        self.conv1 = nn.Conv2d(c, c, 3, padding=1, bias=False)
        self.bn2 = nn.BatchNorm2d(c)
        self.conv2 = nn.Conv2d(c, c, 3, padding=1, bias=False)
    def forward(self, x):
        out = self.conv1(F.relu(self.bn1(x)))
        out = self.conv2(F.relu(self.bn2(out)))
        return out + x
class PreActResNet(nn.Module):
    def __init__(self):
        super().__init__()
        self.conv1 = nn.Conv2d(3, 64, 3, padding=1, bias=False)
        self.layer1 = nn.Sequential(PreActBlock(64), PreActBlock(64))
        self.linear = nn.Linear(64, 10)
    def forward(self, x):
        out = self.layer1(self.conv1(x))
        out = F.adaptive_avg_pool2d(out, 1)
        return self.linear(out.flatten(1))
"""
]
PreactMissingFinalNorm.VALID = [
    """
import torch.nn as nn
import torch.nn.functional as F
class PreActBlock(nn.Module):
    def __init__(self, c):
        super().__init__()
        self.bn1 = nn.BatchNorm2d(c)
        self.conv1 = nn.Conv2d(c, c, 3, padding=1, bias=False)
        self.bn2 = nn.BatchNorm2d(c)
        self.conv2 = nn.Conv2d(c, c, 3, padding=1, bias=False)
    def forward(self, x):
        out = self.conv1(F.relu(self.bn1(x)))
        out = self.conv2(F.relu(self.bn2(out)))
        return out + x
class PreActResNet(nn.Module):
    def __init__(self):
        super().__init__()
        self.conv1 = nn.Conv2d(3, 64, 3, padding=1, bias=False)
        self.layer1 = nn.Sequential(PreActBlock(64), PreActBlock(64))
        self.bn = nn.BatchNorm2d(64)
        self.linear = nn.Linear(64, 10)
    def forward(self, x):
        out = F.relu(self.bn(self.layer1(self.conv1(x))))
        out = F.adaptive_avg_pool2d(out, 1)
        return self.linear(out.flatten(1))
"""
]
