"""What one way through an `if` says about its test's parts (model.branch_facts)."""

import libcst as cst
import pytest

from reslint.model.branch_facts import branch_facts, satisfiable


def facts(test: str, branch: bool) -> set:
    """Facts with atoms named by their text; only `self.*` attributes and `p` are stable here."""

    def atom_key(node: cst.BaseExpression) -> object | None:
        if not isinstance(node, cst.Attribute | cst.Name):
            return None
        text = cst.Module(body=[]).code_for_node(node)
        return text if text.startswith("self.") or text == "p" else None

    return set(branch_facts(cst.parse_expression(test), branch, atom_key))


@pytest.mark.parametrize(
    ("test", "branch", "expected"),
    [
        ("self.flag", True, {("self.flag", True)}),
        ("self.flag", False, {("self.flag", False)}),
        ("not self.flag", True, {("self.flag", False)}),
        ("self.a and self.b", True, {("self.a", True), ("self.b", True)}),
        ("self.a and self.b", False, set()),  # one of them is false: which is unknown
        ("self.a or self.b", False, {("self.a", False), ("self.b", False)}),
        ("self.a or self.b", True, set()),
        ("self.proj is not None", True, {(("self.proj", "is", "None"), False)}),
        ("self.proj is None", True, {(("self.proj", "is", "None"), True)}),
        ("p != 'pre'", False, {(("p", "==", "'pre'"), True)}),
        (
            "not self.a and self.proj is not None",
            True,
            {("self.a", False), (("self.proj", "is", "None"), False)},
        ),
        ("x.flag", True, set()),  # a local's attribute may change between two tests
        ("self.n > 1", True, {(("bound", "self.n"), (">", 1.0))}),
        ("self._depth >= 2", False, {(("bound", "self._depth"), ("<", 2.0))}),
        ("p == -1", False, {(("bound", "p"), ("!=", -1.0))}),
        ("self.n > other", True, set()),  # a bound needs a number
    ],
)
def test_facts_of_one_way(test: str, branch: bool, expected: set) -> None:
    assert facts(test, branch) == expected


def test_a_conjunction_and_its_negated_twin_exclude_each_other() -> None:
    first = facts("self.dim_mul and self.proj is not None", True)
    second = facts("not self.dim_mul and self.proj is not None", True)
    assert {atom for atom, _ in first} & {atom for atom, _ in second}
    assert any((atom, not value) in second for atom, value in first)


@pytest.mark.parametrize(
    ("bounds", "expected"),
    [
        ([("<", 2.0), (">=", 3.0)], False),  # `if depth >= 2` skipped, `if depth >= 3` taken
        ([(">=", 2.0), (">=", 3.0)], True),
        ([("==", 1.0), ("!=", 1.0)], False),
        ([(">", 1.0), ("<", 2.0)], True),  # 1.5 for all reslint knows
        ([("<=", 1.0), (">=", 1.0)], True),
    ],
)
def test_bounds_on_one_setting(bounds: list, expected: bool) -> None:
    assert satisfiable(bounds) is expected
