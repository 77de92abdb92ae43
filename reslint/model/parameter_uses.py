"""Where a parameter's value goes: into something built, passed on or returned, or only tested and
stored (`self.num_classes = num_classes` then `if self.num_classes is None: raise ...`)."""

from __future__ import annotations

from functools import cached_property
from typing import TYPE_CHECKING

import libcst as cst

from reslint.model.walk import descendants as subtree

if TYPE_CHECKING:
    from reslint.model.classes import ClassModel
    from reslint.model.module import ModuleModel


def value_used(
    function: cst.FunctionDef, name: str, module: ModuleModel, cls: ClassModel | None
) -> bool:
    """Whether the value of parameter `name` reaches anything but a test, an assertion, an error
    message or a copy of itself: through local names and `self.` attributes assigned from it, and
    through those attributes as the class's other methods read them."""
    copies = _Copies(function, name)
    if copies.used():
        return True
    if cls is None or not copies.attributes:
        return False
    for owner in [cls, *cls.ancestors(), *module.subclasses(cls)]:
        if _reads_elsewhere(owner, function, copies.attributes):
            return True
    return False


def _reads_elsewhere(cls: ClassModel, function: cst.FunctionDef, attributes: set[str]) -> bool:
    """Whether a method of `cls` other than `function` reads one of `attributes` it does not set."""
    for method in cls.methods.values():
        if method is function:
            continue
        stored = {a.attr.value for a in cls.module.attribute_stores_in_method(method)}
        for attribute in cls.module.attributes_in_method(method):
            if attribute.attr.value in attributes - stored:
                return True  # another method reads what this one stored (a reset, a lazy head)
    return False


def stored(function: cst.FunctionDef, name: str) -> bool:
    """Whether the function keeps the parameter's value on `self` (code reslint cannot see, a base
    class of another library or the caller, may read it there)."""
    return bool(_Copies(function, name).attributes)


class _Copies:
    """The local names and `self.` attributes that hold a parameter's value in one function, and the
    places where reading them uses nothing (tests, assertions, raises, the copies themselves)."""

    def __init__(self, function: cst.FunctionDef, name: str) -> None:
        self.nodes = list(subtree(function.body))
        self.names = {name}
        self.attributes: set[str] = set()
        self._ignored: set[int] = set()
        # By exact type throughout: every node of the function is asked, once per parameter.
        assignments = [n for n in self.nodes if type(n) is cst.Assign]
        for _ in range(2):  # `width = num_classes` then `self.n = width`
            for assignment in assignments:
                inside = list(subtree(assignment.value))
                if any(self._reads(n) for n in inside) and not any(_builds(n) for n in inside):
                    self._copy(assignment)
        for node in self.nodes:
            if type(node) is cst.If or type(node) is cst.While:
                self._ignore(node.test)
            elif type(node) is cst.Assert or type(node) is cst.Raise:
                self._ignore(node)

    def used(self) -> bool:
        return any(id(node) not in self._ignored and self._reads(node) for node in self.nodes)

    def _copy(self, assignment: cst.Assign) -> None:
        targets = [target.target for target in assignment.targets]
        if not all(isinstance(t, cst.Name) or _self_attribute(t) for t in targets):
            return  # `self.layers[i] = ...`, tuple unpacking: not a plain copy
        for target in targets:
            if isinstance(target, cst.Name):
                self.names.add(target.value)
            elif isinstance(target, cst.Attribute):
                self.attributes.add(target.attr.value)
        self._ignore(assignment)

    def _ignore(self, node: cst.CSTNode) -> None:
        self._ignored.update(id(inner) for inner in subtree(node))

    def _reads(self, node: cst.CSTNode) -> bool:
        if type(node) is cst.Name:
            return node.value in self.names and id(node) not in self._not_reads
        return type(node) is cst.Attribute and (
            _self_attribute(node) and node.attr.value in self.attributes
        )

    @cached_property
    def _not_reads(self) -> set[int]:
        """Names that are not variables: attribute names, keywords, assignment targets."""
        found: set[int] = set()
        for node in self.nodes:
            if type(node) is cst.Attribute:
                found.add(id(node.attr))
            elif type(node) is cst.Arg and node.keyword is not None:
                found.add(id(node.keyword))
            elif type(node) is cst.AssignTarget and type(node.target) is cst.Name:
                found.add(id(node.target))
        return found


def _builds(node: cst.CSTNode) -> bool:
    """Part of an expression that makes something of a value (a call, a container, a function)
    rather than copying or comparing it."""
    return isinstance(node, (cst.Call, cst.Lambda, cst.List, cst.Tuple, cst.Dict, cst.Set))


def _self_attribute(node: cst.CSTNode) -> bool:
    return (
        isinstance(node, cst.Attribute)
        and isinstance(node.value, cst.Name)
        and node.value.value == "self"
    )
