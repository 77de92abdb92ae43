"""RN308 fixed-avgpool."""

from __future__ import annotations

from collections.abc import Iterator

import libcst as cst

from reslint.findings import Applicability, Severity
from reslint.model import ModuleModel
from reslint.model.queries import (
    anchor_of,
    built_for_imagenet,
    describe,
    kind_of,
    layer_of,
    layer_sequences,
)
from reslint.rule import Edit, Fix, Rule, Violation
from reslint.rules_support import unique, written_name

BETWEEN_POOL_AND_CLASSIFIER = {"flatten", "dropout", "identity"}


class FixedAvgPool(Rule):
    """## What it does
    Checks for a fixed-size average pool (`nn.AvgPool2d(7)`, `F.avg_pool2d(x, 7)`) used as the global
    pool right before the classifier of a network built for ImageNet-size inputs.

    ## Why is this bad?
    `AvgPool2d(7)` averages the whole map only for 224x224 inputs (a 7x7 map after layer4). At 160 px
    the map is 5x5 and the pool fails; at 320 px it is 10x10, the pool leaves a 2x2 map and the
    classifier's `in_features` no longer match. `nn.AdaptiveAvgPool2d((1, 1))` pools any size.

    The policy: a warning where the network is built for ImageNet-size inputs (a 7x7 stride-2 stem,
    any stride-2 or max-pooling stem, or a stated 224/299 input). A CIFAR network (3x3 stride-1 stem,
    no max-pool) is built for one input size, 32x32, and its `AvgPool2d(8)` or `F.avg_pool2d(out, 4)`
    is a deliberate choice: silence there, and wherever reslint cannot tell the stem.

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
    fixable = Applicability.UNSAFE
    severity = Severity.WARNING

    def check(self, module: ModuleModel) -> Iterator[Violation]:
        yield from unique(self._check(module))

    def _check(self, module: ModuleModel) -> Iterator[Violation]:
        for instance in module.instances():
            for sequence in layer_sequences(instance):
                for index, item in enumerate(sequence):
                    kernel = _fixed_kernel(item)
                    if kernel is None or not _feeds_classifier(sequence[index + 1 :]):
                        continue
                    if built_for_imagenet(instance) is not True:
                        continue
                    layer = layer_of(item)
                    window = (
                        f"{kernel}x{kernel}" if kernel.isdigit() else f"`{kernel}` x `{kernel}`"
                    )
                    yield Violation(
                        layer.anchor if layer is not None else anchor_of(item),
                        f"`{describe(item)}` averages a fixed {window} window before the classifier: "
                        f"it pools the whole map only when the last map is exactly {window}, at the "
                        "input size the network is built for; other sizes fail, reach the classifier "
                        "with the wrong width, or leave part of the map out",
                        "use `nn.AdaptiveAvgPool2d((1, 1))` (or `F.adaptive_avg_pool2d(x, 1)`)",
                        fix=_adaptive(item, module),
                    )


def _fixed_kernel(item) -> str | None:
    """The kernel of `nn.AvgPool2d(k)` or `F.avg_pool2d(x, k)` when it is a number above 1."""
    layer = layer_of(item)
    if layer is not None:
        kernel = layer.arg("kernel_size") if layer.type_name == "AvgPool2d" else None
    else:
        kernel = item.args[0] if kind_of(item) == "avgpool" and item.args else None
    constant = getattr(kernel, "constant", None)
    return str(kernel) if constant is not None and constant > 1 else None


def _adaptive(item, module: ModuleModel) -> Fix | None:
    """`nn.AvgPool2d(7)` -> `nn.AdaptiveAvgPool2d((1, 1))` where it is built (not in a helper other
    layers may share); `F.avg_pool2d(x, 7)` -> `F.adaptive_avg_pool2d(x, 1)`."""
    layer = layer_of(item)
    if layer is not None:
        adaptive = written_name(module, "torch.nn.AdaptiveAvgPool2d")
        if layer.site is not None or not isinstance(layer.node, cst.Call) or adaptive is None:
            return None
        return Fix.replace(layer.node, f"{adaptive}((1, 1))")
    call = anchor_of(item)
    if not isinstance(call, cst.Call) or len(call.args) != 2 or any(a.keyword for a in call.args):
        return None
    function = module.imports.qualified(call.func)
    if function is None or not function.endswith(".avg_pool2d"):
        return None
    adaptive = written_name(module, "torch.nn.functional.adaptive_avg_pool2d")
    if adaptive is None:
        return None
    return Fix((Edit(call.func, adaptive), Edit(call.args[1].value, "1")))


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
        self.conv1 = nn.Conv2d(3, 2048, kernel_size=7, stride=2, padding=3, bias=False)
        self.avgpool = nn.AvgPool2d(7)
        self.fc = nn.Linear(2048, 1000)
    def forward(self, x):
        return self.fc(torch.flatten(self.avgpool(self.conv1(x)), 1))
""",
    """
import torch.nn as nn
import torch.nn.functional as F
class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.conv1 = nn.Conv2d(3, 512, kernel_size=3, stride=2, padding=1, bias=False)
        self.maxpool = nn.MaxPool2d(3, 2, 1)
        self.fc = nn.Linear(512, 1000)
    def forward(self, x):
        x = self.maxpool(self.conv1(x))
        return self.fc(F.avg_pool2d(x, 7).flatten(1))
""",
]
FixedAvgPool.FIXED = [
    FixedAvgPool.INVALID[0].replace("nn.AvgPool2d(7)", "nn.AdaptiveAvgPool2d((1, 1))"),
    FixedAvgPool.INVALID[1].replace("F.avg_pool2d(x, 7)", "F.adaptive_avg_pool2d(x, 1)"),
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
""",
    """
import torch.nn as nn
import torch.nn.functional as F
class CifarNet(nn.Module):
    def __init__(self):
        super().__init__()
        self.conv1 = nn.Conv2d(3, 64, kernel_size=3, stride=1, padding=1, bias=False)
        self.linear = nn.Linear(64, 10)
    def forward(self, x):
        out = F.avg_pool2d(self.conv1(x), 4)
        return self.linear(out.view(out.size(0), -1))
""",
]
