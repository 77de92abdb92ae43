"""Which of the networks a file's factories declare are built and checked: one per family.

resnet50, resnet101 and resnet152 differ only in blocks per stage; resnext50_32x4d, resnext101_32x8d
and wide_resnet50_2 differ from resnet50 only in numbers that size its layers (groups, width per
group). Building and checking a copy costs as much as the first network (about 10 ms for a ResNet-50:
eight distinct bottlenecks, interpreted and checked) and finds what the first one finds. A number the
code decides on, though, may pick another architecture: one it tests (`if depth >= 50`), compares
or looks something up by (`settings[depth]`), in the network's class, its blocks' classes or the
file's functions they call. Such a number stays part of the family (`ResNet(depth=18)` and
`ResNet(depth=50)` are both built), as does every value that is not a number.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import libcst as cst

from reslint.model.values import ClassRef, Layer, ListValue
from reslint.model.walk import descendants

if TYPE_CHECKING:
    from reslint.model.classes import ClassModel
    from reslint.model.module import ModuleModel


def family_key(network: Layer) -> str:
    """The network's constructor and arguments, with the numbers that only size layers left out."""
    from reslint.model.classes import _value_key

    decided = _decided_by_its_code(network)
    return repr(
        (
            network.type_name,
            sorted(
                (name, _value_key(value))
                for name, value in network.args.items()
                if not _sizes_only(name, value, decided)
            ),
        )
    )


def names_decided_on(functions: list[cst.FunctionDef], module: ModuleModel) -> frozenset[str]:
    """The names `functions` (and the file's functions they call, by name) test, compare or index
    with: `depth` in `if depth >= 50`, `arch_settings[depth]`, `assert depth in (18, 34)`."""
    found: set[str] = set()
    seen: set[int] = set()
    pending = list(functions)
    while pending:
        function = pending.pop()
        if id(function) in seen:
            continue
        seen.add(id(function))
        # By exact type: every node of the class is met, and a failing isinstance against a
        # libcst node class goes through its abstract base's check.
        for node in descendants(function.body):
            if (
                type(node) is cst.If
                or type(node) is cst.While
                or type(node) is cst.IfExp
                or type(node) is cst.Assert
            ):
                found |= _names_in(node.test)
            elif type(node) is cst.Comparison:
                found |= _names_in(node)
            elif type(node) is cst.SubscriptElement:
                found |= _names_in(node.slice)
            elif type(node) is cst.Call and type(node.func) is cst.Name:
                helper = module.function_named(node.func.value)
                if helper is not None:
                    pending.append(helper)
    return frozenset(found)


def _decided_by_its_code(network: Layer) -> frozenset[str]:
    """What the network's class and the classes it was handed (its blocks) decide on."""
    classes: list[ClassModel] = []
    if network.cls is not None:
        classes += [network.cls, *network.cls.ancestors()]
    classes += [value.cls for value in network.args.values() if isinstance(value, ClassRef)]
    return frozenset().union(*(cls.decided_names for cls in classes))


def _sizes_only(name: str, value: Any, decided: frozenset[str]) -> bool:
    if isinstance(value, ListValue):  # blocks per stage, widths per stage
        return all(getattr(item, "constant", None) is not None for item in value.items)
    return getattr(value, "constant", None) is not None and name not in decided


def _names_in(node: cst.CSTNode) -> set[str]:
    names: set[str] = set()
    for inner in descendants(node):
        if type(inner) is cst.Name:
            names.add(inner.value)
        elif type(inner) is cst.Attribute:
            names.add(inner.attr.value)
    return names
