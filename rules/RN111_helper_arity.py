"""RN111 helper-arity."""

from __future__ import annotations

from collections.abc import Iterator

import libcst as cst

from reslint.model import ModuleModel
from reslint.rule import Rule, Violation
from reslint.rules_support import argument_keywords, function_signature


class HelperArity(Rule):
    """## What it does
    Checks calls to the file's own helper functions (`conv3x3`, `conv1x1`, `_make_layer`...) for
    more positional arguments than the helper accepts, unknown keywords, or missing arguments.
    Decorated helpers are skipped: a decorator may give them another signature (fastai's `@module()`
    turns `def Identity(self, x)` into a module class called as `Identity()`).

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
            helper = module.function_named(name, call)
            if helper is None:
                continue
            if function is not None and name in module.names.functions[id(function)].bound:
                continue  # shadowed by a local
            if any(arg.star for arg in call.args) or helper.decorators:
                continue  # a decorator may change the signature (fastai's `@module()`, `@delegates`)
            signature = function_signature(helper)
            problem = signature.bind(argument_keywords(call)).problem
            if problem:
                yield Violation(
                    call,
                    f"`{name}()` {problem}: this call raises TypeError",
                    f"call it as `{name}({', '.join(signature.positional)})`",
                )


HelperArity.INVALID = [
    """
import torch.nn as nn
def conv1x1(in_planes, out_planes, stride=1):
    return nn.Conv2d(in_planes, out_planes, kernel_size=1, stride=stride, bias=False)
conv = conv1x1(64, 64, 1, 1, 1)
"""
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
]
