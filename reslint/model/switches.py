"""Switches the file never turns on: code behind an instance flag that only the outside can enable.

`self.gradient_checkpointing = False` in `__init__`, and forward's `if self.gradient_checkpointing:
x = self._checkpoint_func(block, x)`: nothing in the file sets the flag to anything but False, so
the guarded code runs only after another module (a framework base's `enable_...()`) switched the
flag on, and that code may set the other attributes the branch reads at the same time. What the
branch reads is then not "never set" as far as the file can tell.
"""

from __future__ import annotations

import ast
from typing import TYPE_CHECKING

import libcst as cst

from reslint.model.branch_facts import Fact, branch_facts

if TYPE_CHECKING:
    from reslint.model import ModuleModel

# The literals a flag can be given that a test can evaluate.
_LITERALS = (cst.Name, cst.Integer, cst.Float, cst.SimpleString)
_CONSTANTS = {"None": None, "True": True, "False": False}


def behind_switch_left_off(node: cst.CSTNode, self_name: str, module: ModuleModel) -> bool:
    """Whether `node` runs only where a test of a flag `self.X` holds that none of the values the
    file ever assigns to an `X` attribute can make hold (`if self.flag:` where every `.flag = ...`
    of the file writes False). A flag the file names in a string (`setattr(self, "flag", ...)`),
    binds in a class body, or assigns anything but a literal may be on: then False."""
    return any(
        _never_holds(fact, module)
        for choice, way in module.names.choices_around(node, (cst.ClassDef, cst.Module))
        for fact in branch_facts(choice.test, way, lambda atom: _flag(atom, self_name))
    )


def _flag(atom: cst.BaseExpression, self_name: str) -> str | None:
    """`self.X` -> "X"."""
    if (
        isinstance(atom, cst.Attribute)
        and isinstance(atom.value, cst.Name)
        and atom.value.value == self_name
    ):
        return atom.attr.value
    return None


def _never_holds(fact: Fact, module: ModuleModel) -> bool:
    """Whether no value the file assigns to the fact's flag makes the fact hold."""
    atom, truth = fact
    if isinstance(atom, str):
        name, test = atom, None
    elif isinstance(atom, tuple) and len(atom) == 3 and isinstance(atom[0], str):
        name, test = atom[0], atom
    else:
        return False  # a bound (`self.depth >= 2`): its numbers are not followed here
    values = _assigned_literals(name, module)
    if not values or not isinstance(truth, bool):
        return False
    return not any(_holds(value, test, truth) for value in values)


def _holds(value: object, test: tuple | None, truth: bool) -> bool:
    if test is None:
        return bool(value) == truth
    _, operator, literal = test
    other = _CONSTANTS[literal] if literal in _CONSTANTS else ast.literal_eval(literal)
    result = value is other if operator == "is" else value == other
    return result == truth


def _assigned_literals(name: str, module: ModuleModel) -> list[object]:
    """The values the file assigns to attributes named `name`, when every one is a literal and
    nothing else can set it (a string naming it, a class attribute); [] otherwise."""
    if name in module.names.strings or name in module.names.module_bound:
        return []  # `setattr(self, "flag", True)`, a class attribute `flag = True` (or a global)
    values: list[object] = []
    for target, _ in module.names.attribute_stores:
        if target.attr.value != name:
            continue
        statement = module.names.parents.get(id(target))
        if isinstance(statement, cst.AssignTarget):
            statement = module.names.parents.get(id(statement))
        value = getattr(statement, "value", None)
        if not isinstance(statement, cst.Assign | cst.AnnAssign) or not isinstance(
            value, _LITERALS
        ):
            return []
        if isinstance(value, cst.Name):
            if value.value not in _CONSTANTS:
                return []
            values.append(_CONSTANTS[value.value])
        else:
            values.append(value.evaluated_value)
    return values
