"""RN205 inplanes-not-updated."""

from __future__ import annotations

from collections.abc import Iterator

from reslint.model import ModuleModel
from reslint.model.queries import stale_running_channels
from reslint.rule import Rule, Violation


class InplanesNotUpdated(Rule):
    """## What it does
    Checks layer-builder methods (`_make_layer`) that build blocks from a running channel count such
    as `self.inplanes` but never update it.

    ## Why is this bad?
    Every stage is then built for the stem's 64 input channels: the second block of a stage, and
    every later stage, receive tensors with more channels than their first convolution expects.

    ## Example
    ```python
    def _make_layer(self, block, planes, blocks, stride=1):
        layers = [block(self.inplanes, planes, stride, downsample)]
        for _ in range(1, blocks):
            layers.append(block(self.inplanes, planes))
        return nn.Sequential(*layers)
    ```

    Use instead:
    ```python
    def _make_layer(self, block, planes, blocks, stride=1):
        layers = [block(self.inplanes, planes, stride, downsample)]
        self.inplanes = planes * block.expansion
        for _ in range(1, blocks):
            layers.append(block(self.inplanes, planes))
        return nn.Sequential(*layers)
    ```
    """

    code = "RN205"
    name = "inplanes-not-updated"

    def check(self, module: ModuleModel) -> Iterator[Violation]:
        for cls in module.module_classes:
            for attribute, method in stale_running_channels(cls, module).items():
                yield Violation(
                    method.name,
                    f"`{method.name.value}` builds blocks from `self.{attribute}` but never updates it, so "
                    "every block is built for the same input channels",
                    f"after the first block, set `self.{attribute} = planes * block.expansion` "
                    "(the block's output channels)",
                )


InplanesNotUpdated.INVALID = [
    """
import torch.nn as nn
class ResNet(nn.Module):
    def __init__(self, block):
        super().__init__()
        self.inplanes = 64
        self.layer1 = self._make_layer(block, 64, 2)
    def _make_layer(self, block, planes, blocks):
        layers = [block(self.inplanes, planes)]
        for _ in range(1, blocks):
            layers.append(block(self.inplanes, planes))
        return nn.Sequential(*layers)
    def forward(self, x):
        return self.layer1(x)
"""
]
InplanesNotUpdated.VALID = [
    """
import torch.nn as nn
class ResNet(nn.Module):
    def __init__(self, block):
        super().__init__()
        self.inplanes = 64
        self.layer1 = self._make_layer(block, 64, 2)
    def _make_layer(self, block, planes, blocks):
        layers = [block(self.inplanes, planes)]
        self.inplanes = planes * block.expansion
        for _ in range(1, blocks):
            layers.append(block(self.inplanes, planes))
        return nn.Sequential(*layers)
    def forward(self, x):
        return self.layer1(x)
"""
]
