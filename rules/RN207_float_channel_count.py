"""RN207 float-channel-count."""

from __future__ import annotations

from collections.abc import Iterator

from reslint.model import ModuleModel
from reslint.model.queries import describe
from reslint.rule import Rule, Violation
from reslint.rules_support import unique

# The argument that holds each layer kind's channel counts.
CHANNEL_ARGUMENTS = {
    "conv": ("in_channels", "out_channels"),
    "batchnorm": ("num_features",),
    "linear": ("in_features", "out_features"),
}


class FloatChannelCount(Rule):
    """## What it does
    Checks for a layer whose channel count is computed with a true division `/` that nothing turns
    back into an integer: `width = planes * (base_width / 64) * groups` given to `nn.Conv2d`.

    ## Why is this bad?
    In Python 3 `/` always gives a float, even when it divides evenly, and torch refuses a float
    size: building the model raises `TypeError` (`empty(): argument 'size' ... must be tuple of
    ints`). torchvision writes `int(planes * (base_width / 64.0)) * groups` for this reason.

    ## Example
    ```python
    width = planes * (base_width / 64) * groups
    self.conv1 = nn.Conv2d(inplanes, width, kernel_size=1, bias=False)
    ```

    Use instead:
    ```python
    width = int(planes * (base_width / 64)) * groups
    self.conv1 = nn.Conv2d(inplanes, width, kernel_size=1, bias=False)
    ```
    """

    code = "RN207"
    name = "float-channel-count"

    def check(self, module: ModuleModel) -> Iterator[Violation]:
        yield from unique(self._check(module))

    def _check(self, module: ModuleModel) -> Iterator[Violation]:
        reported: set[tuple[int, str]] = set()  # one finding per class and size: the first layer
        for instance in module.instances():
            for layer in instance.layers().values():
                for inner in layer.walk():
                    for name in CHANNEL_ARGUMENTS.get(str(inner.kind), ()):
                        size = inner.expr(name)
                        key = (id(instance.cls), str(size))
                        if size is None or not size.is_float or key in reported:
                            continue
                        reported.add(key)
                        shown = f"`{size}`"
                        if size.formula != str(size):
                            shown += f" (= `{size.formula}`)"
                        yield Violation(
                            inner.anchor,
                            f"`{describe(inner)}` gets {shown} as its `{name}`: the `/` in it "
                            "makes a float, and torch raises TypeError for a float size",
                            f"make it an integer: `int({size})`, or divide with `//`",
                        )


FloatChannelCount.INVALID = [
    """
import torch.nn as nn
class Bottleneck(nn.Module):
    expansion = 4
    def __init__(self, inplanes, planes, stride=1, groups=1, base_width=64):
        super().__init__()
        width = planes * (base_width / 64) * groups
        self.conv1 = nn.Conv2d(inplanes, width, kernel_size=1, bias=False)
        self.bn1 = nn.BatchNorm2d(width)
    def forward(self, x):
        return self.bn1(self.conv1(x))
"""
]
FloatChannelCount.VALID = [
    """
import torch.nn as nn
class Bottleneck(nn.Module):
    expansion = 4
    def __init__(self, inplanes, planes, stride=1, groups=1, base_width=64):
        super().__init__()
        width = int(planes * (base_width / 64.0)) * groups
        self.conv1 = nn.Conv2d(inplanes, width, kernel_size=1, bias=False)
        self.bn1 = nn.BatchNorm2d(width)
        self.conv2 = nn.Conv2d(width, planes // 2, kernel_size=1, bias=False)
    def forward(self, x):
        return self.conv2(self.bn1(self.conv1(x)))
"""
]
