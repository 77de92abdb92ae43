"""RN202 channel-chain-mismatch."""

from __future__ import annotations

from collections.abc import Iterator

import libcst as cst

from reslint.model import ModuleModel
from reslint.model.queries import (
    Chain,
    channel_neighbours,
    describe,
    first_leaf,
    last_leaf,
    layer_sequences,
    stale_running_reads,
)
from reslint.model.symbolic import Comparison, Expr
from reslint.rule import Rule, Violation
from reslint.rules_support import quoted, unique


class ChannelChainMismatch(Rule):
    """## What it does
    Follows the data through forward (and through every nn.Sequential) and checks that each layer's
    input channels equal the output channels of the layer before it — convolutions, blocks and
    whole stages alike.

    ## Why is this bad?
    The first forward pass fails with `expected input[1, 256, 56, 56] to have 128 channels`.
    In hand-written ResNets it happens when a stage is built for the channels the previous stage
    had *before* its expansion (`stage2 = make_layer(128, ...)` after a stage that outputs 256).

    ## Example
    ```python
    self.stage1 = self.make_layer(inchannel=64, outchannel=256, block_num=3)
    self.stage2 = self.make_layer(inchannel=128, outchannel=512, block_num=4)
    ```

    Use instead:
    ```python
    self.stage1 = self.make_layer(inchannel=64, outchannel=256, block_num=3)
    self.stage2 = self.make_layer(inchannel=256, outchannel=512, block_num=4)
    ```
    """

    code = "RN202"
    defers_to = ("RN205",)
    name = "channel-chain-mismatch"

    def check(self, module: ModuleModel) -> Iterator[Violation]:
        yield from unique(self._check(module))

    def _check(self, module: ModuleModel) -> Iterator[Violation]:
        # Whole stages first, so a mismatch between two stages is reported on the stage the user built,
        # not on the first block inside the builder method.
        covered: set[tuple[int, int]] = set()
        stale = stale_running_reads(module)
        for instance in module.instances():
            for open_containers in (False, True):
                tests = instance.tested_comparisons()
                for sequence in layer_sequences(instance, open_containers):
                    yield from self._check_sequence(sequence, covered, module, stale, tests)

    def _check_sequence(
        self,
        sequence: Chain,
        covered: set[tuple[int, int]],
        module: ModuleModel,
        stale: dict[str, cst.FunctionDef],
        tests: list[Comparison],
    ) -> Iterator[Violation]:
        for before, after in channel_neighbours(sequence):
            if "linear" in (
                after.kind,
                before.kind,
                first_leaf(after).kind,
                last_leaf(before).kind,
            ):
                continue  # flattening in between changes the meaning; see RN204
            leaves = (id(last_leaf(before)), id(first_leaf(after)))
            if leaves in covered:
                continue
            produced, expected = before.channels_out, after.channels_in
            if produced is None or expected is None:
                continue
            if _setting_against_number(produced, expected):
                continue  # `Conv2d(256, ...)` after `config.hidden_size` channels: equal at its default?
            when = ""
            if not sequence.differ(produced, expected, (before, after)):
                tested = sequence.differ_where_tested(produced, expected, tests, (before, after))
                if tested is None:
                    continue
                test, way = tested
                if not isinstance(test.node, cst.CSTNode):
                    continue
                # The case is the test holding, or failing: say which.
                holds = "" if way else " is false"
                when = (
                    f" whenever `{module.code(test.node)}`{holds}, a case this block provides for"
                )
            # A running channel count never updated: RN205's finding on the builder is the cause.
            builder = stale.get(str(expected))
            covered.add(leaves)
            consumer, producer = describe(after), describe(before)
            # Two layers of one name (`nn.Conv2d`, a block class): "the" one before it.
            article = "the " if producer == consumer else ""
            yield Violation(
                _anchor(after, module),
                f"`{consumer}` expects {quoted(expected)} input channels but "
                f"{article}`{producer}` before it outputs {quoted(produced)}{when}",
                f"build `{consumer}` for `{produced}` input channels",
                defers_to=(("RN205", builder.name),) if builder is not None else (),
            )


def _setting_against_number(produced: Expr, expected: Expr) -> bool:
    """A fixed number on one side and a value read from settings reslint cannot see on the other: they
    differ only for some settings (transformers' `config.fusion_hidden_size`, 256 by default, feeding
    a `Conv2d(256, 256)`), so no claim holds in every configuration."""
    return any(
        fixed.constant is not None and read.read_from_settings
        for fixed, read in ((produced, expected), (expected, produced))
    )


def _anchor(consumer, module: ModuleModel):
    """The line where the wrong number is written: the first block itself when it is spelled out inside
    the container (`nn.Sequential(Bottleneck(2048, ...), ...)`), else the container's construction
    (`self.stage2 = self.make_layer(128, ...)`)."""
    leaf = first_leaf(consumer)
    if leaf is not consumer and module.within(consumer.anchor)(leaf.anchor):
        return leaf.anchor
    return consumer.anchor


ChannelChainMismatch.INVALID = [
    """
import torch.nn as nn
class Stem(nn.Module):
    def __init__(self):
        super().__init__()
        self.body = nn.Sequential(nn.Conv2d(3, 64, 3), nn.BatchNorm2d(64), nn.ReLU(), nn.Conv2d(32, 64, 3))
    def forward(self, x):
        return self.body(x)
"""
]
ChannelChainMismatch.INVALID.append(
    """
import torch.nn as nn
class BasicBlock(nn.Module):
    def __init__(self, in_channel, out_channel, stride=1):
        super().__init__()
        self.left = nn.Sequential(
            nn.Conv2d(in_channel, out_channel, 3, stride, 1, bias=False), nn.BatchNorm2d(out_channel),
            nn.ReLU(inplace=True),
            nn.Conv2d(in_channel, out_channel, 3, 1, 1, bias=False), nn.BatchNorm2d(out_channel),
        )
        self.shortcut = nn.Sequential()
        if stride != 1 or in_channel != out_channel:
            self.shortcut = nn.Sequential(nn.Conv2d(in_channel, out_channel, 1, stride, bias=False))
    def forward(self, x):
        return self.left(x) + self.shortcut(x)
"""
)
ChannelChainMismatch.VALID = [
    """
import torch.nn as nn
class Stem(nn.Module):
    def __init__(self, planes=64):
        super().__init__()
        self.body = nn.Sequential(nn.Conv2d(3, planes, 3), nn.BatchNorm2d(planes), nn.ReLU(), nn.Conv2d(planes, 64, 3))
    def forward(self, x):
        return self.body(x)
"""
]
