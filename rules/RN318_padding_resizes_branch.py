"""RN318 padding-resizes-branch."""

from __future__ import annotations

from collections.abc import Iterator

import libcst as cst

from reslint.model import ModuleModel
from reslint.model.queries import Chain, Layer, Residual, convs_of, describe, residuals
from reslint.model.spatial import Lookup, growth, size_after, strided
from reslint.model.symbolic import Assumptions
from reslint.rule import Rule, Violation
from reslint.rules_support import argument, unique

SIZES = range(7, 65)  # input heights tried: odd and even, from a 7x7 stage up
STRIDES = (1, 2)  # the strides a residual block is built with


class PaddingResizesBranch(Rule):
    """## What it does
    Checks that the padding of the convolutions in a residual branch keeps the map the size of the
    shortcut it is added to, typically a 1x1 convolution given `padding=1`.

    ## Why is this bad?
    A 1x1 kernel needs no padding: `padding=1` makes every map 2 pixels taller and wider, so the
    branch no longer matches the identity and `out += identity` fails with `The size of tensor a (58)
    must match the size of tensor b (56)`, for every input and every stride.

    ## Example
    ```python
    self.conv1 = nn.Conv2d(inplanes, planes, kernel_size=1, padding=1, bias=False)
    ```

    Use instead:
    ```python
    self.conv1 = nn.Conv2d(inplanes, planes, kernel_size=1, bias=False)
    ```
    """

    code = "RN318"
    name = "padding-resizes-branch"

    def check(self, module: ModuleModel) -> Iterator[Violation]:
        yield from unique(self._check(module))

    def _check(self, module: ModuleModel) -> Iterator[Violation]:
        for instance in module.instances():
            for residual in residuals(instance):
                if residual.main_after_sum or not residual.mains:
                    continue
                if not _never_match(residual.mains, residual.shortcuts or [Chain()]):
                    continue
                conv = _resizing_conv(residual)
                if conv is None:
                    continue
                pixels = growth(conv) or 0
                change = f"grows each map by {pixels}" if pixels > 0 else f"shrinks it by {-pixels}"
                yield Violation(
                    _padding_of(conv, module),
                    f"`{describe(conv)}` {change} pixels and the other side of the addition does "
                    "not: the branch and the shortcut never have the same size, so the sum fails",
                    "give the convolution the padding that keeps the size: `(kernel_size - 1) // 2` "
                    "(none for a 1x1 kernel)",
                )


def _resizing_conv(residual: Residual) -> Layer | None:
    """The first convolution whose padding does not keep the size: on the branch, else the shortcut."""
    sides = (residual.main, *residual.shortcuts)
    return next((conv for side in sides for conv in convs_of(side) if growth(conv)), None)


def _never_match(mains: list[Chain], shortcuts: list[Chain]) -> bool:
    """Whether no shortcut of known size can ever match the branch: for every input size and stride
    tried where both run they differ. A shortcut of unknown size (a `downsample` module passed in)
    does not save the others, which run when it is absent; False when nothing could be compared."""
    compared = False
    for main, shortcut in ((main, shortcut) for main in mains for shortcut in shortcuts):
        for lookup in map(strided, STRIDES):
            if not (_runs(main.assume, lookup) and _runs(shortcut.assume, lookup)):
                continue
            for size in SIZES:
                mine, theirs = size_after(main, size, lookup), size_after(shortcut, size, lookup)
                if mine is None:
                    return False  # the branch itself is unknown
                if theirs is None:
                    break  # this shortcut is unknown
                if mine == theirs:
                    return False
                compared = True
    return compared


def _padding_of(conv: Layer, module: ModuleModel) -> cst.CSTNode:
    """Where the padding is written, when the torch convolution is built right there; else the layer."""
    node = conv.node
    if conv.site is None and isinstance(node, cst.Call):
        if module.imports.qualified(node.func) == f"torch.nn.{conv.type_name}":
            written = argument(node, 4, "padding")
            if written is not None:
                return written
    return conv.anchor


def _runs(assume: Assumptions, lookup: Lookup) -> bool:
    """False when a condition the branch is built under surely fails at this configuration."""
    return all(condition.may_be(way, lookup) for condition, way in assume)


PaddingResizesBranch.INVALID = [
    """
import torch.nn as nn
class Block(nn.Module):
    def __init__(self, channels):
        super().__init__()
        self.conv1 = nn.Conv2d(channels, channels, 3, padding=1, bias=False)
        self.conv2 = nn.Conv2d(channels, channels, 1, padding=1, bias=False)
    def forward(self, x):
        return x + self.conv2(self.conv1(x))
"""
]
PaddingResizesBranch.VALID = [
    """
import torch.nn as nn
class Block(nn.Module):
    def __init__(self, channels):
        super().__init__()
        self.conv1 = nn.Conv2d(channels, channels, 3, padding=1, bias=False)
        self.conv2 = nn.Conv2d(channels, channels, 1, bias=False)
    def forward(self, x):
        return x + self.conv2(self.conv1(x))
"""
]
