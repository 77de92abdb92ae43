"""RN112 module-built-in-forward."""

from __future__ import annotations

import re
from collections.abc import Iterator

import libcst as cst

from reslint.knowledge.layers import CONTAINER_LAYERS, PARAMETERIZED_LAYERS
from reslint.model import ModuleModel
from reslint.model.classes import ClassModel
from reslint.model.walk import descendants
from reslint.rule import Rule, Violation

_SELF_ATTRIBUTE = re.compile(r"\bself\.(\w+)")


class ModuleBuiltInForward(Rule):
    """## What it does
    Checks `forward` for a layer with parameters built there: assigned to `self.X`, called on the
    spot (`nn.Linear(512, 10)(x)`), or kept in a local that is called.

    Layers with parameters are convs, linears, norms with affine weights, embeddings, recurrent
    layers, containers holding any of them, and the file's own modules that build such layers.

    ## Why is this bad?
    Every forward pass draws new random weights: the optimizer (built from `model.parameters()`
    before training) never sees them, they are never trained, `state_dict()` does not save them,
    and the layer lands on the CPU even when the model is on the GPU. Parameter-free modules
    (`nn.ReLU()(x)`, `nn.Flatten()`) are harmless there and not reported, nor is a layer built once
    behind a test such as `if self.fc is None:` (lazy initialisation).

    ## Example
    ```python
    def forward(self, x):
        out = self.layer4(self.layer3(x))
        out = F.adaptive_avg_pool2d(out, 1).flatten(1)
        return nn.Linear(512, self.num_classes)(out)
    ```

    Use instead:
    ```python
    def __init__(self, num_classes=10):
        ...
        self.fc = nn.Linear(512, num_classes)

    def forward(self, x):
        out = self.layer4(self.layer3(x))
        out = F.adaptive_avg_pool2d(out, 1).flatten(1)
        return self.fc(out)
    ```
    """

    code = "RN112"
    name = "module-built-in-forward"

    def check(self, module: ModuleModel) -> Iterator[Violation]:
        known: dict[int, bool] = {}  # id of a class of the file -> whether it owns parameters
        for cls in module.module_classes:
            for forward in _forward_methods(cls, module):
                yield from self._check_method(cls.name, forward, module, known)

    def _check_method(
        self, class_name: str, forward: cst.FunctionDef, module: ModuleModel, known: dict[int, bool]
    ) -> Iterator[Violation]:
        for call in module.calls_in(forward):
            if not _has_parameters(call, module, known):
                continue
            use = _how_used(call, forward, module)
            if use:
                yield Violation(
                    call,
                    f"`{module.code(call.func)}(...)` is built inside "
                    f"`{class_name}.{forward.name.value}` ({use}): it gets new random weights "
                    "on every call, which are never trained nor saved",
                    "build it once in `__init__` (`self.layer = ...`) and call `self.layer(x)` "
                    "in forward",
                )


def _forward_methods(cls: ClassModel, module: ModuleModel) -> list[cst.FunctionDef]:
    """`forward` and the class's own methods it calls on self, directly or through each other
    (torchvision's `_forward_impl`): every call of the network runs them."""
    forward = cls.methods.get("forward")
    found = [forward] if forward is not None else []
    for method in found:  # grows while it is walked
        for call in module.calls_in(method):
            func = call.func
            if not (
                isinstance(func, cst.Attribute)
                and isinstance(func.value, cst.Name)
                and func.value.value == "self"
            ):
                continue
            called = cls.methods.get(func.attr.value)
            if called is not None and all(called is not seen for seen in found):
                found.append(called)
    return found


def _has_parameters(call: cst.Call, module: ModuleModel, known: dict[int, bool]) -> bool:
    """Whether the call constructs a module that owns parameters."""
    qualified = module.imports.qualified(call.func) or ""
    if qualified.startswith("torch.nn.") and qualified.count(".") == 2:
        kind = qualified.rsplit(".", 1)[1]
        if kind in CONTAINER_LAYERS:
            return any(_holds_parameters(arg.value, module, known) for arg in call.args)
        if kind in PARAMETERIZED_LAYERS:
            return _switched_on(call, PARAMETERIZED_LAYERS[kind])
        return False
    if isinstance(call.func, cst.Name):
        cls = module.class_named(call.func.value, call)
        if cls is not None and cls.is_module:
            if id(cls) not in known:
                known[id(cls)] = False  # a class that builds itself adds nothing
                known[id(cls)] = _class_has_parameters(cls, module, known)
            return known[id(cls)]
    return False


def _holds_parameters(
    node: cst.BaseExpression, module: ModuleModel, known: dict[int, bool]
) -> bool:
    """A container argument: a layer, a list / dict of layers, or `*layers` of them."""
    if isinstance(node, cst.Call):
        return _has_parameters(node, module, known)
    if isinstance(node, (cst.List, cst.Tuple)):
        return any(_holds_parameters(e.value, module, known) for e in node.elements)
    if isinstance(node, cst.Dict):
        return any(
            isinstance(e, cst.DictElement) and _holds_parameters(e.value, module, known)
            for e in node.elements
        )
    return False


