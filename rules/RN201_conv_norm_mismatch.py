"""RN201 conv-norm-mismatch."""

from __future__ import annotations

from collections.abc import Iterator

import libcst as cst

from reslint.findings import Applicability
from reslint.knowledge.layers import NORMS
from reslint.model import ModuleModel
from reslint.model.queries import describe, direct_pairs, layer_of, layer_sequences
from reslint.model.values import Layer
from reslint.rule import Fix, Rule, Violation
from reslint.rules_support import argument, function_of, quoted, unique


class ConvNormMismatch(Rule):
    """## What it does
    Checks that a convolution's `out_channels` equal the `num_features` of the normalization layer
    that normalizes its output.

    ## Why is this bad?
    BatchNorm2d(C) expects exactly C channels: the first forward pass fails with
    `running_mean should contain 64 elements not 256`. In a bottleneck it usually means conv3 was
    built with `width` instead of `planes * self.expansion` output channels.

    ## Example
    ```python
    self.conv3 = conv1x1(width, width)
    self.bn3 = norm_layer(planes * self.expansion)
    ```

    Use instead:
    ```python
    self.conv3 = conv1x1(width, planes * self.expansion)
    self.bn3 = norm_layer(planes * self.expansion)
    ```
    """

    code = "RN201"
    name = "conv-norm-mismatch"
    fixable = Applicability.UNSAFE

    def check(self, module: ModuleModel) -> Iterator[Violation]:
        yield from unique(self._check(module))

    def _check(self, module: ModuleModel) -> Iterator[Violation]:
        for instance in module.instances():
            for sequence in layer_sequences(instance):
                for first, second in direct_pairs(sequence):
                    conv, norm = layer_of(first), layer_of(second)
                    if not (
                        conv is not None
                        and norm is not None
                        and conv.kind == "conv"
                        and norm.kind in NORMS
                    ):
                        continue
                    produced, expected = conv.channels_out, norm.channels_in
                    if (
                        produced is None
                        or expected is None
                        or not sequence.pair_differs(produced, expected, first, second)
                    ):
                        continue
                    yield Violation(
                        conv.anchor,
                        f"`{describe(conv)}` outputs {quoted(produced)} channels but `{describe(norm)}` "
                        f"normalizes {quoted(expected)}",
                        f"build `{describe(conv)}` with `{expected}` output channels (or `{describe(norm)}` "
                        f"with `{produced}`), whichever the block means",
                        fix=_fix(conv, norm, module),
                    )


def _fix(conv: Layer, norm: Layer, module: ModuleModel) -> Fix | None:
    """The conv's out-channels written as the norm's channels are, when both are built right there
    in one function (so the names mean the same)."""
    if conv.site is not None or norm.site is not None or norm.kind != "batchnorm":
        return None  # GroupNorm and the like say their channels elsewhere
    if not isinstance(conv.node, cst.Call) or not isinstance(norm.node, cst.Call):
        return None
    if function_of(conv.node, module) is not function_of(norm.node, module):
        return None
    if not all(_torch_layer(layer, module) for layer in (conv, norm)):
        return None  # a framework's builder (build_conv_layer) takes its arguments in its own order
    out_channels = argument(conv.node, 1, "out_channels")
    num_features = argument(norm.node, 0, "num_features")
    if out_channels is None or num_features is None:
        return None
    return Fix.replace(out_channels.value, module.tree.code_for_node(num_features.value))


def _torch_layer(layer: Layer, module: ModuleModel) -> bool:
    assert isinstance(layer.node, cst.Call)
    return module.imports.qualified(layer.node.func) == f"torch.nn.{layer.type_name}"


ConvNormMismatch.INVALID = [
    """
import torch.nn as nn
class Bottleneck(nn.Module):
    expansion = 4
    def __init__(self, inplanes, planes):
        super().__init__()
        self.conv3 = nn.Conv2d(planes, planes, 1, bias=False)
        self.bn3 = nn.BatchNorm2d(planes * self.expansion)
    def forward(self, x):
        return self.bn3(self.conv3(x))
"""
]
ConvNormMismatch.FIXED = [
    ConvNormMismatch.INVALID[0].replace(
        "nn.Conv2d(planes, planes, 1", "nn.Conv2d(planes, planes * self.expansion, 1"
    )
]
ConvNormMismatch.VALID = [
    """
import torch.nn as nn
class Bottleneck(nn.Module):
    expansion = 4
    def __init__(self, inplanes, planes, groups=1, base_width=64):
        super().__init__()
        width = int(planes * (base_width / 64.0)) * groups
        self.conv2 = nn.Conv2d(width, width, 3, padding=1, groups=groups, bias=False)
        self.bn2 = nn.BatchNorm2d(width)
        self.conv3 = nn.Conv2d(width, planes * self.expansion, 1, bias=False)
        self.bn3 = nn.BatchNorm2d(planes * 4)
    def forward(self, x):
        return self.bn3(self.conv3(self.bn2(self.conv2(x))))
"""
]
