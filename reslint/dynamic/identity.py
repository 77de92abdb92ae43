"""Name what the user's model is: the closest reference in the zoo, and how it departs from the one asked
for, in the words papers use (CIFAR stem, deep stem, ResNet v1 stride, option-A/B shortcuts, conv biases).

Every claim is read off the aligned calls: blocks per stage, convs per block (the most common count is a
block's main branch; a block with more has a projection shortcut), the stem's layers, where a strided
block puts its stride."""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field

import torch

from reslint.dynamic import tracing
from reslint.dynamic.align import kind_of
from reslint.dynamic.calls import LayerCall
from reslint.dynamic.catalogue import REFERENCES, Reference
from reslint.dynamic.matching import Matched
from reslint.dynamic.running import Traced
from reslint.dynamic.stages import STEM
from reslint.dynamic.zoo import build_reference

BLOCK_KINDS = {2: "basic", 3: "bottleneck"}  # convs in a block's main branch


@dataclass(frozen=True)
class Variant:
    key: (
        str  # cifar-stem, deep-stem, v1-stride, projection-shortcuts, zero-pad-shortcuts, conv-bias
    )
    words: str  # as papers say it


@dataclass
class Identity:
    blocks: list[int]  # residual blocks per reference stage
    kind: str  # "basic", "bottleneck", or "" when the blocks are neither
    closest: str | None  # the reference with the model's blocks, block kind and parameter count
    variants: list[Variant] = field(default_factory=list)

    def to_dict(self) -> dict[str, object]:
        return {
            "blocks": self.blocks,
            "block": self.kind or None,
            "closest": self.closest,
            "variants": [variant.key for variant in self.variants],
        }


def identify(traced: Traced, matched: Matched, ref_info: Reference, params: int) -> Identity:
    calls = traced.user_trace.calls
    blocks = [matched.blocks.get(stage, []) for stage in ref_info.stages]
    convs = {block: _convs(block, calls) for stage in blocks for block in stage}
    main = Counter(len(found) for found in convs.values()).most_common(1)
    kind = BLOCK_KINDS.get(main[0][0], "") if main else ""
    counts = [len(stage) for stage in blocks]
    projected = [block for block, found in convs.items() if main and len(found) > main[0][0]]
    variants = _stem_variants(matched, calls, ref_info) + _block_variants(
        blocks, convs, projected, ref_info, kind
    )
    if matched.stages and all(
        s.model_convs and s.model_biased_convs == s.model_convs
        for s in matched.stages
        if s.stage in ref_info.stages
    ):
        variants.append(Variant("conv-bias", "a bias on every conv"))
    return Identity(counts, kind, _closest(counts, kind, params, traced), variants)


def _convs(block: str, calls: Sequence[LayerCall]) -> list[LayerCall]:
    return [c for c in calls if c.name.startswith(block + ".") and kind_of(c.type) == "conv"]


def _option(call: LayerCall, key: str) -> int | None:
    """The first number of `key=(a, b)` or `key=a` in the layer's description."""
    found = re.search(rf"\b{key}=\(?(\d+)", call.detail)
    return int(found.group(1)) if found else None


def _stem_variants(
    matched: Matched, calls: Sequence[LayerCall], ref_info: Reference
) -> list[Variant]:
    stem = [call for call, (_, stage) in zip(calls, matched.call_stages) if stage == STEM]
    convs = [call for call in stem if kind_of(call.type) == "conv"]
    if len(convs) >= 3:
        return [Variant("deep-stem", f"a deep stem ({len(convs)} convs, as ResNet-C/D)")]
    pooled = any(kind_of(call.type) == "pool" for call in stem)
    if (
        ref_info.family == "imagenet"
        and convs
        and _option(convs[0], "kernel_size") == 3
        and not pooled
    ):
        return [Variant("cifar-stem", "a CIFAR stem (3x3 conv, no max-pool)")]
    return []


def _block_variants(
    blocks: list[list[str]],
    convs: dict[str, list[LayerCall]],
    projected: list[str],
    ref_info: Reference,
    kind: str,
) -> list[Variant]:
    found = []
    firsts = [
        stage[0] for stage in blocks[1:] if stage
    ]  # the strided first block of each later stage
    if (
        kind == "bottleneck"
        and ref_info.block == "bottleneck"
        and any(convs[block] and _option(convs[block][0], "stride") == 2 for block in firsts)
    ):
        found.append(
            Variant(
                "v1-stride",
                "ResNet v1 blocks (the stride on the first 1x1 conv, where v1.5 strides the 3x3)",
            )
        )
    if ref_info.shortcut == "zero-pad" and projected:
        found.append(
            Variant(
                "projection-shortcuts",
                "option-B shortcuts (1x1 conv projections; the reference zero-pads, option A)",
            )
        )
    if ref_info.shortcut == "projection" and firsts and not any(b in projected for b in firsts):
        found.append(
            Variant(
                "zero-pad-shortcuts",
                "option-A shortcuts (no projection; the reference projects with 1x1 convs)",
            )
        )
    return found


def _closest(counts: list[int], kind: str, params: int, traced: Traced) -> str | None:
    """The reference with these blocks per stage and this block kind whose parameter count, built with the
    model's classes and input channels, is the model's."""
    for ref in REFERENCES.values():
        if list(ref.layers) != counts or kind_of_reference(ref) != kind:
            continue
        with torch.device("meta"), tracing.no_meta_initialisation():
            model = build_reference(ref.name, traced.num_classes, traced.design[1])
        if tracing.count_parameters(model) == params:
            return ref.name
    return None


def kind_of_reference(ref: Reference) -> str:
    """Basic or bottleneck: a pre-activation block has a basic block's two convs."""
    return "basic" if ref.block == "preact" else ref.block
