"""RN108 forward-returns-none."""

from __future__ import annotations

from collections.abc import Iterator

import libcst as cst

from reslint.model import ModuleModel
from reslint.model.classes import ClassModel
from reslint.model.flow import analyse_function, is_placeholder
from reslint.model.walk import descendants
from reslint.rule import Rule, Violation
from reslint.rules_support import admits_only, chain_cases


class ForwardReturnsNone(Rule):
    """## What it does
    Checks for a `forward` that can finish without returning a tensor: a path that falls off the
    end, or a bare `return`. A forward annotated `-> None` returns nothing on purpose.

    ## Why is this bad?
    The model silently returns `None` for those inputs or configurations (say, every depth but
    18 and 34), and the error appears far away, in the loss: `'NoneType' object has no attribute ...`.

    ## Example
    ```python
    def forward(self, x):
        if self.num_layers in (18, 34):
            y = self.layers(x)
            return y
    ```

    Use instead:
    ```python
    def forward(self, x):
        y = self.layers(x)
        return y
    ```
    """

    code = "RN108"
    name = "forward-returns-none"

    def check(self, module: ModuleModel) -> Iterator[Violation]:
        for cls in module.module_classes:
            forward = cls.methods.get("forward")
            if forward is None or is_placeholder(forward) or _declared_none(forward):
                continue
            if _fills_its_argument(forward):
                continue
            if not module.flow(forward).can_finish_without_value:
                continue
            if _cases_checked_in_init(forward, cls, module):
                continue
            yield Violation(
                forward.name,
                f"`{cls.name}.forward` can finish without returning a tensor (a path falls off the end "
                "or returns nothing), so the model returns None there",
                "return the output on every path (move `return out` out of the if)",
            )


def _cases_checked_in_init(forward: cst.FunctionDef, cls: ClassModel, module: ModuleModel) -> bool:
    """`forward` ends in an `if` / `elif` chain over one setting (`self.data_format ==
    "channels_last"`) whose missing `else` `__init__` already rules out (`if data_format not in
    [...]: raise`, the ConvNeXt LayerNorm): closed with `else: raise`, every path returns."""
    body = forward.body.body if isinstance(forward.body, cst.IndentedBlock) else []
    if not body or not isinstance(body[-1], cst.If):
        return False
    chain = body[-1]
    subject, listed = chain_cases(chain, module)
    init = cls.methods.get("__init__")
    if subject is None or init is None or not isinstance(init.body, cst.IndentedBlock):
        return False
    setup = init.body.body
    names = {subject} | {
        module.code(small.value)
        for statement in setup
        if isinstance(statement, cst.SimpleStatementLine)
        for small in statement.body
        if isinstance(small, cst.Assign)
        and len(small.targets) == 1
        and module.code(small.targets[0].target) == subject
    }
    if not admits_only(setup, names, listed, module):
        return False
    last = chain
    while isinstance(last.orelse, cst.If):
        last = last.orelse
    closed = last.with_changes(
        orelse=cst.Else(cst.IndentedBlock([cst.SimpleStatementLine([cst.Raise()])]))
    )
    replaced = forward.deep_replace(last, closed)
    if not isinstance(replaced, cst.FunctionDef):
        return False
    return not analyse_function(replaced, ()).can_finish_without_value


def _fills_its_argument(function: cst.FunctionDef) -> bool:
    """A forward that returns no value anywhere and writes its results into a list it was given
    (`mlvl_features[i + 1] = node(...)`, a DLA aggregation step): the caller reads them there."""
    parameters = {param.name.value for param in function.params.params}
    returns_value = False
    fills = False
    for node in descendants(function.body):  # by exact type: every node is asked
        if type(node) is cst.Return and node.value is not None:
            returns_value = True
        elif type(node) is cst.AssignTarget and type(node.target) is cst.Subscript:
            base = node.target.value
            fills |= type(base) is cst.Name and base.value in parameters
    return fills and not returns_value


def _declared_none(function: cst.FunctionDef) -> bool:
    """`def forward(...) -> None:` returns nothing on purpose (it fills a dict passed in)."""
    returns = function.returns
    return (
        returns is not None
        and isinstance(returns.annotation, cst.Name)
        and returns.annotation.value == "None"
    )


ForwardReturnsNone.INVALID = [
    """
import torch.nn as nn
class Net(nn.Module):
    def forward(self, x):
        if self.depth in (18, 34):
            y = self.body(x)
            return y
"""
]
ForwardReturnsNone.VALID = [
    """
import torch.nn as nn
class Base(nn.Module):
    def forward(self, x):
        raise NotImplementedError
class Net(nn.Module):
    def forward(self, x):
        if self.small:
            return self.a(x)
        else:
            return self.b(x)
class Matcher(nn.Module):
    def forward(self, feats, data) -> None:
        data.update(matches=self.match(feats))
"""
]
