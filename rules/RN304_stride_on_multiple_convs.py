"""RN304 stride-on-multiple-convs."""

from __future__ import annotations

from collections.abc import Iterator

from reslint.knowledge.layers import ENLARGING, LayerKind
from reslint.model import ModuleModel
from reslint.model.queries import anchor_of, convs_of, describe, kind_of, layer_of, residuals
from reslint.model.spatial import downsample_alike
from reslint.model.symbolic import Expr
from reslint.model.values import Alt, Layer, compatible
from reslint.rule import Rule, Violation
from reslint.rules_support import unique


class StrideOnMultipleConvs(Rule):
    """## What it does
    Checks for a residual block whose main branch sets the stride on more than one convolution.

    ## Why is this bad?
    A block downsamples once: on the first 1x1 (the original v1) or on the 3x3 (torchvision's v1.5).
    With `stride=stride` on two convolutions, a stride-2 block halves the map twice, so the main branch
    is 4x smaller than the shortcut and the addition fails — or, with a matching shortcut, the network
    loses resolution twice as fast as designed.

    ## Example
    ```python
    self.conv1 = nn.Conv2d(in_channels, out_channels, 3, stride=stride, padding=1, bias=False)
    self.conv2 = nn.Conv2d(out_channels, out_channels, 3, stride=stride, padding=1, bias=False)
    ```

    Use instead:
    ```python
    self.conv1 = nn.Conv2d(in_channels, out_channels, 3, stride=stride, padding=1, bias=False)
    self.conv2 = nn.Conv2d(out_channels, out_channels, 3, stride=1, padding=1, bias=False)
    ```
    """

    code = "RN304"
    name = "stride-on-multiple-convs"

    def check(self, module: ModuleModel) -> Iterator[Violation]:
        yield from unique(self._check(module))

    def _check(self, module: ModuleModel) -> Iterator[Violation]:
        for instance in module.instances():
            for residual in residuals(instance):
                for main in residual.mains:
                    if any(downsample_alike(main, shortcut) for shortcut in residual.shortcuts):
                        continue  # the projection shrinks the map as much: downsampling twice is meant
                    if any(map(_enlarges, main)) or any(map(_residual_block, main)):
                        # an encoder-decoder, or a skip over whole residual blocks (a network's
                        # global residual): what its strides take away the rest may give back
                        continue
                    yield from _check_branch(main)


def _residual_block(element) -> bool:
    layer = layer_of(element)
    return (
        layer is not None
        and layer.kind == "block"
        and layer.instance is not None
        and bool(residuals(layer.instance))
    )


def _enlarges(element) -> bool:
    layer = layer_of(element)
    name = layer.type_name if layer is not None else describe(element)
    return kind_of(element) == LayerKind.UPSAMPLE or name.rsplit(".", 1)[-1] in ENLARGING


def _check_branch(main) -> Iterator[Violation]:
    strided = [conv for conv in convs_of(main) if _may_stride(conv)]
    for index, second in enumerate(strided[1:], 1):
        first = next(
            (
                c
                for c in strided[:index]
                if _both_stride(
                    c, second, _built_conditionally(c, main), _built_conditionally(second, main)
                )
                and compatible(c.guards, second.guards)
            ),
            None,
        )
        if first is None:
            continue
        # A conv inside one of the project's helper classes is reported where this block built it.
        first_place, second_place = main.holder(first), main.holder(second)
        # Two convs that print alike (`nn.Conv2d` inside a Sequential): "and another `nn.Conv2d`".
        other = "another " if describe(first_place) == describe(second_place) else ""
        yield Violation(
            anchor_of(second_place),
            f"`{describe(first_place)}` and {other}`{describe(second_place)}` both take "
            f"{_strides_text(first, second)}: the block downsamples twice",
            f"keep the stride on one convolution of the main branch and give `{describe(second_place)}` "
            "stride 1",
        )
        return


def _strides_text(first: Layer, second: Layer) -> str:
    """`stride `s`` when both are written alike, else `strides `a` and `b``."""
    a, b = _stride(first), _stride(second)
    return f"stride `{a}`" if a == b else f"strides `{a}` and `{b}`"


def _stride(conv: Layer) -> str:
    strides = _strides(conv) or _conditional_strides(conv)
    symbolic = [s for s in strides if s.constant is None]
    return str((symbolic or strides)[0]) if strides else "?"


