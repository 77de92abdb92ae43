"""RN206 factory-ignores-argument."""

from __future__ import annotations

import re
from collections.abc import Iterator

import libcst as cst

from reslint.knowledge.frameworks import HEAD_RESET, is_head, positional_parameters
from reslint.knowledge.signatures import signature
from reslint.model import ModuleModel
from reslint.model.call_binding import function_signature
from reslint.model.classes import ClassModel
from reslint.model.parameter_uses import stored, value_used
from reslint.model.queries import layer_of, layer_sequences, mentioned_names
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
            for method_name, method in cls.methods.items():
                owner = cls.name if method_name == "__init__" else f"{cls.name}.{method_name}"
                yield from _unused_output_size(method, owner, cls, module)
            init = cls.methods.get("__init__")
            if init is not None:
                yield from _same_stage_count(init, module)
        for function in module.function_defs:
            yield from _unused_output_size(function, function.name.value, None, module)


def _unused_output_size(
    function: cst.FunctionDef, owner: str, cls: ClassModel | None, module: ModuleModel
) -> Iterator[Violation]:
    """A `num_classes` parameter whose value reaches nothing that is built, passed on or returned."""
    reads = {read.value for read in module.names.functions[id(function)].reads}
    if reads & {"locals", "vars"}:
        return  # the arguments may be forwarded as a whole
    if cls is not None and _saves_hyperparameters(cls, module):
        return
    for param in function.params.params:
        name = param.name.value
        if not OUTPUT_SIZE.match(name) or value_used(function, name, module, cls):
            continue
        if _asserted(function, name):
            continue  # `assert num_classes == 1`: the class supports one value, and says so
        if cls is not None and _subclass_reads(cls, name, module):
            continue
        hidden = _hidden_widths(function, module)
        constants = [
            (call, arg)
            for call, arg in _constant_output_sizes(function, cls, module)
            if not (isinstance(arg.value, cst.Integer) and arg.value.evaluated_value in hidden)
        ]
        for call, arg in constants:
            yield Violation(
                arg.value,
                f"`{owner}` takes `{name}` but builds `{_shown(call, arg, module)}`: "
                f"{module.code(arg.value)} outputs whatever `{name}` says",
                f"pass `{name}` instead of `{module.code(arg.value)}`",
            )
        if (
            not constants
            and function.name.value == "__init__"
            and cls is not None
            and not stored(function, name)
        ):
            yield _no_classifier_uses(cls, name, param)


def _asserted(function: cst.FunctionDef, name: str) -> bool:
    """The function's own body asserts the parameter is one number (`assert num_classes == 1`):
    it supports that value alone. An assert under an `if` (only with pretrained weights) or against
    a value from elsewhere says nothing of the sizes built."""
    body = function.body.body if isinstance(function.body, cst.IndentedBlock) else ()
    return any(
        isinstance(small, cst.Assert) and _pins(small.test, name)
        for line in body
        if isinstance(line, cst.SimpleStatementLine)
        for small in line.body
    )


def _pins(test: cst.BaseExpression, name: str) -> bool:
    if not (isinstance(test, cst.Comparison) and len(test.comparisons) == 1):
        return False
    target = test.comparisons[0]
    sides = (test.left, target.comparator)
    return (
        isinstance(target.operator, cst.Equal)
        and any(isinstance(side, cst.Name) and side.value == name for side in sides)
        and any(isinstance(side, cst.Integer) for side in sides)
    )


def _saves_hyperparameters(cls: ClassModel, module: ModuleModel) -> bool:
    """Lightning's `self.save_hyperparameters()` captures the arguments, read as `self.hparams.X`."""
    return any(
        attribute.attr.value in ("save_hyperparameters", "hparams")
        for method in cls.methods.values()
        for attribute in module.attributes_in_method(method)
    )


def _no_classifier_uses(cls: ClassModel, name: str, param: cst.Param) -> Violation:
    classifier = _classifier(cls)
    where = classifier.anchor if classifier is not None else param
    has = (
        f"its classifier `{classifier.name()}` has a fixed number of outputs"
        if classifier is not None
        else "the network has no classifier that uses it"
    )
    return Violation(
        where,
        f"`{cls.name}` takes `{name}` but never uses it: {has}",
        f"build the classifier with `{name}` outputs (`nn.Linear(..., {name})`)",
    )


def _hidden_widths(function: cst.FunctionDef, module: ModuleModel) -> set[int]:
    """The integer input widths of the linear layers the function builds (`nn.Linear(256, 128)`):
    a layer that outputs one of them feeds another layer of the head, and its width is a hidden
    one, not the number of classes (`Linear(d, 256), SiLU(), Linear(256, 128), ..., Linear(128, 66)`
    reports 66 alone)."""
    return {
        width.evaluated_value
        for call in module.calls_in(function)
        if module.imports.qualified(call.func) == "torch.nn.Linear"
        and (width := _input_width(call)) is not None
    }


def _input_width(call: cst.Call) -> cst.Integer | None:
    """The integer `in_features` of an `nn.Linear(...)` call, when it is written as one."""
    for index, arg in enumerate(call.args):
        if (arg.keyword is None and index == 0) or (
            arg.keyword is not None and arg.keyword.value == "in_features"
        ):
            return arg.value if isinstance(arg.value, cst.Integer) else None
    return None


