"""RN315 no-normalization."""

from __future__ import annotations

from collections.abc import Iterator

import libcst as cst

from reslint.findings import Severity
from reslint.knowledge.layers import ENLARGING, NORMS
from reslint.knowledge.naming import NORM_FREE_NAME
from reslint.model import ModuleModel
from reslint.model.classes import Instance
from reslint.model.queries import residual_blocks, residuals
from reslint.model.values import Layer, ListValue, options
from reslint.rule import Rule, Violation
from reslint.rules_support import unique

# Anything reslint cannot see into may hold a norm: no claim then.
OPAQUE = {"unknown", "module", "object", "undecided", "call"}


class NoNormalization(Rule):
    """## What it does
    Checks for a residual network with no normalisation layer anywhere: no BatchNorm, GroupNorm,
    LayerNorm or InstanceNorm in its stem, its blocks or its head. A network that scales its
    residuals by a number written in the code (`out * 0.2 + x`, ESRGAN-style) is built for that and
    not reported, nor is a file with a network that enlarges its map (sub-pixel or transposed
    convolutions, upsampling): super-resolution and restoration networks and their residual groups
    leave normalisation out on purpose.

    ## Why is this bad?
    Deep residual networks rely on normalisation to keep the scale of the summed activations in check;
    without it the variance grows with every block, training diverges or needs a tiny learning rate,
    and results fall far below the paper's. Networks designed to train without norms (Fixup, NFNets)
    replace it with careful initialisation and scaling, which a hand-written ResNet rarely has.

    ## Example
    ```python
    self.conv1 = nn.Conv2d(64, 64, 3, padding=1)
    ...
    return F.relu(self.conv2(F.relu(self.conv1(x))) + x)
    ```

    Use instead:
    ```python
    self.conv1 = nn.Conv2d(64, 64, 3, padding=1, bias=False)
    self.bn1 = nn.BatchNorm2d(64)
    ...
    ```
    """

    code = "RN315"
    name = "no-normalization"
    severity = Severity.WARNING

    def check(self, module: ModuleModel) -> Iterator[Violation]:
        yield from unique(self._check(module))

    def _check(self, module: ModuleModel) -> Iterator[Violation]:
        known: dict[int, set[str]] = {}
        contents = [
            (instance, _kinds_within(instance, 0, known)) for instance in module.instances()
        ]
        if any(ENLARGES in kinds or "upsample" in kinds for _, kinds in contents):
            return  # image to image (super-resolution, restoration): norms left out on purpose
        for instance, kinds in contents:
            if len(residual_blocks(instance)) + len(residuals(instance)) < 2:
                continue  # one block (a wrapper around it), or not a residual network at all
            if NORM_FREE_NAME.search(instance.cls.name):
                continue  # named for having no norm: built so on purpose
            if kinds & NORMS or kinds & OPAQUE or "conv" not in kinds or SCALED in kinds:
                continue
            yield Violation(
                instance.cls.node.name,
                f"`{instance.cls.name}` is a residual network with no normalisation layer at all: "
                "unless it is built for that (BN folded into the convs, Fixup-style scaling), its "
                "sums grow with depth and training becomes unstable",
                "put a BatchNorm2d after each convolution (and pass `bias=False` to the convolution)",
            )


def _kinds_within(instance: Instance, depth: int, known: dict[int, set[str]]) -> set[str]:
    """The kinds of every layer the instance builds and every operation its forward applies, blocks
    opened (each instance's worked out once, in `known`)."""
    if depth > 6:
        return {"unknown"}
    if id(instance) not in known:
        known[id(instance)] = _opened(instance, depth, known)
    return known[id(instance)]


def _opened(instance: Instance, depth: int, known: dict[int, set[str]]) -> set[str]:
    kinds: set[str] = set()
    for layer in _held(instance):
        for inner in layer.walk():
            kinds.add(inner.kind)
            if inner.type_name in ENLARGING:
                kinds.add(ENLARGES)
            if inner.kind == "block":
                kinds |= (
                    _kinds_within(inner.instance, depth + 1, known)
                    if inner.instance
                    else {"unknown"}
                )
    forward = instance.forward
    if forward is not None:
        kinds |= {step.kind for step in forward.steps if step.layer is None}
        if any(_fixed_scale(step.node) for step in forward.steps if step.kind == "mul"):
            kinds.add(SCALED)
    return kinds


def _held(instance: Instance) -> Iterator[Layer]:
    """The layers its attributes hold, those of plain lists too (`self.blocks = []` that forward
    loops over: RN110's finding; their norms still run)."""
    yield from instance.layers().values()
    for value in instance.attrs.values():
        for option in options(value):
            if isinstance(option, ListValue):
                yield from (
                    o for item in option.items for o in options(item) if isinstance(o, Layer)
                )


# A network that enlarges its map (sub-pixel convolution, transposed convolution, upsampling) turns
# images into images: super-resolution and restoration networks drop normalisation on purpose (EDSR
# found BatchNorm hurts them).
ENLARGES = "enlarges"

# A tensor multiplied by a number written in the code: the scaled residual of norm-free designs
# (ESRGAN's RRDB returns `out * 0.2 + x`), which keeps the sums from growing.
SCALED = "scaled"


def _fixed_scale(node: object) -> bool:
    return (
        isinstance(node, cst.BinaryOperation)
        and isinstance(node.operator, cst.Multiply)
        and any(isinstance(side, cst.Float) for side in (node.left, node.right))
    )


NoNormalization.INVALID = [
    """
import torch.nn as nn
import torch.nn.functional as F
class Block(nn.Module):
    def __init__(self, c):
        super().__init__()
        self.conv1 = nn.Conv2d(c, c, 3, padding=1)
        self.conv2 = nn.Conv2d(c, c, 3, padding=1)
    def forward(self, x):
        return F.relu(self.conv2(F.relu(self.conv1(x))) + x)
class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.stem = nn.Conv2d(3, 64, 3, padding=1)
        self.blocks = nn.Sequential(Block(64), Block(64))
    def forward(self, x):
        return self.blocks(F.relu(self.stem(x)))
"""
]
NoNormalization.VALID = [
    """
import torch.nn as nn
import torch.nn.functional as F
class Block(nn.Module):
    def __init__(self, c):
        super().__init__()
        self.conv1 = nn.Conv2d(c, c, 3, padding=1, bias=False)
        self.bn1 = nn.BatchNorm2d(c)
        self.conv2 = nn.Conv2d(c, c, 3, padding=1, bias=False)
        self.bn2 = nn.BatchNorm2d(c)
    def forward(self, x):
        return F.relu(self.bn2(self.conv2(F.relu(self.bn1(self.conv1(x))))) + x)
"""
]
