"""RN108 forward-returns-none."""

from __future__ import annotations

from collections.abc import Iterator, Sequence

import libcst as cst

from reslint.model import ModuleModel
from reslint.model.walk import children
from reslint.rule import Rule, Violation


class ForwardReturnsNone(Rule):
    """## What it does
    Checks for a `forward` that can finish without returning a tensor: a path that falls off the
    end, or a bare `return`.

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
            if forward is None or _is_abstract(forward) or _yields(forward):
                continue
            body = forward.body.body if isinstance(forward.body, cst.IndentedBlock) else []
            if _terminates(body) and not _has_bare_return(forward):
                continue
            yield Violation(
                forward.name,
                f"`{cls.name}.forward` can finish without returning a tensor (a path falls off the end "
                "or returns nothing), so the model returns None there",
                "return the output on every path (move `return out` out of the if)",
            )


def _terminates(statements: Sequence[cst.CSTNode]) -> bool:
    return any(_statement_terminates(statement) for statement in statements)


def _statement_terminates(statement: cst.CSTNode) -> bool:
    if isinstance(statement, cst.SimpleStatementLine):
        return any(isinstance(small, (cst.Return, cst.Raise)) for small in statement.body)
    if isinstance(statement, cst.If):
        if statement.orelse is None:
            return False
        orelse = (
            [statement.orelse]
            if isinstance(statement.orelse, cst.If)
            else statement.orelse.body.body
        )
        return _terminates(statement.body.body) and _terminates(orelse)
    if isinstance(statement, cst.With):
        return _terminates(statement.body.body)
    if isinstance(statement, cst.Try):
        handlers_end = all(_terminates(h.body.body) for h in statement.handlers)
        return (_terminates(statement.body.body) and handlers_end) or (
            statement.finalbody is not None and _terminates(statement.finalbody.body.body)
        )
    if isinstance(statement, cst.While):
        test = statement.test
        return (
            isinstance(test, cst.Name)
            and test.value == "True"
            and not _contains(statement, cst.Break)
        )
    return False


def _contains(node: cst.CSTNode, kind: type) -> bool:
    """Whether `kind` occurs in node's own code (not in functions, lambdas or classes nested in it)."""
    return any(isinstance(inner, kind) for inner in _own_code(node))


def _own_code(node: cst.CSTNode):
    stack = list(children(node))
    while stack:
        current = stack.pop()
        yield current
        if not isinstance(current, (cst.FunctionDef, cst.Lambda, cst.ClassDef)):
            stack.extend(children(current))


def _has_bare_return(function: cst.FunctionDef) -> bool:
    return any(
        isinstance(inner, cst.Return) and inner.value is None for inner in _own_code(function.body)
    )


def _yields(function: cst.FunctionDef) -> bool:
    return _contains(function.body, cst.Yield)


def _is_abstract(function: cst.FunctionDef) -> bool:
    """`pass`, `...`, a docstring or `raise NotImplementedError`: a base class's placeholder."""
    body = function.body.body if isinstance(function.body, cst.IndentedBlock) else []
    for statement in body:
        if not isinstance(statement, cst.SimpleStatementLine):
            return False
        for small in statement.body:
            if isinstance(small, (cst.Pass, cst.Raise)):
                continue
            if isinstance(small, cst.Expr) and isinstance(
                small.value, (cst.SimpleString, cst.Ellipsis, cst.ConcatenatedString)
            ):
                continue
            return False
    return True


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
"""
]
