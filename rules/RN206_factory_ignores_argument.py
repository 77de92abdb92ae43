"""RN206 factory-ignores-argument."""

from __future__ import annotations

import re
from collections.abc import Iterator

import libcst as cst

from reslint.model import ModuleModel
from reslint.model.classes import ClassModel
from reslint.model.queries import layer_of, layer_sequences
from reslint.rule import Rule, Violation

# Parameters that size a network's output.
OUTPUT_SIZE = re.compile(
    r"^(num_classes|n_classes|classes|nb_classes|num_labels|out_features|n_out)$"
)


class FactoryIgnoresArgument(Rule):
    """## What it does
    Checks that a network uses what it is given: the number of classes reaches the classifier, and a
    list of blocks per stage is read one entry per stage (not `block_nums[0]` for every stage).

    ## Why is this bad?
    `ResNet(num_classes=10)` that still builds `nn.Linear(2048, 1000)` trains a 1000-way classifier on
    10 labels (or has no classifier at all); `resnet50()` that builds every stage from
    `layers[0]` is a ResNet-26. The code runs, and the mistake shows only in the accuracy or in a
    checkpoint that does not load.

    ## Example
    ```python
    def __init__(self, block, layers, num_classes=1000):
        ...
        self.layer2 = self._make_layer(block, 128, layers[0], stride=2)
        self.fc = nn.Linear(512 * block.expansion, 1000)
    ```

    Use instead:
    ```python
        self.layer2 = self._make_layer(block, 128, layers[1], stride=2)
        self.fc = nn.Linear(512 * block.expansion, num_classes)
    ```
    """

    code = "RN206"
    name = "factory-ignores-argument"

    def check(self, module: ModuleModel) -> Iterator[Violation]:
        for cls in module.analysed_classes:
            init = cls.methods.get("__init__")
            if init is None:
                continue
            yield from _unused_output_size(cls, init, module)
            yield from _same_stage_count(init, module)


def _unused_output_size(
    cls: ClassModel, init: cst.FunctionDef, module: ModuleModel
) -> Iterator[Violation]:
    reads = {read.value for read in module.names.functions[id(init)].reads}
    if reads & {"kwargs", "locals", "vars"}:
        return  # may be forwarded through **kwargs or locals()
    # Lightning's `self.save_hyperparameters()` captures the arguments, read as `self.hparams.X`.
    reads |= {
        attribute.attr.value
        for method in cls.methods.values()
        for attribute in module.attributes_in_method(method)
    }
    if "save_hyperparameters" in reads:
        return
    for param in init.params.params:
        name = param.name.value
        if not OUTPUT_SIZE.match(name) or name in reads:
            continue
        classifier = _classifier(cls)
        where = classifier.anchor if classifier is not None else param
        has = (
            f"its classifier `{classifier.name()}` has a fixed number of outputs"
            if classifier is not None
            else "the network has no classifier that uses it"
        )
        yield Violation(
            where,
            f"`{cls.name}` takes `{name}` but never uses it: {has}",
            f"build the classifier with `{name}` outputs (`nn.Linear(..., {name})`)",
        )


def _classifier(cls: ClassModel):
    """The last linear layer of the class's forward, if any."""
    instance = cls.generic
    if instance is None:
        return None
    layers = [layer_of(e) for chain in layer_sequences(instance) for e in chain]
    linears = [layer for layer in layers if layer is not None and layer.kind == "linear"]
    return linears[-1] if linears else None


def _same_stage_count(init: cst.FunctionDef, module: ModuleModel) -> Iterator[Violation]:
    """`self._make_layer(block, 128, layers[0])` for every stage."""
    params = {p.name.value for p in init.params.params}
    by_list: dict[str, list[tuple[str, cst.BaseExpression]]] = {}
    for call in module.calls_in(init):
        for arg in call.args:
            index = _constant_index(arg.value, params)
            if index is not None:
                by_list.setdefault(index[0], []).append((index[1], arg.value))
    for name, uses in by_list.items():
        indices = {index for index, _ in uses}
        if len(uses) >= 3 and len(indices) == 1:
            for _, node in uses[1:]:
                yield Violation(
                    node,
                    f"every stage is built from `{module.code(node)}`: `{name}` gives one count per "
                    "stage, but only one entry is ever read",
                    f"read one entry per stage (`{name}[0]`, `{name}[1]`, ...)",
                )


def _constant_index(node: cst.BaseExpression, params: set[str]) -> tuple[str, str] | None:
    if not (isinstance(node, cst.Subscript) and isinstance(node.value, cst.Name)):
        return None
    if node.value.value not in params or len(node.slice) != 1:
        return None
    inner = node.slice[0].slice
    if isinstance(inner, cst.Index) and isinstance(inner.value, cst.Integer):
        return node.value.value, inner.value.value
    return None


FactoryIgnoresArgument.INVALID = [
    """
import torch.nn as nn
class Net(nn.Module):
    def __init__(self, num_classes=10):
        super().__init__()
        self.features = nn.Conv2d(3, 64, 3)
        self.pool = nn.AdaptiveAvgPool2d(1)
        self.fc = nn.Linear(64, 1000)
    def forward(self, x):
        return self.fc(self.pool(self.features(x)).flatten(1))
""",
    """
import torch.nn as nn
class ResNet(nn.Module):
    def __init__(self, block, block_nums, num_classes=1000):
        super().__init__()
        self.layer1 = self._make_layer(block, 64, block_nums[0])
        self.layer2 = self._make_layer(block, 128, block_nums[0], stride=2)
        self.layer3 = self._make_layer(block, 256, block_nums[0], stride=2)
        self.fc = nn.Linear(256, num_classes)
""",
]
FactoryIgnoresArgument.VALID = [
    """
import torch.nn as nn
class ResNet(nn.Module):
    def __init__(self, block, layers, num_classes=1000, **kwargs):
        super().__init__()
        self.layer1 = self._make_layer(block, 64, layers[0])
        self.layer2 = self._make_layer(block, 128, layers[1], stride=2)
        self.layer3 = self._make_layer(block, 256, layers[2], stride=2)
        self.fc = nn.Linear(256, num_classes)
"""
]
