"""What one way through an undecidable `if` says about the parts of its test.

`if self.dim_mul and self.proj is not None:` taken means `self.dim_mul` is true and `self.proj is
None` is false; a later `if not self.dim_mul and self.proj is not None:` taken means `self.dim_mul` is
false, so the two bodies never both run (mvit's projection, used in one or the other). A fact is
(atom, value): the atom is the text of a test part that cannot change between two tests of one
forward, a setting of the module (`self.<attr>...`) or a parameter as it came in. A comparison of an
atom with a number is a bound, `(("bound", atom), (operator, number))`: `if self._depth >= 2` not
taken and `if self._depth >= 3` taken cannot both hold (values.compatible checks the bounds).
"""

from __future__ import annotations

from collections.abc import Callable

import libcst as cst

from reslint.model.symbolic import COMPARE, COMPARISON_SYMBOLS

# (atom, truth) or (("bound", atom), (operator, number)).
Fact = tuple[object, bool | tuple[str, float]]

# Comparisons whose negation is another operator: `a is not None` is `not (a is None)`.
_NEGATED = {cst.IsNot: "is", cst.NotEqual: "=="}
_PLAIN = {cst.Is: "is", cst.Equal: "=="}
_OPPOSITE = {"<": ">=", "<=": ">", ">": "<=", ">=": "<", "==": "!=", "!=": "=="}


def branch_facts(
    test: cst.BaseExpression,
    branch: bool,
    atom_key: Callable[[cst.BaseExpression], object | None],
) -> tuple[Fact, ...]:
    """The facts that hold when `test` evaluated to `branch`. `atom_key` names a stable atom (None
    for anything else, which then says nothing)."""
    if isinstance(test, cst.UnaryOperation) and isinstance(test.operator, cst.Not):
        return branch_facts(test.expression, not branch, atom_key)
    if isinstance(test, cst.BooleanOperation):
        # `a and b` taken: both hold; `a or b` not taken: neither holds. The other ways say less.
        conjunction = isinstance(test.operator, cst.And)
        if branch != conjunction:
            return ()
        return branch_facts(test.left, branch, atom_key) + branch_facts(
            test.right, branch, atom_key
        )
    bound = _bound(test, atom_key)
    if bound is not None:
        key, (operator, number) = bound
        return ((key, (operator if branch else _OPPOSITE[operator], number)),)
    comparison = _comparison_atom(test, atom_key)
    if comparison is not None:
        key, negated = comparison
        return ((key, branch != negated),)
    key = atom_key(test)
    return () if key is None else ((key, branch),)


def _comparison_atom(
    test: cst.BaseExpression, atom_key: Callable[[cst.BaseExpression], object | None]
) -> tuple[object, bool] | None:
    """`x is None`, `x is not None`, `x == 'name'`, `x != 'name'` with a stable `x` and a literal:
    the positive form's key, and whether the test was its negation."""
    if not isinstance(test, cst.Comparison) or len(test.comparisons) != 1:
        return None
    target = test.comparisons[0]
    operator = type(target.operator)
    if operator not in _NEGATED and operator not in _PLAIN:
        return None
    literal = target.comparator
    if not isinstance(literal, cst.Name | cst.BaseNumber | cst.SimpleString):
        return None
    if isinstance(literal, cst.Name) and literal.value not in ("None", "True", "False"):
        return None
    left = atom_key(test.left)
    if left is None:
        return None
    spelled = _NEGATED.get(operator) or _PLAIN[operator]
    literal_text = cst.Module(body=[]).code_for_node(literal)
    return (left, spelled, literal_text), operator in _NEGATED


def _bound(
    test: cst.BaseExpression, atom_key: Callable[[cst.BaseExpression], object | None]
) -> tuple[object, tuple[str, float]] | None:
    """`self._depth >= 3`: a stable atom compared with a number."""
    if not isinstance(test, cst.Comparison) or len(test.comparisons) != 1:
        return None
    target = test.comparisons[0]
    operator = COMPARISON_SYMBOLS.get(type(target.operator).__name__)
    number = _number(target.comparator)
    if operator is None or number is None:
        return None
    left = atom_key(test.left)
    return None if left is None else (("bound", left), (operator, number))


def _number(node: cst.BaseExpression) -> float | None:
    if isinstance(node, cst.UnaryOperation) and isinstance(node.operator, cst.Minus):
        value = _number(node.expression)
        return None if value is None else -value
    if isinstance(node, cst.Integer | cst.Float):
        return float(node.evaluated_value)
    return None


def satisfiable(bounds: list[tuple[str, float]]) -> bool:
    """Whether one number meets every bound: it suffices to try the bounds' numbers, the points
    between them and beyond them."""
    numbers = sorted({number for _, number in bounds})
    candidates = [numbers[0] - 1, numbers[-1] + 1, *numbers]
    candidates += [(a + b) / 2 for a, b in zip(numbers, numbers[1:], strict=False)]
    return any(all(COMPARE[op](c, n) for op, n in bounds) for c in candidates)


_NEGATION_OF = {
    cst.Equal: cst.NotEqual,
    cst.NotEqual: cst.Equal,
    cst.Is: cst.IsNot,
    cst.IsNot: cst.Is,
    cst.In: cst.NotIn,
    cst.NotIn: cst.In,
    cst.LessThan: cst.GreaterThanEqual,
    cst.GreaterThanEqual: cst.LessThan,
    cst.GreaterThan: cst.LessThanEqual,
    cst.LessThanEqual: cst.GreaterThan,
}


def negates(test: cst.BaseExpression, other: cst.BaseExpression) -> bool:
    """Whether `test` is true exactly when `other` is false, as written: `not x` and `x`, or one
    comparison of the same operands with the opposite operator (`a == b` and `a != b`)."""
    if isinstance(test, cst.UnaryOperation) and isinstance(test.operator, cst.Not):
        return test.expression.deep_equals(other)
    if isinstance(other, cst.UnaryOperation) and isinstance(other.operator, cst.Not):
        return other.expression.deep_equals(test)
    if not (isinstance(test, cst.Comparison) and isinstance(other, cst.Comparison)):
        return False
    if len(test.comparisons) != 1 or len(other.comparisons) != 1:
        return False
    mine, theirs = test.comparisons[0], other.comparisons[0]
    return (
        _NEGATION_OF.get(type(mine.operator)) is type(theirs.operator)
        and test.left.deep_equals(other.left)
        and mine.comparator.deep_equals(theirs.comparator)
    )


def tests_object_kind(test: cst.BaseExpression) -> bool:
    """`isinstance(branch, Conv)`, `hasattr(config, "init_std")` (or their negation): a test of what
    kind of object arrives, which the callers decide. Which kinds reach the test is a fact of the
    call sites, not of the function."""
    if isinstance(test, cst.UnaryOperation) and isinstance(test.operator, cst.Not):
        test = test.expression
    return (
        isinstance(test, cst.Call)
        and isinstance(test.func, cst.Name)
        and test.func.value in ("isinstance", "hasattr")
    )
