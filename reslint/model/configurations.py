"""Configurations the code itself declares, beyond what its factories build with their defaults: the
block classes a network's annotation admits (`block: type[BasicBlock | Bottleneck]`), and the block
classes the file hands to a network that takes its block as an argument, the entries of a table a
factory looks its argument up in (`model_params[name]` for name in "resnet-18",
"resnet-50", ...), and the depths of a network's own architecture table (`self.arch_settings[depth]`).
Each is a way the code says it may be built, so a fault in one is a real fault."""

from __future__ import annotations

from collections.abc import Iterator
from typing import TYPE_CHECKING, Any

import libcst as cst

from reslint.model import symbolic
from reslint.model.call_binding import function_signature, is_super_call, last_name
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


def handed_classes(cls: ClassModel, module: ModuleModel) -> Iterator[dict[str, Any]]:
    """`{"block": ClassRef(Bottleneck)}` for each class of the file that a call in the file hands to
    a parameter of `__init__` while passing on `**kwargs` (`ResNet(Bottleneck, [3, 4, 6, 3],
    **kwargs)`, a subclass's `super().__init__(block=SEBottleneck, **kwargs)`): the caller's caller
    chooses every other setting, so the class is built with that block and any of them (a call that
    fixes them all is what the factory's own instance already tries). A network that takes its block
    class as an argument and is built nowhere in the file (another file picks the block) gets each
    class of the file that has the class attributes the network reads off that parameter
    (`block.expansion`): it can be built with any of them. Only the class is chosen; the other
    parameters stay open, as in the generic instance, so a head built under a condition on them
    (`elif hidden_mlp == 0:`) is checked with each block too."""
    init = cls.method("__init__")
    if init is None:
        return
    calls = list(_calls_of(cls, module))
    choices = list(_handed(init, calls, module) if calls else _fitting(cls, init, module))
    yield from choices[:MAX_CHOICES]


def _handed(
    init: cst.FunctionDef, calls: list[cst.Call], module: ModuleModel
) -> Iterator[dict[str, Any]]:
    signature = function_signature(init, bound=True)
    seen: set[tuple[str, str]] = set()
    for call in calls:
        if not any(arg.star == "**" for arg in call.args):
            continue
        # what a `*args` holds is unknown: then only keywords say which parameter gets what
        spread = any(arg.star == "*" for arg in call.args)
        args = [a for a in call.args if not a.star and (a.keyword is not None or not spread)]
        binding = signature.bind([arg.keyword.value if arg.keyword else None for arg in args])
        for param, index in binding.arguments.items():
            value = args[index].value
            handed = module.class_named(value.value, call) if isinstance(value, cst.Name) else None
            if handed is not None and (param, handed.name) not in seen:
                seen.add((param, handed.name))
                yield {param: ClassRef(handed)}


def _calls_of(cls: ClassModel, module: ModuleModel) -> Iterator[cst.Call]:
    """The file's calls that run `cls.__init__`: `cls(...)`, and `super().__init__(...)` in the
    `__init__` of a class whose first base is `cls`."""
    inits = {
        id(other.method("__init__"))
        for other in module.subclasses(cls)
        if other.local_bases()[:1] == [cls]
    }
    by_callee = module.names.calls_by_callee
    named = [
        (node, function)
        for node, function in by_callee.get(cls.name, ())
        if type(node.func) is cst.Name and module.class_named(cls.name, node) is cls
    ]
    supers = [
        (node, function)
        for node, function in (by_callee.get("__init__", ()) if inits else ())
        if _is_super_init(node.func) and function is not None and id(function) in inits
    ]
    calls = named + supers
    if named and supers:  # in the order the file has them
        order = {id(node): number for number, (node, _) in enumerate(module.names.calls)}
        calls.sort(key=lambda call: order[id(call[0])])
    for node, _ in calls:
        yield node


def _is_super_init(func: cst.BaseExpression) -> bool:
    return (
        isinstance(func, cst.Attribute)
        and func.attr.value == "__init__"
        and is_super_call(func.value)
    )


def _fitting(
    cls: ClassModel, init: cst.FunctionDef, module: ModuleModel
) -> Iterator[dict[str, Any]]:
    """Each module class of the file (not `cls` or one built on it) that has every class attribute
    the network's methods read off a parameter of `__init__` (`block.expansion`)."""
    params = {param.name.value for param in init.params.params[1:]}
    read: dict[str, set[str]] = {}
    for method in cls.methods.values():
        for node in module.attributes_in_method(method):
            if isinstance(node.value, cst.Name) and node.value.value in params:
                read.setdefault(node.value.value, set()).add(node.attr.value)
    for param, attrs in read.items():
        for other in module.class_defs:
            if other is cls or cls in other.ancestors() or not other.is_module:
                continue
            known = [other, *other.ancestors()]
            if all(any(attr in k.constant_nodes for k in known) for attr in attrs):
                yield {param: ClassRef(other)}


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
    if last_name(annotation.value) in ("Union", "Optional"):
        return [
            name
            for element in annotation.slice
            if isinstance(element.slice, cst.Index)
            for name in _class_names(element.slice.value)
        ]
    if last_name(annotation.value) not in ("type", "Type"):
        return []
    return [
        node.value
        for node in subtree(annotation.slice[0])
        if isinstance(node, cst.Name) and node.value not in ("Union", "Optional", "None")
    ]


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
