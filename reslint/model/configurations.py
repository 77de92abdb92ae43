"""Configurations the code itself declares, beyond what its factories build with their defaults: the
block classes a network's annotation admits (`block: type[BasicBlock | Bottleneck]`), and the entries
of a table a factory looks its argument up in (`model_params[name]` for name in "resnet-18",
"resnet-50", ...), and the depths of a network's own architecture table (`self.arch_settings[depth]`).
Each is a way the code says it may be built, so a fault in one is a real fault."""

from __future__ import annotations

from collections.abc import Iterator
from typing import TYPE_CHECKING, Any

import libcst as cst

from reslint.model import symbolic
from reslint.model.values import ClassRef
from reslint.model.walk import descendants as subtree

if TYPE_CHECKING:
    from reslint.model.classes import ClassModel
    from reslint.model.module import ModuleModel

MAX_CHOICES = 8  # entries of one table tried; larger tables are variations of the same few designs


def annotated_classes(cls: ClassModel, module: ModuleModel) -> Iterator[dict[str, Any]]:
    """`{"block": ClassRef(Bottleneck)}` for each class of the project a parameter of `__init__` is
    annotated to take (`type[BasicBlock | Bottleneck]`, `Type[Union[BasicBlock, Bottleneck]]`)."""
    init = cls.method("__init__")
    if init is None:
        return
    for param in init.params.params[1:]:
        if param.annotation is None:
            continue
        for name in _class_names(param.annotation.annotation):
            choice = module.class_named(name, init)
            if choice is not None:
                yield {param.name.value: ClassRef(choice)}


def _class_names(annotation: cst.BaseExpression) -> list[str]:
    """The classes named inside `type[...]` / `Type[...]` (through Union, Optional and `|`), also
    where the annotation admits something else beside (`type[SEBottleneck | ...] | str`, a block
    given by name and looked up in `__init__`)."""
    if isinstance(annotation, cst.BinaryOperation) and isinstance(annotation.operator, cst.BitOr):
        return _class_names(annotation.left) + _class_names(annotation.right)
    if not (
        isinstance(annotation, cst.Subscript)
        and isinstance(annotation.value, (cst.Name, cst.Attribute))
    ):
        return []
    if _last_name(annotation.value) in ("Union", "Optional"):
        return [
            name
            for element in annotation.slice
            if isinstance(element.slice, cst.Index)
            for name in _class_names(element.slice.value)
        ]
    if _last_name(annotation.value) not in ("type", "Type"):
        return []
    return [
        node.value
        for node in subtree(annotation.slice[0])
        if isinstance(node, cst.Name) and node.value not in ("Union", "Optional", "None")
    ]


def _last_name(node: cst.BaseExpression) -> str:
    if isinstance(node, cst.Attribute):
        return node.attr.value
    return node.value if isinstance(node, cst.Name) else ""


def table_choices(function: cst.FunctionDef) -> Iterator[dict[str, Any]]:
    """`{"name": "resnet-50"}` for each key of a dict literal of the function that it subscripts
    with one of its parameters (`model_params = {"resnet-18": ..., ...}; model_params[name]`)."""
    params = {param.name.value for param in function.params.params}
    nodes = list(subtree(function.body))
    tables = {
        target.target.value: statement.value
        for statement in nodes
        if isinstance(statement, cst.Assign) and isinstance(statement.value, cst.Dict)
        for target in statement.targets
        if isinstance(target.target, cst.Name)
    }
    for node in nodes:
        if not (isinstance(node, cst.Subscript) and isinstance(node.value, cst.Name)):
            continue
        table = tables.get(node.value.value)
        key = node.slice[0].slice if len(node.slice) == 1 else None
        if table is None or not (
            isinstance(key, cst.Index)
            and isinstance(key.value, cst.Name)
            and key.value.value in params
        ):
            continue
        for element in table.elements[:MAX_CHOICES]:
            value = _literal(element.key) if isinstance(element, cst.DictElement) else None
            if value is not None:
                yield {key.value.value: value}


def _literal(node: cst.BaseExpression) -> Any:
    """A table key as the interpreter holds it: a str, or a number as a constant expression."""
    if isinstance(node, cst.SimpleString):
        return node.evaluated_value
    if isinstance(node, cst.Integer):
        return symbolic.const(int(node.value))
    return None


def class_table_choices(cls: ClassModel) -> Iterator[dict[str, Any]]:
    """`{"depth": 50}` for each key of a dict the class body defines that `__init__` looks one of its
    parameters up in (OpenMMLab's `arch_settings = {18: (BasicBlock, (2, 2, 2, 2)), 50: ...}` read as
    `self.arch_settings[depth]`): each key is a depth the network declares it can be built with.
    Entries that build with the same block (ResNet-50/101/152: only the block counts differ) are
    tried once."""
    init = cls.method("__init__")
    if init is None:
        return
    params = {param.name.value for param in init.params.params[1:]}
    tables = {
        name: value for name, value in cls.constant_nodes.items() if isinstance(value, cst.Dict)
    }
    if not tables:
        return
    for node in subtree(init.body):
        if not (
            isinstance(node, cst.Subscript)
            and isinstance(node.value, cst.Attribute)
            and isinstance(node.value.value, cst.Name)
            and node.value.value.value == init.params.params[0].name.value
            and node.value.attr.value in tables
            and len(node.slice) == 1
            and isinstance(node.slice[0].slice, cst.Index)
            and isinstance(node.slice[0].slice.value, cst.Name)
            and node.slice[0].slice.value.value in params
        ):
            continue
        parameter = node.slice[0].slice.value.value
        designs: set[str] = set()
        for element in tables[node.value.attr.value].elements[:MAX_CHOICES]:
            value = _literal(element.key) if isinstance(element, cst.DictElement) else None
            design = _design(element.value) if isinstance(element, cst.DictElement) else ""
            if value is not None and design not in designs:
                designs.add(design)
                yield {parameter: value}
        return


def _design(entry: cst.BaseExpression) -> str:
    """What an architecture entry builds with, counts aside: the names it mentions
    (`(Bottleneck, (3, 4, 6, 3))` -> "Bottleneck")."""
    return " ".join(node.value for node in subtree(entry) if isinstance(node, cst.Name))
