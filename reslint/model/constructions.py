"""The values the file's own constructions give a class's parameter (`ResidualBlock(c, c, 3, 1, 1)`
everywhere it is built): where every construction is seen and passes a number, a configuration
outside those numbers is one the file never builds, and a fault that needs it never happens."""

from __future__ import annotations

from typing import TYPE_CHECKING

import libcst as cst

from reslint.model.call_binding import argument_keywords, function_signature, is_super_call
from reslint.model.values import Layer

if TYPE_CHECKING:
    from reslint.model.classes import ClassModel, Instance
    from reslint.model.module import ModuleModel
    from reslint.model.names import NameUse

MAX_DEPTH = 4  # classes passing the parameter on to one another (network -> stage -> block)


def passed_numbers(
    cls: ClassModel, param: str, module: ModuleModel, depth: int = 0
) -> set[float] | None:
    """The numbers every construction of `cls` in the file gives `param` of its `__init__`: written
    at the call, its default when left out, or a parameter of the `__init__` the call is written in,
    followed to that class's own constructions. None when one of them is not known, when the class is
    used otherwise than called by its name (handed on as a value, subclassed, named in a string, as a
    registry does, or decorated), or when the file never builds it. A builder may be a method or a
    module-level function; an `__all__` entry only exports the class, as every class is."""
    init = cls.method("__init__")
    if (
        depth > MAX_DEPTH
        or init is None
        or cls.node.decorators
        or cls.name in module.names.strings
        or not any(param == p.name.value for p in init.params.params)
    ):
        return None
    values: set[float] = set()
    uses = [use for use in module.names.reads_of(cls.name) if not _names_super(use.node, module)]
    for use in uses:
        call = module.names.parents.get(id(use.node))
        if not (isinstance(call, cst.Call) and call.func is use.node):
            return None
        value = _passed(call, init, param, use.function, module, depth)
        if value is None:
            return None
        values |= value
    return values or None


def _passed(
    call: cst.Call,
    init: cst.FunctionDef,
    param: str,
    function: cst.FunctionDef | None,
    module: ModuleModel,
    depth: int,
) -> set[float] | None:
    if any(arg.star for arg in call.args):
        return None
    binding = function_signature(init, bound=True).bind(argument_keywords(call))
    if binding.problem is not None:
        return None
    index = binding.arguments.get(param)
    if index is None:
        default = next((p.default for p in init.params.params if p.name.value == param), None)
        return _number(default)
    return _numbers_of(call.args[index].value, function, module, depth)


def _numbers_of(
    value: cst.BaseExpression, function: cst.FunctionDef | None, module: ModuleModel, depth: int
) -> set[float] | None:
    number = _number(value)
    if number is not None or not isinstance(value, cst.Name) or function is None:
        return number
    # A parameter of the `__init__` the call is written in: what that class's constructions pass.
    owner = module.class_of(function)
    if (
        owner is None
        or function.name.value != "__init__"
        or not any(value.value == p.name.value for p in function.params.params)
        or _rebound(value.value, function, module)
    ):
        return None
    return passed_numbers(owner, value.value, module, depth + 1)


def _number(node: cst.BaseExpression | None) -> set[float] | None:
    if isinstance(node, cst.Integer):
        return {float(node.evaluated_value)}
    return None


def _rebound(name: str, function: cst.FunctionDef, module: ModuleModel) -> bool:
    """Whether the function assigns the parameter anew (more than the parameter's own binding)."""
    return len(module.names.functions[id(function)].bound.get(name, [])) > 1


def _names_super(name: cst.Name, module: ModuleModel) -> bool:
    """`super(Block, self)`: the class named to reach its base, not built."""
    arg = module.names.parents.get(id(name))
    return isinstance(arg, cst.Arg) and is_super_call(module.names.parents.get(id(arg)))


def built_by_networks(cls: ClassModel, module: ModuleModel) -> list[Layer] | None:
    """The layers of `cls` (with the arguments each got) that the file's outermost classes build,
    those the file never constructs itself (the network, a block on its own), followed down through
    the blocks they build: the configurations the file makes, where a class the file builds by name
    (a stage) is only run generically for its own sake. None when `cls` is itself outermost, or
    built outside what the instances show (a factory function, a loop reslint did not follow)."""
    cache = module.__dict__.setdefault("_built_by_networks", {})
    if id(cls) not in cache:
        cache[id(cls)] = _built_by_networks(cls, module)
    return cache[id(cls)]


def _built_by_networks(cls: ClassModel, module: ModuleModel) -> list[Layer] | None:
    constructions = _constructions(cls, module)
    if not constructions or any(
        use.function is None and _called(use, module) for use in constructions
    ):
        return None  # outermost, or built at the top of the file with values no instance shows
    found: list[Layer] = []
    seen: set[int] = set()
    for instance in module.instances():
        if instance.cls.module is module and not _constructions(instance.cls, module):
            _collect(instance, cls, found, seen)
    for function in module.function_defs:  # what the factories build (`get_model("wrn-70-16")`)
        for option in module.declared_models(function):
            if isinstance(option, Layer) and option.kind == "block":
                if option.cls is cls:
                    found.append(option)
                elif option.instance is not None:
                    _collect(option.instance, cls, found, seen)
    return found or None


def built_inside_modules(cls: ClassModel) -> bool:
    """Whether a method of another nn.Module class of the file builds `cls` or hands it on (a stage
    the network's `__init__` makes): a part of a network, whose input is another layer's output."""
    module = cls.module
    owners = (module.class_of(use.function) for use in _constructions(cls, module))
    return any(owner is not None and owner is not cls and owner.is_module for owner in owners)


def _constructions(cls: ClassModel, module: ModuleModel) -> list[NameUse]:
    """The reads of the class's name that may build it: all but those reaching its base
    (`super(Block, self)`) or naming it as another class's base. A name handed on (`block =
    BasicBlock`, `Stage(n, c, BasicBlock)`) may be built wherever it goes, as a call by its name is.
    None of them: the class is outermost (the network, or a block on its own)."""
    found = []
    for use in module.names.reads_of(cls.name):
        parent = module.names.parents.get(id(use.node))
        is_base = isinstance(parent, cst.Arg) and isinstance(
            module.names.parents.get(id(parent)), cst.ClassDef
        )
        if not (is_base or _names_super(use.node, module)):
            found.append(use)
    return found


def _called(use: NameUse, module: ModuleModel) -> bool:
    call = module.names.parents.get(id(use.node))
    return isinstance(call, cst.Call) and call.func is use.node


def _collect(instance: Instance, cls: ClassModel, found: list[Layer], seen: set[int]) -> None:
    if id(instance) in seen:
        return
    seen.add(id(instance))
    for layer in instance.layers().values():
        for inner in layer.walk():
            if inner.kind != "block":
                continue
            if inner.cls is cls:
                found.append(inner)
            elif inner.instance is not None:
                _collect(inner.instance, cls, found, seen)
