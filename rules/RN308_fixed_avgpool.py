"""RN308 fixed-avgpool."""

from __future__ import annotations

from collections.abc import Iterator

from reslint.findings import Severity
from reslint.model import ModuleModel
from reslint.model.queries import describe, kind_of, layer_of, layer_sequences
from reslint.rule import Rule, Violation
from reslint.rules_support import unique

BETWEEN_POOL_AND_CLASSIFIER = {"flatten", "dropout", "identity"}


class FixedAvgPool(Rule):
    """## What it does
    Checks for `nn.AvgPool2d(k)` with a fixed kernel used as the global pool right before the classifier.

    ## Why is this bad?
    `AvgPool2d(7)` averages the whole map only for 224x224 inputs (a 7x7 map after layer4). At 160 px
    the map is 5x5 and the pool fails; at 320 px it is 10x10, the pool leaves a 2x2 map and the
    classifier's `in_features` no longer match. `nn.AdaptiveAvgPool2d((1, 1))` pools any size.

    ## Example
    ```python
    self.avgpool = nn.AvgPool2d(7)
    self.fc = nn.Linear(512 * 4, 1000)
    ```

    Use instead:
    ```python
    self.avgpool = nn.AdaptiveAvgPool2d((1, 1))
    self.fc = nn.Linear(512 * 4, 1000)
    ```
    """

    code = "RN308"
    name = "fixed-avgpool"
    severity = Severity.WARNING

    def check(self, module: ModuleModel) -> Iterator[Violation]:
        yield from unique(self._check(module))

    def _check(self, module: ModuleModel) -> Iterator[Violation]:
        for instance in module.instances():
            for sequence in layer_sequences(instance):
                for index, item in enumerate(sequence):
                    element = layer_of(item)
                    if element is None or element.type_name != "AvgPool2d":
                        continue
                    kernel = element.arg("kernel_size")
                    if getattr(kernel, "constant", None) is None or kernel.constant <= 1:
                        continue
                    if not _feeds_classifier(sequence[index + 1 :]):
                        continue
                    yield Violation(
                        element.anchor,
                        f"`{describe(element)}` is nn.AvgPool2d({kernel}) before the classifier: it pools the "
                        "whole map only for one input size; other sizes fail or reach fc with the wrong width",
                        "use `nn.AdaptiveAvgPool2d((1, 1))`",
                    )


def _feeds_classifier(rest: list) -> bool:
    for element in rest:
        kind = kind_of(element)
        if kind == "linear":
            return True
        if kind not in BETWEEN_POOL_AND_CLASSIFIER:
            return False
    return False


FixedAvgPool.INVALID = [
    """
import torch
import torch.nn as nn
class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.avgpool = nn.AvgPool2d(7)
        self.fc = nn.Linear(2048, 1000)
    def forward(self, x):
        return self.fc(torch.flatten(self.avgpool(x), 1))
"""
]
FixedAvgPool.VALID = [
    """
import torch
import torch.nn as nn
class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.avgpool = nn.AdaptiveAvgPool2d((1, 1))
        self.pool = nn.AvgPool2d(2)
        self.fc = nn.Linear(2048, 1000)
    def forward(self, x):
        x = self.pool(x)
        return self.fc(torch.flatten(self.avgpool(x), 1))
"""
]
