"""RN309 residual-shape-mismatch."""

from __future__ import annotations

from collections.abc import Iterator

import libcst as cst

from reslint.model import ModuleModel
from reslint.model.queries import (
    Element,
    Residual,
    anchor_of,
    branch_output,
    can_coexist,
    describe,
    layer_of,
    reaching,
    residuals,
    stale_running_reads,
)
from reslint.model.symbolic import Assumptions, Expr, Relation, relation
from reslint.model.values import Flow, Layer
from reslint.model.widening import (
    WideningIdentity,
    projecting_sites,
    side_channels,
    widening_identities,
)
from reslint.rule import Rule, Violation
from reslint.rules_support import quoted, unique


class ResidualShapeMismatch(Rule):
    """## What it does
    Checks residual additions whose shortcut is the identity (no projection on any path) while the
    residual branch provably changes the number of channels or downsamples, and additions whose
    projection shortcut gives other channels than the residual branch ends with on every path.

    ## Why is this bad?
    `conv(y) + y` only works when `conv` keeps the shape. The first block of a stage doubles the
    channels and halves the map, so the sum fails with `The size of tensor a (128) must match the size
    of tensor b (64) at non-singleton dimension 1`. Such a block needs a projection shortcut
    (1x1 conv with the block's stride, plus BatchNorm), or option A's subsample-and-pad.

    ## Example
    ```python
    for block in self.stage2:  # its first block maps 64 -> 128 channels with stride 2
        y = block(y) + y
    ```

    Use instead:
    ```python
    for block in self.stage2:
        y = block(y) + block.shortcut(y)  # or give each block its own downsample path
    ```
    """

    code = "RN309"
    defers_to = ("RN205",)
    name = "residual-shape-mismatch"

    def check(self, module: ModuleModel) -> Iterator[Violation]:
        yield from unique(self._check(module))

    def _check(self, module: ModuleModel) -> Iterator[Violation]:
        for instance in module.instances():
            if instance is instance.cls.generic and instance.cls.placeholder_properties:
                continue  # the subclasses' values stand for it, in their own instances
            projecting = projecting_sites(instance) | projecting_sites(instance.cls.generic)
            for residual in residuals(instance):
                if id(residual.site.node) in projecting:
                    continue  # the class can project here: when it does not, the builder decided (RN307)
                if residual.site.adds_a_given_tensor:
                    continue  # the shortcut may be the caller's tensor, not the identity
                sides = [
                    reaching((f for f in side if isinstance(f, Flow)), residual.site.guards)
                    for side in (residual.site.left, residual.site.right)
                ]
                left, right = (side_channels(flows, instance) for flows in sides)
                if left is None or right is None or relation(left, right) is not Relation.DIFFERENT:
                    continue
                if left.symbols() != right.symbols():
                    continue  # `inplanes` against `planes`: fine whenever the caller passes equal values
                yield Violation(
                    residual.site.node,
                    f"`{module.code(residual.site.node)}` adds tensors of {quoted(left)} and "
                    f"{quoted(right)} channels: the shortcut is the identity but the branch changes the shape",
                    "give the blocks that change channels or stride a projection shortcut (1x1 conv with the "
                    "block's stride + BatchNorm)",
                )
            for residual in residuals(instance):
                yield from _projection_mismatch(residual, instance.channels_in)
        stale = stale_running_reads(module)
        for built in widening_identities(module):
            if built.declined is None:  # a decided `if` that would have projected is RN307's
                yield _unprojected(built, module, stale)