def _switched_on(call: cst.Call, switch: tuple[str, int, bool] | None) -> bool:
    """Whether the parameters are on: `affine=False` turns a BatchNorm's off; unknown values count
    as off (silence when it cannot be decided)."""
    if switch is None:
        return True
    keyword, position, default = switch
    given = [arg.value for arg in call.args if arg.keyword and arg.keyword.value == keyword]
    positional = [arg.value for arg in call.args if arg.keyword is None and not arg.star]
    if not given and len(positional) > position:
        given = [positional[position]]
    if not given:
        return default
    value = given[0]
    return isinstance(value, cst.Name) and value.value == "True"


def _class_has_parameters(cls: ClassModel, module: ModuleModel, known: dict[int, bool]) -> bool:
    """One of the file's modules whose methods (or its local bases') build a layer with parameters
    or an `nn.Parameter`."""
    methods = {id(method): method for c in [cls, *cls.ancestors()] for method in c.methods.values()}
    for call in (call for method in methods.values() for call in module.calls_in(method)):
        if module.imports.qualified(call.func) == "torch.nn.Parameter":
            return True
        if _has_parameters(call, module, known):
            return True
    return False


def _how_used(call: cst.Call, forward: cst.FunctionDef, module: ModuleModel) -> str:
    """How forward uses the new module: "called on the spot", "assigned to `self.fc`", "stored in
    `fc`", or "" when it is none of these or is a one-time lazy initialisation."""
    parent = module.names.parents.get(id(call))
    if isinstance(parent, cst.Call) and parent.func is call:
        return "called on the spot"
    if not isinstance(parent, cst.Assign) or len(parent.targets) != 1:
        return ""
    target = parent.targets[0].target
    if (
        isinstance(target, cst.Attribute)
        and isinstance(target.value, cst.Name)
        and target.value.value == "self"
    ):
        if _lazily_built(parent, target.attr.value, forward, module):
            return ""
        return f"assigned to `self.{target.attr.value}`"
    if isinstance(target, cst.Name) and _called(target.value, forward, module):
        return f"stored in `{target.value}`"
    if isinstance(target, cst.Name) and _returned(target.value, forward, module):
        return f"returned as the output in `{target.value}`"
    return ""


def _returned(name: str, forward: cst.FunctionDef, module: ModuleModel) -> bool:
    """`return x` right after `x = nn.Linear(...)`: forward hands back the module, not a tensor."""
    return any(
        isinstance(node, cst.Return)
        and isinstance(node.value, cst.Name)
        and node.value.value == name
        for node in descendants(forward)
    )


def _called(name: str, forward: cst.FunctionDef, module: ModuleModel) -> bool:
    return any(
        isinstance(call.func, cst.Name) and call.func.value == name
        for call in module.calls_in(forward)
    )


def _lazily_built(
    statement: cst.CSTNode, attribute: str, forward: cst.FunctionDef, module: ModuleModel
) -> bool:
    """Inside an `if` that tests `self.<attribute>` (`if self.fc is None:`), `hasattr`, or a flag on
    self that the same branch sets (`if not self.built: ...; self.built = True`)."""
    current = module.names.parents.get(id(statement))
    while current is not None and current is not forward:
        if isinstance(current, cst.If):
            test = module.code(current.test)
            tested = set(_SELF_ATTRIBUTE.findall(test))
            if attribute in tested or "hasattr" in test or tested & _set_on_self(current, module):
                return True
        current = module.names.parents.get(id(current))
    return False


def _set_on_self(branch: cst.If, module: ModuleModel) -> set[str]:
    return {
        target.attr.value
        for target, _ in module.names.attribute_stores
        if isinstance(target.value, cst.Name)
        and target.value.value == "self"
        and module.names.contains(branch.body, target)
    }


ModuleBuiltInForward.INVALID = [
    """
import torch.nn as nn
class ResNet(nn.Module):
    def forward(self, x):
        out = self.layer4(x).mean((2, 3))
        return nn.Linear(512, 10)(out)
""",
    """
import torch.nn as nn
class Block(nn.Module):
    def __init__(self):
        super().__init__()
        self.conv = nn.Conv2d(64, 64, 3, padding=1)
class Net(nn.Module):
    def forward(self, x):
        self.bn = nn.BatchNorm2d(64)
        self.block = Block()
        return self.block(self.bn(x))
""",
]
ModuleBuiltInForward.VALID = [
    """
import torch.nn as nn
class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.fc = None
    def forward(self, x):
        x = nn.ReLU()(x)
        x = nn.Flatten()(x)
        x = nn.BatchNorm1d(x.shape[1], affine=False)(x)
        if self.fc is None:
            self.fc = nn.Linear(x.shape[1], 10)
        return self.fc(x)
"""
]
