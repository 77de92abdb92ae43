"""RN303 activation-in-shortcut."""

from __future__ import annotations

from collections.abc import Iterator

from reslint.model import ModuleModel
from reslint.model.queries import anchor_of, describe, kind_of, residuals
from reslint.rule import Rule, Violation
from reslint.rules_support import unique

WEIGHTED = {"conv", "linear", "block"}


class ActivationInShortcut(Rule):
    """## What it does
    Checks for a ReLU (or other activation) inside the shortcut / downsample path of a residual block.

    ## Why is this bad?
    The shortcut must be linear — identity, or a 1x1 projection with its BatchNorm — so that the
    block can represent the identity and gradients pass unchanged. A ReLU there zeroes every negative
    value of the skipped signal in each projection block (He et al., "Identity Mappings in Deep
    Residual Networks", 2016).

    ## Example
    ```python
    downsample = nn.Sequential(
        nn.Conv2d(inchannel, outchannel, kernel_size=1, stride=stride, bias=False),
        nn.BatchNorm2d(outchannel),
        nn.ReLU(inplace=True),
    )
    ```

    Use instead:
    ```python
    downsample = nn.Sequential(
        nn.Conv2d(inchannel, outchannel, kernel_size=1, stride=stride, bias=False),
        nn.BatchNorm2d(outchannel),
    )
    ```
    """

    code = "RN303"
    name = "activation-in-shortcut"

    def check(self, module: ModuleModel) -> Iterator[Violation]:
        yield from unique(self._check(module))

    def _check(self, module: ModuleModel) -> Iterator[Violation]:
        for instance in module.instances():
            for residual in residuals(instance):
                for shortcut, steps in zip(residual.shortcuts, residual.shortcut_steps):
                    name = steps[0].text if steps else "shortcut"
                    # A pre-activation projection (BN -> ReLU -> conv, DPN's) rectifies the input
                    # of its conv, not the shortcut's output: only activations after it count.
                    weighted = [i for i, e in enumerate(shortcut) if kind_of(e) in WEIGHTED]
                    after = weighted[-1] + 1 if weighted else 0
                    for element in shortcut[after:]:
                        if kind_of(element) != "act":
                            continue
                        yield Violation(
                            anchor_of(element),
                            f"the shortcut `{name}` applies `{describe(element)}`: the skip path must stay "
                            "linear (identity, or conv + norm)",
                            "remove the activation from the shortcut; apply ReLU after the addition instead",
                        )


ActivationInShortcut.INVALID = [
    """
import torch.nn as nn
class Block(nn.Module):
    def __init__(self, cin, cout):
        super().__init__()
        self.conv = nn.Conv2d(cin, cout, 3, padding=1, bias=False)
        self.bn = nn.BatchNorm2d(cout)
        self.shortcut = nn.Sequential(nn.Conv2d(cin, cout, 1, bias=False), nn.BatchNorm2d(cout), nn.ReLU())
    def forward(self, x):
        return self.bn(self.conv(x)) + self.shortcut(x)
"""
]
ActivationInShortcut.VALID = [
    """
import torch.nn as nn
class Block(nn.Module):
    def __init__(self, cin, cout):
        super().__init__()
        self.conv = nn.Conv2d(cin, cout, 3, padding=1, bias=False)
        self.bn = nn.BatchNorm2d(cout)
        self.relu = nn.ReLU()
        self.shortcut = nn.Sequential(nn.Conv2d(cin, cout, 1, bias=False), nn.BatchNorm2d(cout))
    def forward(self, x):
        return self.relu(self.bn(self.conv(x)) + self.shortcut(x))
""",
    """
import torch.nn as nn
class ConvPosEnc(nn.Module):
    # the residual branch happens to be called `proj`: it is still the main branch, not a projection shortcut
    def __init__(self, dim):
        super().__init__()
        self.proj = nn.Conv2d(dim, dim, 3, padding=1, groups=dim)
        self.act = nn.GELU()
    def forward(self, x):
        return x + self.act(self.proj(x))
""",
]
