"""RN111 helper-arity."""

from __future__ import annotations

from collections.abc import Iterator

import libcst as cst

from reslint.knowledge.signatures import Signature
from reslint.model import ModuleModel
from reslint.model.call_binding import argument_keywords, function_signature
from reslint.rule import Rule, Violation


class HelperArity(Rule):
    """## What it does
    Checks calls to the file's own helper functions (`conv3x3`, `conv1x1`, `_make_layer`...) and
    classes (`BasicBlock(64, 64, stride=2)`, checked against their `__init__`) for more positional
    arguments than the helper accepts, unknown keywords, the same argument given twice, or missing
    arguments. Decorated helpers and classes are skipped: a decorator may give them another
    signature (fastai's `@module()` turns `def Identity(self, x)` into a module class called as
    `Identity()`), and so are classes built on a base reslint cannot see or with a `__new__`.

    ## Why is this bad?
    The call raises `TypeError` when the model is built. It usually means a line was copied from
    another helper: `conv1x1(width, width, stride, groups, dilation)` copies conv3x3's call.

    ## Example
    ```python
    def conv1x1(in_planes, out_planes, stride=1):
        ...
    self.conv3 = conv1x1(width, planes * self.expansion, stride, groups, dilation)
    ```

    Use instead:
    ```python
    self.conv3 = conv1x1(width, planes * self.expansion)
    ```
    """

    code = "RN111"
    name = "helper-arity"

    def check(self, module: ModuleModel) -> Iterator[Violation]:
        for call, function in module.names.calls:
            if any(arg.star for arg in call.args):
                continue
            name: str | None
            if isinstance(call.func, cst.Name):
                name = call.func.value
                signature = _callee_signature(module, name, call)
                if function is not None and name in module.names.functions[id(function)].bound:
                    continue  # shadowed by a local
            else:
                name = _self_method_name(call, function)
                signature = _method_signature(module, name, function) if name else None
            if signature is None or name is None:
                continue
            problem = signature.bind(argument_keywords(call)).problem
            if problem:
                yield Violation(
                    call,
                    f"`{name}()` {problem}: this call raises TypeError",
                    f"call it as `{name}({', '.join(signature.positional)})`",
                )


def _callee_signature(module: ModuleModel, name: str, call: cst.Call) -> Signature | None:
    """The signature a call of the file's own function or class `name` is bound against, or None
    when reslint cannot be sure of it."""
    helper = module.function_named(name, call)
    if helper is not None:
        # a decorator may change the signature (fastai's `@module()`, `@delegates`)
        return None if helper.decorators else function_signature(helper)
    cls = module.class_named(name, call)
    if cls is None or cls.node.decorators or cls.has_unresolved_bases:
        return None
    if any(arg.keyword is not None for arg in cls.node.bases) or cls.method("__new__"):
        return None  # a metaclass or __new__ decides what the call accepts
    init = cls.method("__init__")
    if init is None or init.decorators:
        return None  # torch's own constructor, or a wrapped one
    return function_signature(init, bound=True)


def _self_method_name(call: cst.Call, function: cst.FunctionDef | None) -> str | None:
    """`_make_layer` for a call `self._make_layer(...)` inside a method whose instance is `self`."""
    func = call.func
    if function is None or not isinstance(func, cst.Attribute):
        return None
    params = [*function.params.posonly_params, *function.params.params]
    receiver = func.value
    if not params or not isinstance(receiver, cst.Name) or receiver.value != params[0].name.value:
        return None
    return func.attr.value


def _method_signature(
    module: ModuleModel, name: str, function: cst.FunctionDef | None
) -> Signature | None:
    """The signature `self.name(...)` binds against inside `function`, or None when a subclass or a
    base reslint cannot see may supply another method of that name, or a decorator may change it."""
    cls = module.class_of(function)
    if cls is None or function is None or function.decorators or cls.has_unresolved_bases:
        return None
    method = cls.method(name)
    if method is None or method.decorators:
        return None
    if any(name in sub.methods for sub in module.subclasses(cls)):
        return None  # an override in a subclass may take other arguments
    return function_signature(method, bound=True)


HelperArity.INVALID = [
    """
import torch.nn as nn
def conv1x1(in_planes, out_planes, stride=1):
    return nn.Conv2d(in_planes, out_planes, kernel_size=1, stride=stride, bias=False)
conv = conv1x1(64, 64, 1, 1, 1)
""",
    """
import torch.nn as nn
class ResidualBlock(nn.Module):
    def __init__(self, in_ch, out_ch, stride):
        super().__init__()
        self.conv = nn.Conv2d(in_ch, out_ch, 3, stride, 1)
blocks = [ResidualBlock(64, 128, 4, stride=2)]
""",
]
HelperArity.VALID = [
    """
import torch.nn as nn
def conv1x1(in_planes, out_planes, stride=1):
    return nn.Conv2d(in_planes, out_planes, kernel_size=1, stride=stride, bias=False)
conv = conv1x1(64, 64, stride=2)
""",
    """
import torch.nn as nn
from fastcore.meta import delegates
def module(*fields):
    def make(forward):
        return type(forward.__name__, (nn.Module,), {"forward": forward})
    return make
@module()
def Identity(self, x):
    return x
@delegates(nn.BatchNorm2d)
def BatchNorm(nf, ndim=2, **kwargs):
    return nn.BatchNorm2d(nf, **kwargs)
layers = [Identity(), BatchNorm(64, eps=1e-3)]
""",
    """
import torch.nn as nn
from somewhere import Registry
class Block(nn.Module):
    def __init__(self, planes, stride=1):
        super().__init__()
        self.conv = nn.Conv2d(planes, planes, 3, stride, 1)
class WideBlock(Block):
    pass
class Plugin(Registry):
    def __init__(self, planes):
        super().__init__()
blocks = [Block(64, stride=2), WideBlock(64), nn.Sequential(), Plugin(64, 128, cfg=None)]
""",
]