def _strides(conv: Layer) -> list[Expr]:
    """The stride a conv takes. A stride that depends on a condition (`1 if use_aa else stride`) is
    left out: two such strides may well be exclusive (mmcv's `style` puts it on one conv or the other)."""
    stride = conv.arg("stride")
    return [stride] if isinstance(stride, Expr) else []


def _conditional_strides(conv: Layer) -> list[Expr]:
    """The strides a conv takes on either side of a condition (`stride if down_first else 1`)."""
    stride = conv.arg("stride")
    return [o for o in stride.options if isinstance(o, Expr)] if isinstance(stride, Alt) else []


def _may_stride(conv: Layer) -> bool:
    return any(
        value.constant is None or value.constant > 1
        for value in _strides(conv) + _conditional_strides(conv)
    )


def _built_conditionally(conv: Layer, main) -> bool:
    """Whether the conv, or the helper block that holds it, is built under a condition."""
    holder = layer_of(main.holder(conv))
    return bool(conv.guards or (holder is not None and holder.guards))


def _both_stride(a: Layer, b: Layer, a_guarded: bool, b_guarded: bool) -> bool:
    """Both provably downsample together in one configuration: two constants > 1, or the same stride
    expression twice. A conditional stride pairs with an unconditional one: where its condition
    gives the stride, both convs take it (transformers' `stride if downsample_in_bottleneck else 1`
    beside a plain `stride`), unless the plain one is itself built under a condition, which may be
    the other side of the same choice (timm's `stride if not dw_kernel_size_mid else 1` beside a mid
    conv built only `if dw_kernel_size_mid`)."""
    if _same_choice(a, b):
        return True
    pairs = [(_strides(a), _strides(b))]
    if not b_guarded:
        pairs.append((_strides(a), _conditional_strides(b)))
    if not a_guarded:
        pairs.append((_conditional_strides(a), _strides(b)))
    for left, right in pairs:
        if _pair_strides(left, right):
            return True
    return False


def _same_choice(a: Layer, b: Layer) -> bool:
    """Both take one value that depends on a condition, read from one variable (`stride`
    after `if avd: avd_stride = stride; stride = 1`): whichever way the condition went, both got the
    same stride, so where it is a stride, both downsample."""
    stride = a.arg("stride")
    return (
        isinstance(stride, Alt)
        and stride is b.arg("stride")
        and _pair_strides(_conditional_strides(a), _conditional_strides(b))
    )


def _pair_strides(left: list[Expr], right: list[Expr]) -> bool:
    for sa in left:
        for sb in right:
            if (
                sa.constant is not None
                and sb.constant is not None
                and sa.constant > 1 < sb.constant
            ):
                return True
            if sa.constant is None and sb.constant is None and _structure(sa) == _structure(sb):
                return True
    return False


def _structure(expr: Expr) -> tuple:
    """The expression itself, whatever it is called at each use."""
    return (expr.op, tuple(_structure(a) if isinstance(a, Expr) else a for a in expr.args))


StrideOnMultipleConvs.INVALID = [
    """
import torch.nn as nn
import torch.nn.functional as F
class Block(nn.Module):
    def __init__(self, cin, cout, stride):
        super().__init__()
        self.conv1 = nn.Conv2d(cin, cout, 3, stride=stride, padding=1, bias=False)
        self.bn1 = nn.BatchNorm2d(cout)
        self.conv2 = nn.Conv2d(cout, cout, 3, stride=stride, padding=1, bias=False)
        self.bn2 = nn.BatchNorm2d(cout)
    def forward(self, x):
        out = F.relu(self.bn1(self.conv1(x)))
        return F.relu(x + self.bn2(self.conv2(out)))
"""
]
StrideOnMultipleConvs.VALID = [
    """
import torch.nn as nn
import torch.nn.functional as F
class Block(nn.Module):
    def __init__(self, cin, cout, stride):
        super().__init__()
        self.conv1 = nn.Conv2d(cin, cout, 1, stride=stride, bias=False)
        self.bn1 = nn.BatchNorm2d(cout)
        self.conv2 = nn.Conv2d(cout, cout, 3, stride=1, padding=1, bias=False)
        self.bn2 = nn.BatchNorm2d(cout)
    def forward(self, x):
        out = F.relu(self.bn1(self.conv1(x)))
        return F.relu(x + self.bn2(self.conv2(out)))
"""
]
