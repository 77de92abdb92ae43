"""RN204 classifier-in-features."""

from __future__ import annotations

import math
from collections.abc import Iterator

import libcst as cst

from reslint.findings import Applicability
from reslint.knowledge.layers import CHANNEL_PRESERVING
from reslint.model import ModuleModel
from reslint.model.classes import Instance
from reslint.model.queries import describe, kind_of, layer_of, layer_sequences
from reslint.model.symbolic import Expr, choices
from reslint.model.values import Layer
from reslint.rule import Fix, Rule, Violation
from reslint.rules_support import argument, function_of, number_text, quoted, unique

# Pools that average the whole map: adaptive ones always, a fixed AvgPool2d(7) at the input size the
# network is built for (a flattened map instead shows as features k*k times the channels: skipped).
GLOBAL_POOLS = {"globalpool", "avgpool"}


class ClassifierInFeatures(Rule):
    """## What it does
    Checks that the final `nn.Linear` after global pooling takes as many features as the last stage
    outputs channels (`512 * block.expansion`).

    ## Why is this bad?
    A hard-coded `nn.Linear(512, num_classes)` fits ResNet-18/34 but a Bottleneck network ends with
    2048 channels: `mat1 and mat2 shapes cannot be multiplied (1x2048 and 512x1000)`.

    ## Example
    ```python
    self.layer4 = self._make_layer(Bottleneck, 512, layers[3], stride=2)
    self.fc = nn.Linear(512, num_classes)
    ```

    Use instead:
    ```python
    self.layer4 = self._make_layer(block, 512, layers[3], stride=2)
    self.fc = nn.Linear(512 * block.expansion, num_classes)
    ```
    """

    code = "RN204"
    name = "classifier-in-features"
    fixable = Applicability.UNSAFE

    def check(self, module: ModuleModel) -> Iterator[Violation]:
        yield from unique(self._check(module))

    def _check(self, module: ModuleModel) -> Iterator[Violation]:
        for instance in module.instances():
            for sequence in layer_sequences(instance):
                for index, item in enumerate(sequence):
                    element = layer_of(item)
                    if element is None or element.kind != "linear":
                        continue
                    source = _pooled_source(sequence[:index])
                    if source is None:
                        yield from _flattened_map(element, sequence[:index], instance)
                        continue
                    produced, expected = source.channels_out, element.channels_in
                    if (
                        produced is None
                        or expected is None
                        or not sequence.differ(produced, expected)
                        or _flattens_a_map(produced, expected)
                    ):
                        continue
                    scaled = _scaled_by_block(expected, produced, source, element, module)
                    words = scaled or _in_the_classifiers_words(produced, source, element, module)
                    fix = (
                        _replace_in_features(element, scaled)
                        if scaled
                        else _fix(element, words, source, module)
                    )
                    yield Violation(
                        element.anchor,
                        f"`{describe(element)}` takes {quoted(expected)} features but "
                        f"{_named(source, instance)} outputs {quoted(produced)} channels after "
                        "global pooling",
                        f"build it as `nn.Linear({words}, ...)`",
                        fix=fix,
                    )


def _flattened_map(classifier: Layer, before: list, instance: Instance) -> Iterator[Violation]:
    """`MaxPool2d(2)`, then flatten: the pool keeps a map, so the classifier gets the channels times
    the map's area, whatever the input size. A width that is no whole multiple of the channels
    (`nn.Linear(256, ...)` after 512 channels) is wrong at every size."""
    source = _window_pooled_source(before)
    if source is None:
        return
    produced, expected = source.channels_out, classifier.channels_in
    if produced is None or expected is None or not produced.constant or not expected.constant:
        return
    if (expected.constant / produced.constant).is_integer():
        return
    yield Violation(
        classifier.anchor,
        f"`{describe(classifier)}` takes {quoted(expected)} features but {_named(source, instance)} "
        f"outputs {quoted(produced)} channels, flattened after a window pool: any input gives a "
        f"multiple of {number_text(produced.constant)} features",
        "pool globally (`nn.AdaptiveAvgPool2d(1)`) and build the classifier on the channels",
    )


def _window_pooled_source(before: list) -> Layer | None:
    """The layer whose channels reach the classifier through a pool with a fixed window (max
    pooling), with no global pool after it: the classifier sees a flattened map."""
    windowed = False
    for element in reversed(before):
        kind = kind_of(element)
        if kind in GLOBAL_POOLS:
            return None
        if kind == "pool":
            windowed = True
            continue
        if kind in CHANNEL_PRESERVING:
            continue
        return layer_of(element) if windowed else None
    return None


def _named(source: Layer, instance: Instance) -> str:
    """`layer4` (its last `Bottleneck`): the attribute that holds the layer, as the network names it."""
    for name, layer in instance.layers().items():
        if layer is source:
            return f"`{name}`"
        if any(inner is source for inner in layer.walk()):
            return f"`{name}` (its last `{describe(source)}`)"
    return f"`{describe(source)}`"