def _unprojected(
    built: WideningIdentity, module: ModuleModel, stale: dict[str, cst.FunctionDef]
) -> Violation:
    """A block the file builds with widths its identity shortcut cannot add, reported at the
    call that builds it without a shortcut (a stage builder that never makes a downsample). Built
    from a running channel count its builder never updates, the widths are wrong, not the shortcut:
    RN205's finding on the builder is the cause."""
    left, right = built.widths
    read = {module.code(arg.value) for arg in built.call.args}
    builders = [method for name, method in stale.items() if name in read]
    return Violation(
        built.call,
        f"`{module.code(built.call.func)}(...)` builds `{built.instance.cls.name}`, whose "
        f"`{module.code(built.residual.site.node)}` adds {quoted(left)} and {quoted(right)} "
        "channels: no projection shortcut is passed, so the shortcut is the identity",
        "pass a projection shortcut (1x1 conv with the block's stride + BatchNorm) to every block "
        "that changes channels or stride",
        defers_to=tuple(("RN205", method.name) for method in builders),
    )


def _projection_mismatch(residual: Residual, channels_in: Expr | None) -> Iterator[Violation]:
    """The main branch ends with other channels than the projection shortcut gives, on every path
    where both run (a bottleneck's conv3 left at the inner width). Reported at the branch's last
    layer, or at the projection when it is written to keep the block's input width (`conv(n_in,
    n_in)` beside a branch that changes it): a projection is there to change the shape."""
    for main in residual.mains:
        for shortcut in residual.shortcuts:
            ending, projecting = branch_output(main), branch_output(shortcut)
            if ending is None or projecting is None or not can_coexist(ending[0], projecting[0]):
                continue
            (last, produced), (projection, projected) = ending, projecting
            both = main.assume + shortcut.assume  # the paths both run on
            if relation(produced, projected, both) is not Relation.DIFFERENT:
                continue
            place = main.holder(last)  # where the branch's last layer is built, not called
            other = shortcut.holder(projection)
            if _keeps_input_width(layer_of(projection), channels_in, both):
                yield _mismatch(other, projected, "the shortcut's", place, produced, "branch's")
            else:
                yield _mismatch(
                    place, produced, "the residual branch's", other, projected, "shortcut's"
                )
            return


def _keeps_input_width(
    projection: Layer | None, channels_in: Expr | None, assume: Assumptions
) -> bool:
    """A projection written to give the width it takes (`conv(n_in, n_in)`), the block's input
    width: not one that gives another width which this configuration happens to make equal."""
    if projection is None or channels_in is None:
        return False
    taken, given = projection.channels_in, projection.channels_out
    return (
        taken is not None
        and given is not None
        and str(taken) == str(given)
        and relation(given, channels_in, assume) is Relation.EQUAL
    )


def _mismatch(
    place: Element, channels: Expr, side: str, other: Element, expected: Expr, other_side: str
) -> Violation:
    """The violation at `place`, the layer that gives `channels` where the other side of the sum
    (`other`) gives `expected`."""
    layer = layer_of(place)
    return Violation(
        layer.anchor if layer is not None else anchor_of(place),
        f"{side} last layer `{describe(place)}` gives {quoted(channels)} channels but the "
        f"{other_side} `{describe(other)}` gives {quoted(expected)}: the two cannot be added",
        f"build `{describe(place)}` with `{expected}` output channels (or `{describe(other)}` with "
        f"`{channels}`), whichever the block means",
    )


ResidualShapeMismatch.INVALID = [
    """
import torch.nn as nn
class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.stem = nn.Conv2d(3, 64, 3, padding=1)
        self.blocks = nn.ModuleList([nn.Conv2d(64, 128, 3, padding=1), nn.Conv2d(128, 128, 3, padding=1)])
    def forward(self, x):
        y = self.stem(x)
        for block in self.blocks:
            y = block(y) + y
        return y
"""
]
ResidualShapeMismatch.VALID = [
    """
import torch.nn as nn
class Block(nn.Module):
    def __init__(self, inplanes, planes, downsample=None):
        super().__init__()
        self.conv = nn.Conv2d(inplanes, planes, 3, padding=1, bias=False)
        self.downsample = downsample
    def forward(self, x):
        identity = x
        if self.downsample is not None:
            identity = self.downsample(x)
        return self.conv(x) + identity
"""
]
