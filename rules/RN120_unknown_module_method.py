"""RN120 unknown-module-method."""

from __future__ import annotations

from collections.abc import Iterator

import libcst as cst

from reslint.knowledge.names import names_in
from reslint.knowledge.spelling import did_you_mean
from reslint.model import ModuleModel
from reslint.model.classes import ClassModel
from reslint.model.values import Layer, options
from reslint.rule import Rule, Violation

# Where a function that is not a method may live, in the order a user most likely means it.
FUNCTION_HOMES = (
    "torch.hub",
    "torch.utils.model_zoo",
    "torch.nn.init",
    "torch.nn.utils",
    "torch.nn.functional",
    "torch",
)
# Calls that set an attribute under a name given as a string: the position of that argument.
NAMED_SETTERS = {
    "setattr": 1,
    "add_module": 0,
    "register_module": 0,
    "register_buffer": 0,
    "register_parameter": 0,
}


class UnknownModuleMethod(Rule):
    """## What it does
    Checks for a method called on a model built from one of the file's nn.Module classes (or a
    factory that returns one) that neither the class, its bases nor nn.Module define, such as
    `model.load_state_dict_from_url(...)`. It says what was probably meant: a method of a close
    spelling, a torch function of that name (`torch.hub.load_state_dict_from_url`), or a Tensor
    method.

    ## Why is this bad?
    The call raises `AttributeError: 'ResNet' object has no attribute ...`, typically on the branch
    that loads pretrained weights, which the author's own runs never took.

    ## Example
    ```python
    model = ResNet(Bottleneck, [3, 4, 6, 3])
    if pretrained:
        model.load_state_dict_from_url(model_urls["resnet50"])
    ```

    Use instead:
    ```python
    model = ResNet(Bottleneck, [3, 4, 6, 3])
    if pretrained:
        model.load_state_dict(torch.hub.load_state_dict_from_url(model_urls["resnet50"]))
    ```
    """

    code = "RN120"
    name = "unknown-module-method"

    def check(self, module: ModuleModel) -> Iterator[Violation]:
        stored = _names_set_anywhere(module)
        if stored is None:
            return  # some attribute is set under a computed name: any method may exist
        known = stored | (names_in("torch.nn.Module") or frozenset())
        for call, function in module.names.calls:
            method = call.func
            if not isinstance(method, cst.Attribute) or method.attr.value in known:
                continue
            name = method.attr.value
            classes = _receiver_classes(method.value, function, module)
            if not classes or not all(_seen_completely(cls) for cls in classes):
                continue
            defined = _defined_names(classes)
            if defined is not None and name not in defined:
                yield _violation(method, name, classes, defined | known, module)


def _violation(
    method: cst.Attribute,
    name: str,
    classes: list[ClassModel],
    known: set[str],
    module: ModuleModel,
) -> Violation:
    receiver = module.code(method.value)
    owners = " / ".join(f"`{cls.name}`" for cls in classes)
    message = f"`{receiver}.{name}` does not exist (neither {owners} nor nn.Module defines it)"
    spelling = did_you_mean(name, (n for n in known if not n.startswith("_")))
    if spelling:
        return Violation(
            method, f"{message}: did you mean `{receiver}.{spelling}`?", f"write `.{spelling}`"
        )
    home = next((h for h in FUNCTION_HOMES if name in (names_in(h) or ())), None)
    if home and not name.startswith("_"):
        return Violation(
            method,
            f"{message}: did you mean the function `{home}.{name}`?",
            f"call `{home}.{name}(...)`; it is not a method of the model",
        )
    if name in (names_in("torch.Tensor") or ()):
        return Violation(
            method,
            f"{message}: `{name}` is a Tensor method",
            f"call it on a tensor, such as the model's output `{receiver}(x).{name}(...)`",
        )
    return Violation(method, message, f"define `{name}` in {owners} or call an existing method")


def _defined_names(classes: list[ClassModel]) -> set[str] | None:
    """The names the classes and their bases define, and those stored in the files that define them
    (a base may come from another linted file). None when one of those files sets a computed name."""
    names: set[str] = set()
    for cls in classes:
        for current in [cls, *cls.ancestors()]:
            stored = _names_set_anywhere(current.module)
            if stored is None:
                return None
            names |= stored | _body_names(current)
    return names


def _names_set_anywhere(module: ModuleModel) -> set[str] | None:
    """Every attribute name the file stores (`self.x = ...`, `setattr(self, "x", ...)`): a method may
    be such an attribute. None when some name is computed (`setattr(self, name, ...)`, `__dict__`)."""
    names = {target.attr.value for target, _function in module.names.attribute_stores}
    if any(attribute.attr.value == "__dict__" for attribute, _ in module.names.attributes):
        return None
    for call, _function in module.names.calls:
        func = call.func
        called = func.attr if isinstance(func, cst.Attribute) else func
        position = NAMED_SETTERS.get(called.value) if isinstance(called, cst.Name) else None
        if position is None:
            continue
        given = call.args[position].value if len(call.args) > position else None
        if not isinstance(given, cst.SimpleString):
            return None
        names.add(str(given.evaluated_value))
    return names


def _receiver_classes(
    receiver: cst.BaseExpression, function: cst.FunctionDef | None, module: ModuleModel
) -> list[ClassModel] | None:
    """The file's classes the receiver is surely an instance of, or None when that is not sure."""
    if isinstance(receiver, cst.Call):
        return _built_by(receiver, function, module)
    if not isinstance(receiver, cst.Name):
        return None
    values = _assigned_values(receiver.value, function, module)
    if not values:
        return None
    found: list[ClassModel] = []
    for value in values:
        classes = _built_by(value, function, module) if isinstance(value, cst.Call) else None
        if classes is None:
            return None
        found += [cls for cls in classes if cls not in found]
    return found