def _in_the_classifiers_words(
    produced: Expr, source: Layer, classifier: Layer, module: ModuleModel
) -> str:
    """`produced` as written where the classifier is built; its value where it is written in another
    function (`planes * self.expansion` of a block means nothing in the network's __init__)."""
    here = function_of(classifier.anchor, module)
    if produced.constant is None or (
        here is not None and here is function_of(source.anchor, module)
    ):
        return str(produced)
    return number_text(produced.constant)


def _scaled_by_block(
    expected: Expr, produced: Expr, source: Layer, classifier: Layer, module: ModuleModel
) -> str | None:
    """`512 * block.expansion`: the classifier's width scaled by the expansion of the block class
    the network is given, when that is what the last stage outputs; right for every block, where a
    number fits one configuration only."""
    in_features = _in_features(classifier)
    function = function_of(classifier.node, module)
    expansion = source.cls.constant("expansion", module.interpreter) if source.cls else None
    if in_features is None or function is None or not isinstance(expansion, Expr):
        return None
    blocks = [p.name.value for p in function.params.params if "block" in p.name.value.lower()]
    widths = (expected.constant, produced.constant, expansion.constant)
    if not blocks or None in widths or widths[0] * widths[2] != widths[1]:  # type: ignore[operator]
        return None
    written = module.code(in_features.value)
    if not isinstance(in_features.value, (cst.Name, cst.Attribute, cst.Integer, cst.Subscript)):
        written = f"({written})" if "+" in written or "-" in written else written
    return f"{written} * {blocks[0]}.expansion"


def _fix(classifier: Layer, words: str, source: Layer, module: ModuleModel) -> Fix | None:
    """The in-features argument rewritten, where the classifier is built and when `words` mean the
    same there (a number, or names of the function that builds both)."""
    here = function_of(classifier.node, module)
    if not words.isdigit() and (here is None or here is not function_of(source.anchor, module)):
        return None
    return _replace_in_features(classifier, words)


def _replace_in_features(classifier: Layer, words: str) -> Fix | None:
    in_features = _in_features(classifier)
    return Fix.replace(in_features.value, words) if in_features is not None else None


def _in_features(classifier: Layer) -> cst.Arg | None:
    """The in-features argument as written where the classifier is built (not through a helper)."""
    call = classifier.node
    if classifier.site is not None or not isinstance(call, cst.Call):
        return None
    return argument(call, 0, "in_features")


def _flattens_a_map(produced: Expr, expected: Expr) -> bool:
    """`nn.Linear(512 * 7 * 7, ...)` after a map of 512 channels: features are channels times a
    square map (the pool kept a map, VGG-style), not a wrong channel count. Of channels that may be
    one of several sizes (`either(32, 16)`), any one will do."""
    return any(_square_map_of(option, expected) for option in choices(produced))


def _square_map_of(produced: Expr, expected: Expr) -> bool:
    values = [
        e.evaluate(lambda _name, domain: domain[0] if domain else 64) for e in (produced, expected)
    ]
    produced_value, expected_value = values
    if produced_value is None or expected_value is None or not produced_value:
        return False
    ratio = expected_value / produced_value
    side = math.isqrt(int(ratio)) if ratio >= 1 and ratio == int(ratio) else 0
    return side > 1 and side * side == ratio


def _pooled_source(before: list) -> Layer | None:
    """The layer whose channels reach the classifier through a global pool (and flatten/dropout)."""
    pooled = False
    for element in reversed(before):
        kind = kind_of(element)
        if kind in GLOBAL_POOLS:
            pooled = True
            continue
        if kind in CHANNEL_PRESERVING:
            continue
        return layer_of(element) if pooled else None
    return None


ClassifierInFeatures.INVALID = [
    """
import torch
import torch.nn as nn
class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.layer4 = nn.Conv2d(1024, 2048, 3, bias=False)
        self.avgpool = nn.AdaptiveAvgPool2d((1, 1))
        self.fc = nn.Linear(512, 1000)
    def forward(self, x):
        x = self.avgpool(self.layer4(x))
        return self.fc(torch.flatten(x, 1))
"""
]
ClassifierInFeatures.FIXED = [
    ClassifierInFeatures.INVALID[0].replace("nn.Linear(512,", "nn.Linear(2048,")
]
ClassifierInFeatures.VALID = [
    """
import torch
import torch.nn as nn
class Net(nn.Module):
    def __init__(self, expansion=4):
        super().__init__()
        self.layer4 = nn.Conv2d(1024, 512 * expansion, 3, bias=False)
        self.avgpool = nn.AdaptiveAvgPool2d((1, 1))
        self.fc = nn.Linear(512 * expansion, 1000)
    def forward(self, x):
        x = self.avgpool(self.layer4(x))
        return self.fc(torch.flatten(x, 1))
"""
]
