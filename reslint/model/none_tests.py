"""Where a value is surely None: in the branch an `is None` test has just chosen.

`if m.bias is None: nn.init.zeros_(m.bias)` runs its body only when `m.bias` is None, and nothing
before the call can have changed that when the statements before it in the branch are calls of
`torch.nn.init` (which fill tensors, never set attributes). Anything else there (an assignment, a
method call that could build the missing tensor) leaves the value unknown."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import TypeGuard

import libcst as cst


def none_test_before(
    expression: cst.BaseExpression,
    statement: cst.CSTNode,
    parents: dict[int, cst.CSTNode],
    code: Callable[[cst.CSTNode], str],
    harmless: Callable[[cst.BaseStatement], bool],
) -> cst.Comparison | None:
    """The test that makes `expression` (read by `statement`) None whenever `statement` runs: the innermost
    `if` around it tests `expression is None` (alone or in an `and` chain) and `statement` sits in
    that branch with only `harmless` statements before it, or `statement` is in the `else` of a test
    that is exactly `expression is not None`. `m.bias.data` stands for `m.bias` (None has no
    `.data` either). None when there is no such test."""
    text = code(expression).removesuffix(".data")
    branch = parents.get(id(statement))
    if not isinstance(branch, cst.IndentedBlock):
        return None
    before = branch.body[: _index(branch.body, statement)]
    if not all(harmless(other) for other in before):
        return None
    owner = parents.get(id(branch))
    if isinstance(owner, cst.If) and owner.body is branch:
        tests = [t for t in _conjuncts(owner.test) if _compares_with_none(t, text, code, _IS)]
        return tests[0] if tests else None
    if isinstance(owner, cst.Else):
        chosen = parents.get(id(owner))
        if isinstance(chosen, cst.If) and _compares_with_none(chosen.test, text, code, _IS_NOT):
            return chosen.test
    return None


def _index(body: Sequence[cst.BaseStatement], statement: cst.CSTNode) -> int:
    return next(i for i, item in enumerate(body) if item is statement)


def _conjuncts(test: cst.BaseExpression) -> list[cst.BaseExpression]:
    if isinstance(test, cst.BooleanOperation) and isinstance(test.operator, cst.And):
        return _conjuncts(test.left) + _conjuncts(test.right)
    return [test]


_IS = (cst.Is, cst.Equal)
_IS_NOT = (cst.IsNot, cst.NotEqual)


def _compares_with_none(
    test: cst.BaseExpression,
    text: str,
    code: Callable[[cst.CSTNode], str],
    operators: tuple[type, ...],
) -> TypeGuard[cst.Comparison]:
    if not isinstance(test, cst.Comparison) or len(test.comparisons) != 1:
        return False
    target = test.comparisons[0]
    return (
        isinstance(target.operator, operators)
        and isinstance(target.comparator, cst.Name)
        and target.comparator.value == "None"
        and code(test.left) == text
    )