def _constant_output_sizes(
    function: cst.FunctionDef, cls: ClassModel | None, module: ModuleModel
) -> Iterator[tuple[cst.Call, cst.Arg]]:
    """Integer literals passed where a call takes its number of outputs (`nn.Linear(2048, 1000)`,
    `create_classifier(n, 1000)`, `ResNet(..., num_classes=1000)`, `self.head.reset(1000)`)."""
    for call in module.calls_in(function):
        if any(arg.star == "*" for arg in call.args):
            continue
        parameters = _positional_parameters(call, cls, module)
        positional = [arg for arg in call.args if arg.keyword is None and not arg.star]
        for arg in call.args:
            if not isinstance(arg.value, cst.Integer) or arg.star:
                continue
            if arg.keyword is not None:
                slot = arg.keyword.value
            else:
                index = positional.index(arg)
                slot = parameters[index] if index < len(parameters) else ""
            if OUTPUT_SIZE.match(slot):
                yield call, arg


def _positional_parameters(
    call: cst.Call, cls: ClassModel | None, module: ModuleModel
) -> tuple[str, ...]:
    """What the callee calls its positional parameters: a torch layer's or a framework builder's
    from reslint's tables, a class's or function's of the project (a record's fields, for the
    settings of a network gathered in a NamedTuple or dataclass), a timm head's `reset`."""
    qualified = module.imports.qualified(call.func)
    if qualified is not None:
        found = signature(qualified)
        return found.positional if found is not None else (positional_parameters(qualified) or ())
    if isinstance(call.func, cst.Name):
        definition = module.definition(call.func.value, call)
        if isinstance(definition, ClassModel):
            init = definition.method("__init__")
            if init is not None:
                return function_signature(init, bound=True).positional
            return definition.record_fields() or ()
        if isinstance(definition, cst.FunctionDef):
            return function_signature(definition).positional
    if cls is not None and _resets_a_head(call, cls, module):
        return HEAD_RESET[1]
    return ()


def _resets_a_head(call: cst.Call, cls: ClassModel, module: ModuleModel) -> bool:
    """`self.head.reset(...)` where the class builds `self.head` with a known classifier head."""
    func = call.func
    if not (isinstance(func, cst.Attribute) and func.attr.value == HEAD_RESET[0]):
        return False
    receiver = func.value
    if not (isinstance(receiver, cst.Attribute) and isinstance(receiver.value, cst.Name)):
        return False
    for method in cls.methods.values():
        for target in module.attribute_stores_in_method(method):
            if target.attr.value != receiver.attr.value:
                continue
            assignment = module.names.parents.get(id(module.names.parents.get(id(target))))
            value = assignment.value if isinstance(assignment, cst.Assign) else None
            qualified = (
                module.imports.qualified(value.func) if isinstance(value, cst.Call) else None
            )
            if qualified is not None and is_head(qualified):
                return True
    return False


def _shown(call: cst.Call, arg: cst.Arg, module: ModuleModel) -> str:
    """`nn.Linear(..., 1000)`, `FBResNet(..., num_classes=1000)`: the call, the constant in view."""
    written = module.code(arg).strip().rstrip(",").strip()
    return f"{module.code(call.func)}(..., {written})"


def _subclass_reads(cls: ClassModel, name: str, module: ModuleModel) -> bool:
    """A shared trunk leaves the head to its subclasses, which take `name` and build it (a call
    other than the `super().__init__(...)` that hands it back to the trunk)."""
    for subclass in module.subclasses(cls):
        init = subclass.methods.get("__init__")
        if init is None:
            continue
        for call in module.calls_in(init):
            if module.code(call.func).endswith("__init__"):
                continue
            if any(name in mentioned_names(arg.value) for arg in call.args):
                return True
    return False


def _classifier(cls: ClassModel):
    """The last linear layer of the class's forward, if any."""
    instance = cls.generic
    if instance is None:
        return None
    layers = [layer_of(e) for chain in layer_sequences(instance) for e in chain]
    linears = [layer for layer in layers if layer is not None and layer.kind == "linear"]
    return linears[-1] if linears else None


def _same_stage_count(init: cst.FunctionDef, module: ModuleModel) -> Iterator[Violation]:
    """`self._make_layer(block, 128, layers[0])` for every stage.

    A per-stage list is read by repeated calls of one stage builder, in the same argument slot: the
    same entry given to different callees (a decoder's `nn.Linear(dims[3])`, `Block(dims[3])`) or
    to torch layers (a per-conv `stride[0]` list) is not a stage count.
    """
    params = {p.name.value for p in init.params.params}
    by_slot: dict[tuple[str, str, str], list[tuple[str, cst.BaseExpression]]] = {}
    for call in module.calls_in(init):
        callee = module.code(call.func)
        if (module.imports.qualified(call.func) or "").startswith("torch."):
            continue
        for position, arg in enumerate(call.args):
            index = _constant_index(arg.value, params)
            if index is not None:
                slot = arg.keyword.value if arg.keyword is not None else str(position)
                by_slot.setdefault((index[0], callee, slot), []).append((index[1], arg.value))
    read_at: dict[str, set[str]] = {}
    for (name, _, _), uses in by_slot.items():
        read_at.setdefault(name, set()).update(index for index, _ in uses)
    for (name, _, _), uses in by_slot.items():
        if len(uses) >= 3 and len(read_at[name]) == 1:
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
