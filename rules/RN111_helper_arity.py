"""RN111 helper-arity."""

from __future__ import annotations

from collections.abc import Iterator

import libcst as cst

from reslint.model import ModuleModel
from reslint.rule import Rule, Violation


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
            problem = _arity_problem(helper, call)
            if problem:
                yield Violation(
                    call,
                    f"`{name}()` {problem}: this call raises TypeError",
                    f"call it as `{name}({_signature(helper)})`",
                )


def _arity_problem(helper: cst.FunctionDef, call: cst.Call) -> str | None:
    params = helper.params
    positional = [*params.posonly_params, *params.params]
    names = [p.name.value for p in positional]
    keyword_names = set(names[len(params.posonly_params) :]) | {
        p.name.value for p in params.kwonly_params
    }
    given = [arg for arg in call.args if arg.keyword is None]
    keywords = [arg.keyword.value for arg in call.args if arg.keyword is not None]
    if len(given) > len(positional) and not isinstance(params.star_arg, cst.Param):
        return f"takes {len(positional)} positional arguments ({', '.join(names)}) but {len(given)} were given"
    unknown = [k for k in keywords if k not in keyword_names]
    if unknown and params.star_kwarg is None:
        return f"got an unexpected keyword argument `{unknown[0]}`"
    supplied = set(names[: len(given)]) | set(keywords)
    missing = [
        p.name.value
        for p in [*positional, *params.kwonly_params]
        if p.default is None and p.name.value not in supplied
    ]
    if missing:
        return f"is missing the argument `{missing[0]}`"
    return None


def _signature(helper: cst.FunctionDef) -> str:
    return ", ".join(p.name.value for p in [*helper.params.posonly_params, *helper.params.params])


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