def _built_by(
    call: cst.Call, function: cst.FunctionDef | None, module: ModuleModel
) -> list[ClassModel] | None:
    """The classes a call surely builds: `ResNet(...)`, or a factory `resnet50()` of the file."""
    if not isinstance(call.func, cst.Name):
        return None
    callee = call.func.value
    if function is not None and callee in module.names.functions[id(function)].bound:
        return None  # a local of the same name
    cls = module.class_named(callee, call)
    if cls is not None:
        return [cls] if _meant_as_module(cls) else None
    factory = module.function_named(callee, call)
    if factory is None:
        return None
    classes: list[ClassModel] = []
    for value in options(module.factory_model(factory)):
        if not isinstance(value, Layer) or value.cls is None or not _meant_as_module(value.cls):
            return None
        if value.cls not in classes:
            classes.append(value.cls)
    return classes or None


def _meant_as_module(cls: ClassModel) -> bool:
    """An nn.Module, or a class with a forward that forgot to inherit it (RN104 reports that)."""
    return cls.is_module or cls.method("forward") is not None


def _assigned_values(
    name: str, function: cst.FunctionDef | None, module: ModuleModel
) -> list[cst.BaseExpression] | None:
    """What `name` is assigned, when every binding of it in its function is a plain `name = value`."""
    if function is None or name not in module.names.functions[id(function)].bound:
        return None  # module-level and enclosing-scope names can be rebound from anywhere
    values = []
    for binding in module.names.functions[id(function)].bound[name]:
        target = module.names.parents.get(id(binding))
        statement = module.names.parents.get(id(target))
        if not isinstance(target, cst.AssignTarget) or not isinstance(statement, cst.Assign):
            return None  # a parameter, loop variable, import, unpacking...
        values.append(statement.value)
    return values


def _seen_completely(cls: ClassModel) -> bool:
    """reslint sees every attribute the class can have: it and its bases are the file's plain
    classes over nn.Module, without decorators, metaclasses or __getattr__."""
    for current in [cls, *cls.ancestors()]:
        if current.node.decorators or any(arg.keyword for arg in current.node.bases):
            return False
        if "__getattr__" in current.methods or "__getattribute__" in current.methods:
            return False
        torch_or_object = [b for b in current.base_nodes if _module_or_object(b, current.module)]
        if len(torch_or_object) + len(current.local_bases()) != len(current.base_nodes):
            return False  # a base reslint cannot see
        if not all(
            isinstance(s, (cst.FunctionDef, cst.ClassDef, cst.SimpleStatementLine))
            for s in current.node.body.body
        ):
            return False  # a conditional definition in the class body
    return True


def _module_or_object(base: cst.BaseExpression, module: ModuleModel) -> bool:
    if isinstance(base, cst.Name) and base.value == "object":
        return True
    return module.imports.qualified(base) == "torch.nn.Module"


def _body_names(cls: ClassModel) -> set[str]:
    """Names a class body defines: methods, nested classes, class attributes."""
    names: set[str] = set()
    for statement in cls.node.body.body:
        if isinstance(statement, (cst.FunctionDef, cst.ClassDef)):
            names.add(statement.name.value)
        elif isinstance(statement, cst.SimpleStatementLine):
            for small in statement.body:
                names |= _bound_names(small)
    return names


def _bound_names(statement: cst.BaseSmallStatement) -> set[str]:
    targets: list[cst.BaseExpression] = []
    if isinstance(statement, cst.Assign):
        targets = [target.target for target in statement.targets]
    elif isinstance(statement, (cst.AnnAssign, cst.AugAssign)):
        targets = [statement.target]
    names = set()
    while targets:
        target = targets.pop()
        if isinstance(target, cst.Name):
            names.add(target.value)
        elif isinstance(target, (cst.Tuple, cst.List)):
            targets += [element.value for element in target.elements]
    return names


UnknownModuleMethod.INVALID = [
    """
import torch.nn as nn
class ResNet(nn.Module):
    def __init__(self, layers):
        super().__init__()
        self.fc = nn.Linear(512, 10)
    def forward(self, x):
        return self.fc(x)
def resnet50(pretrained=False):
    model = ResNet([3, 4, 6, 3])
    if pretrained:
        model.load_state_dict_from_url("https://example.org/resnet50.pth")
    return model
""",
    """
import torch.nn as nn
class Net(nn.Module):
    def forward(self, x):
        return x
def build():
    return Net()
def main():
    net = build()
    net.evaluate()
""",
]
UnknownModuleMethod.VALID = [
    """
import torch
import torch.nn as nn
class ResNet(nn.Module):
    def __init__(self):
        super().__init__()
        self.fc = nn.Linear(512, 10)
    def forward(self, x):
        return self.fc(x)
    def freeze(self):
        pass
def resnet50(pretrained=False):
    model = ResNet()
    model.freeze()
    model.fc.reset_parameters()
    if pretrained:
        model.load_state_dict(torch.hub.load_state_dict_from_url("https://example.org/r50.pth"))
    return model.eval()
""",
    """
import torch.nn as nn
from mylib import Backbone
class Net(Backbone):
    def forward(self, x):
        return x
def main():
    net = Net()
    net.load_pretrained()
""",
    """
import torch.nn as nn
class Net(nn.Module):
    def __init__(self, heads):
        super().__init__()
        for name in heads:
            setattr(self, name, nn.Linear(512, 10))
    def forward(self, x):
        return x
def main():
    net = Net(["classify"])
    net.classify(None)
""",
]
