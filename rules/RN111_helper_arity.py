"""RN111 helper-arity."""

from __future__ import annotations

from collections.abc import Iterator

import libcst as cst

from reslint.knowledge.signatures import Signature
from reslint.model import ModuleModel
from reslint.rule import Rule, Violation
from reslint.rules_support import argument_keywords, function_signature


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
            if not isinstance(call.func, cst.Name):
                continue
            name = call.func.value
            signature = _callee_signature(module, name, call)
            if signature is None or any(arg.star for arg in call.args):
                continue
            if function is not None and name in module.names.functions[id(function)].bound:
                continue  # shadowed by a local
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
