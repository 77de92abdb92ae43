"""RN203 conv-bias-before-norm."""

from __future__ import annotations

from collections.abc import Iterator

import libcst as cst

from reslint.findings import Applicability, Severity
from reslint.model import ModuleModel
from reslint.model.queries import describe, direct_pairs, kind_of, layer_of, layer_sequences
from reslint.model.values import Layer
from reslint.rule import Edit, Fix, Rule, Violation
from reslint.rules_support import unique


class ConvBiasBeforeNorm(Rule):
    """## What it does
    Checks for a convolution with a bias (`bias=True`, or `bias` left at its default, which is True)
    whose output goes straight into a BatchNorm wherever it is used (a norm applied only `if
    self.use_bn`, or a shared conv that also feeds an activation, keeps its bias useful).

    ## Why is this bad?
    BatchNorm subtracts the per-channel mean, so a constant bias added just before it is cancelled:
    the bias parameters are dead weight (ResNet-50 carries 26,560 of them: the parameter count no
    longer matches the paper or torchvision, and pretrained weights do not load).

    ## Example
    ```python
    self.conv1 = nn.Conv2d(in_channels, out_channels, kernel_size=3, stride=stride, padding=1)
    self.bn1 = nn.BatchNorm2d(out_channels)
    ```

    Use instead:
    ```python
    self.conv1 = nn.Conv2d(in_channels, out_channels, kernel_size=3, stride=stride, padding=1, bias=False)
    self.bn1 = nn.BatchNorm2d(out_channels)
    ```
    """

    code = "RN203"
    name = "conv-bias-before-norm"
    fixable = Applicability.SAFE
    severity = Severity.WARNING

    def check(self, module: ModuleModel) -> Iterator[Violation]:
        yield from unique(self._check(module))

    def _check(self, module: ModuleModel) -> Iterator[Violation]:
        for conv, norm in _always_normalised(module):
            if conv.arg("bias") is not True:
                continue
            written = _written_bias(conv)
            if written not in (None, "True"):
                continue  # `bias=self.use_bias`: configurable by design, not always wasted
            yield Violation(
                conv.anchor,
                f"`{describe(conv)}` has a bias "
                f"({'bias=True' if written else 'bias defaults to True'}) "
                f"but `{describe(norm)}` right after it subtracts the mean, so the bias is wasted",
                "pass `bias=False` to this convolution",
                fix=_fix(conv),
            )


def _always_normalised(module: ModuleModel) -> Iterator[tuple[Layer, Layer]]:
    """Each conv (by where it is written) that goes straight into a BatchNorm on every path of every
    configuration that runs it, with one such norm: a norm applied only `if self.use_bn`, or a helper
    conv whose other uses feed an activation or a gate, keeps the bias useful there."""
    first_norm: dict[int, tuple[Layer, Layer]] = {}
    unnormalised: set[int] = set()
    for instance in module.instances():
        for sequence in layer_sequences(instance):
            for first, second in direct_pairs(sequence):
                conv, follower = layer_of(first), layer_of(second)
                if conv is None or conv.kind != "conv" or kind_of(second) in UNREAD:
                    continue
                if follower is not None and follower.kind == "batchnorm":
                    first_norm.setdefault(id(conv.anchor), (conv, follower))
                else:
                    unnormalised.add(id(conv.anchor))
    for key, pair in first_norm.items():
        if key not in unnormalised:
            yield pair


# Steps that say nothing of what the output meets: `out.unsqueeze(0)` on the way to the norm, a call
# reslint cannot read.
UNREAD = ("call", "unknown")

# Conv*d(in_channels, out_channels, kernel_size, stride, padding, dilation, groups, bias, ...)
BIAS_POSITION = 7


def _fix(conv: Layer) -> Fix | None:
    """`bias=True` -> `bias=False`, or `bias=False` added after the last argument; only for a conv
    built right here (one built in a helper may be shared by convs that are not before a norm)."""
    call = conv.node
    if conv.site is not None or not isinstance(call, cst.Call) or not call.args:
        return None
    if any(arg.star for arg in call.args):
        return None  # `**options` may hold a bias already
    for arg in call.args:
        if arg.keyword is not None and arg.keyword.value == "bias":
            return Fix.replace(arg.value, "False")
    if sum(arg.keyword is None for arg in call.args) > BIAS_POSITION:
        return None
    return Fix((Edit(call.args[-1].value, ", bias=False", "after"),))


def _written_bias(conv: Layer) -> str | None:
    """The `bias=` keyword as written at the construction (`True`, `use_bias`), None when left out."""
    for arg in getattr(conv.node, "args", ()):
        if arg.keyword is not None and arg.keyword.value == "bias":
            value = arg.value
            return value.value if isinstance(value, cst.Name) else "<expression>"
    return None


ConvBiasBeforeNorm.INVALID = [
    """
import torch.nn as nn
class Block(nn.Module):
    def __init__(self, c):
        super().__init__()
        self.conv1 = nn.Conv2d(c, c, 3, padding=1)
        self.bn1 = nn.BatchNorm2d(c)
    def forward(self, x):
        return self.bn1(self.conv1(x))
"""
]
ConvBiasBeforeNorm.FIXED = [
    ConvBiasBeforeNorm.INVALID[0].replace("padding=1)", "padding=1, bias=False)")
]
ConvBiasBeforeNorm.VALID = [
    """
import torch.nn as nn
class Block(nn.Module):
    def __init__(self, c):
        super().__init__()
        self.conv1 = nn.Conv2d(c, c, 3, padding=1, bias=False)
        self.bn1 = nn.BatchNorm2d(c)
        self.head = nn.Conv2d(c, 10, 1)
    def forward(self, x):
        return self.head(self.bn1(self.conv1(x)))
"""
]
