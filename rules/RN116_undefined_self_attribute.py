"""RN116 undefined-self-attribute."""

from __future__ import annotations

import re
from collections.abc import Iterator

import libcst as cst

from reslint.knowledge.frameworks import module_base_attributes
from reslint.model import ModuleModel
from reslint.model.classes import ClassModel
from reslint.model.computed_names import dynamic_name_shapes, reads_fit
from reslint.model.init_order import early_reads
from reslint.model.switches import behind_switch_left_off
from reslint.model.walk import children, descendants
from reslint.rule import Rule, Violation
from reslint.rules_support import closest, is_self, reachable_methods

# dir(torch.nn.Module()) in torch 2.13.0, dunders left out: what every module has without assigning
# it. tests/test_name_rules.py compares it with the installed torch.
# fmt: off
NN_MODULE_ATTRIBUTES = frozenset({
    "T_destination", "_apply", "_backward_hooks", "_backward_pre_hooks", "_buffers", "_call_impl",
    "_compiled_call_impl", "_forward_hooks", "_forward_hooks_always_called",
    "_forward_hooks_with_kwargs", "_forward_pre_hooks", "_forward_pre_hooks_with_kwargs",
    "_get_backward_hooks", "_get_backward_pre_hooks", "_get_name", "_is_full_backward_hook",
    "_load_from_state_dict", "_load_state_dict_post_hooks", "_load_state_dict_pre_hooks",
    "_maybe_warn_non_full_backward_hook", "_modules", "_named_members", "_non_persistent_buffers_set",
    "_parameters", "_register_load_state_dict_pre_hook", "_register_state_dict_hook",
    "_replicate_for_data_parallel", "_save_to_state_dict", "_slow_forward", "_state_dict_hooks",
    "_state_dict_pre_hooks", "_version", "_wrapped_call_impl", "add_module", "apply", "bfloat16",
    "buffers", "call_super_init", "children", "compile", "cpu", "cuda", "double", "dump_patches",
    "eval", "extra_repr", "float", "forward", "get_buffer", "get_extra_state", "get_parameter",
    "get_submodule", "half", "ipu", "load_state_dict", "modules", "mtia", "named_buffers",
    "named_children", "named_modules", "named_parameters", "parameters", "register_backward_hook",
    "register_buffer", "register_forward_hook", "register_forward_pre_hook",
    "register_full_backward_hook", "register_full_backward_pre_hook",
    "register_load_state_dict_post_hook", "register_load_state_dict_pre_hook", "register_module",
    "register_parameter", "register_state_dict_post_hook", "register_state_dict_pre_hook",
    "requires_grad_", "set_extra_state", "set_submodule", "share_memory", "state_dict", "to",
    "to_empty", "train", "training", "type", "xpu", "zero_grad",
})
# fmt: on


class UndefinedSelfAttribute(Rule):
    """## What it does
    Checks `forward`, `__init__` and the methods they call for a `self.X` that nothing ever sets, for
    a `self.X` that `__init__` surely reads (itself, or in a builder it calls) before it first sets
    it, and for `.self.` inside an attribute chain (`out_channel.self.expansion`).

    Set means: assigned in the class, its bases (in this file or another linted file) or its
    subclasses; a method, property or class attribute; registered (`setattr`, `add_module`, `register_buffer`); an attribute every
    `nn.Module` has; or set on an object from outside the class. Classes with a base reslint cannot
    see (another library's class), `__getattr__`, or attributes set by computed names are skipped,
    and so are abstract bases (a method that only raises `NotImplementedError`: their subclasses may
    live in files reslint does not see) and reads behind a switch the file only ever turns off (`if self.gradient_checkpointing:`
    with the flag set False alone): what turns it on from outside may set them too.

    ## Why is this bad?
    The first forward pass (or the constructor) raises `AttributeError: 'ResNet' object has no
    attribute 'in_channel'`. It is usually a typo (`self.in_channel` for `self.in_channels`) or an
    attribute that `__init__` was meant to set before a builder reads it.

    ## Example
    ```python
    def __init__(self, block, num_blocks):
        super().__init__()
        self.in_channels = 64
        self.layer1 = self._make_layer(block, 64, num_blocks[0])

    def _make_layer(self, block, channels, n):
        layers = [block(self.in_channel, channels)]
    ```

    Use instead:
    ```python
    def _make_layer(self, block, channels, n):
        layers = [block(self.in_channels, channels)]
    ```
    """

    code = "RN116"
    name = "undefined-self-attribute"

    def check(self, module: ModuleModel) -> Iterator[Violation]:
        set_outside = _attributes_set_outside_methods(module)
        dynamic = _dynamic_classes(module)
        for family in _families(module):
            if not all(_checkable(cls, module, dynamic) for cls in family):
                continue
            imported = _ancestors_elsewhere(family, module)
            known = _known_attributes(family, module) | set_outside
            shapes = [shape for cls in family for shape in dynamic.get(id(cls.node)) or ()]
            for ancestor in imported:
                home = ancestor.module
                known |= _known_attributes([ancestor], home) | _attributes_set_outside_methods(home)
                shapes += _dynamic_classes(home).get(id(ancestor.node)) or []
            reported: set[str] = set()
            for cls in family:
                if not cls.is_module or cls.left_to_subclasses:
                    continue
                for method in reachable_methods(cls, ("__init__", "forward"), module):
                    if not _instance_method(method) or not module.owns(method):
                        continue  # a base of another file is checked where it is defined
                    for name, reads in module.self_reads(method).items():
                        if name in known or name in reported or name in module.names.strings:
                            continue
                        if name in module.lost_in_repair:
                            continue  # `self.conv1 = ???` of an exercise: the repair dropped the set
                        if name.startswith("__"):
                            continue  # `self.__class__`, `self.__dict__`: every object has them
                        if reads_fit(name, shapes):
                            continue  # `self.layer1` where `add_module(f"layer{i}", ...)` sets it
                        reads = [
                            r
                            for r in reads
                            if not _read_where_absent(r, method, known, module)
                            and not behind_switch_left_off(
                                r, method.params.params[0].name.value, module
                            )
                        ]
                        if not reads:
                            continue
                        reported.add(name)
                        yield _violation(reads[0], cls, known, module)
                yield from _read_before_set(cls, family, known, set_outside, shapes, module)
        yield from _self_inside_chains(module)


def _read_before_set(
    cls: ClassModel,
    family: list[ClassModel],
    known: set[str],
    set_outside: set[str],
    shapes: list[re.Pattern],
    module: ModuleModel,
) -> Iterator[Violation]:
    """`self.X` that `__init__` surely reads before it sets it. A subclass could set it first, and
    what every module (or a framework base) has, a class attribute, a name written as a string
    (`register_buffer("X")`, `getattr(self, "X")`) or a store from outside may give it another way:
    those stay silent."""
    if module.subclasses(cls):
        return
    given = (NN_MODULE_ATTRIBUTES | set_outside | module.names.strings).union(
        *(_class_body_names(member.node) for member in family),
        *(_framework_base_attributes(base, module) or () for base in cls.base_nodes),
    )
    for early in early_reads(cls, module):
        name = early.read.attr.value
        if name in given or name not in known or reads_fit(name, shapes):
            continue
        where = (
            f"`{early.method.name.value}`, called from `__init__` on line "
            f"{module.line_of(early.call)}, reads"
            if early.call is not None
            else "`__init__` reads"
        )
        store = early.first_store
        when = (
            f"it is first set on line {module.line_of(store)}"
            if store is not None
            else "`__init__` never sets it"
        )
        yield Violation(
            early.read,
            f"{where} `self.{name}` before it is set ({when}): building `{cls.name}` raises "
            "AttributeError",
            f"set `self.{name}` in `__init__` before "
            + ("that call" if early.call is not None else "this line"),
        )


def _violation(
    attribute: cst.Attribute, cls: ClassModel, known: set[str], module: ModuleModel
) -> Violation:
    name = attribute.attr.value
    suggestion = closest(name, (k for k in known if k not in NN_MODULE_ATTRIBUTES))
    if suggestion is not None:
        return Violation(
            attribute,
            f"`self.{name}` is never set in `{cls.name}`: did you mean `self.{suggestion}`?",
            f"write `self.{suggestion}`",
        )
    return Violation(
        attribute,
        f"`self.{name}` is read but never set in `{cls.name}` nor its bases: this raises "
        "AttributeError",
        f"set `self.{name}` in `__init__` before it is read",
    )


def _read_where_absent(
    read: cst.Attribute, method: cst.FunctionDef, known: set[str], module: ModuleModel
) -> bool:
    """The read sits where `hasattr(self, X)` was found false for an X the class sets (the `else`
    of `if hasattr(self, "qkv_proj"):`, the body of `if not hasattr(...)`): that code serves another
    version of the object (the split projections of an older checkpoint), and whether it ever runs
    reslint cannot tell."""
    parents = module.file_of(method).names.parents
    child: cst.CSTNode = read
    parent = parents.get(id(child))
    while parent is not None and parent is not method:
        if isinstance(parent, cst.If) and child is not parent.test:
            tested, negated = _hasattr_on_self(parent.test, method)
            if tested in known and (child is parent.orelse) != negated:
                return True
        child, parent = parent, parents.get(id(parent))
    return False


def _hasattr_on_self(test: cst.BaseExpression, method: cst.FunctionDef) -> tuple[str | None, bool]:
    """`hasattr(self, "X")` -> ("X", False); `not hasattr(self, "X")` -> ("X", True)."""
    negated = isinstance(test, cst.UnaryOperation) and isinstance(test.operator, cst.Not)
    call = test.expression if isinstance(test, cst.UnaryOperation) else test
    if not (
        isinstance(call, cst.Call)
        and isinstance(call.func, cst.Name)
        and call.func.value == "hasattr"
        and len(call.args) == 2
        and is_self(call.args[0].value, method)
        and isinstance(call.args[1].value, cst.SimpleString)
    ):
        return None, False
    name = call.args[1].value.evaluated_value
    return (name if isinstance(name, str) else None), negated


def _families(module: ModuleModel) -> list[list[ClassModel]]:
    """The file's classes grouped by inheritance within the file: a base may read what a subclass
    sets."""
    group = {id(cls): cls for cls in module.class_defs}

    def root(cls: ClassModel) -> ClassModel:
        while group[id(cls)] is not cls:
            cls = group[id(cls)]
        return cls

    for cls in module.class_defs:
        for base in cls.local_bases():
            if id(base) in group:
                group[id(root(cls))] = root(base)
    families: dict[int, list[ClassModel]] = {}
    for cls in module.class_defs:
        families.setdefault(id(root(cls)), []).append(cls)
    return list(families.values())


def _checkable(
    cls: ClassModel, module: ModuleModel, dynamic: dict[int, list[re.Pattern] | None]
) -> bool:
    """Every base is visible in this file (nn.Module, object, or a class of the file) and no
    attribute is set by a name of any shape or looked up dynamically (`__getattr__`, `__dict__`,
    `setattr(self, name, ...)` with `name` a parameter)."""
    others = [
        base
        for base in cls.base_nodes
        if not (isinstance(base, cst.Name) and base.value == "object")
        and module.imports.qualified(base) != "torch.nn.Module"
        and _framework_base_attributes(base, module) is None
    ]
    if len(cls.local_bases()) != len(others):
        return False
    if {"__getattr__", "__getattribute__", "__setattr__"} & set(cls.methods):
        return False
    if id(cls.node) in dynamic and dynamic[id(cls.node)] is None:
        return False
    # A base of another linted file (`from .resnet import Bottleneck`) counts as seen when it is
    # checkable in its own file.
    return all(
        _checkable(base, base.module, _dynamic_classes(base.module))
        for base in cls.local_bases()
        if base.module is not module
    )


def _framework_base_attributes(base: cst.BaseExpression, module: ModuleModel) -> frozenset | None:
    """What a known framework base (mmengine's BaseModule) gives its subclasses; None otherwise. A
    base from star imports: what it gives whichever of them it comes from."""
    qualified = module.imports.qualified(base)
    names = [qualified] if qualified else module.imports.star_sources(base)
    given = [module_base_attributes(name) for name in names]
    known = [attributes for attributes in given if attributes is not None]
    if not given or len(known) < len(given):
        return None
    return frozenset[str]().union(*known)


def _dynamic_classes(module: ModuleModel) -> dict[int, list[re.Pattern] | None]:
    """The class definitions (by id) whose methods set attributes by computed names, with the shapes
    of those names (`self.add_module(f"layer{i}", ...)`: `layer.*`); None for a class where a name
    may be anything (`setattr(self, name, ...)` with `name` a parameter) or that reaches `__dict__` /
    `vars`."""
    found = dynamic_name_shapes(module)

    def owner(function: cst.FunctionDef | None) -> None:
        cls = module.class_of(module.enclosing_method(function)) if function is not None else None
        if cls is not None:
            found[id(cls.node)] = None

    for attribute, function in module.names.attributes:
        if attribute.attr.value == "__dict__":
            owner(function)
    for use in module.names.reads_of("vars"):
        if use.classdef is not None:
            found[id(use.classdef)] = None
    return found


def _ancestors_elsewhere(family: list[ClassModel], module: ModuleModel) -> list[ClassModel]:
    """The ancestors of the family's classes defined in other linted files."""
    found = {
        id(ancestor): ancestor
        for cls in family
        for ancestor in cls.ancestors()
        if ancestor.module is not module
    }
    return list(found.values())


def _known_attributes(family: list[ClassModel], module: ModuleModel) -> set[str]:
    """Every attribute a class of the family sets on self, defines in its body, or inherits from
    nn.Module."""
    known = set(NN_MODULE_ATTRIBUTES)
    for cls in family:
        known |= _class_body_names(cls.node)
        for base in cls.base_nodes:
            known |= _framework_base_attributes(base, module) or set()
        for method in cls.methods.values():
            known |= {
                target.attr.value
                for target in module.attribute_stores_in_method(method)
                if is_self(target.value, method)
            }
    return known


def _class_body_names(node: cst.ClassDef) -> set[str]:
    """Names bound directly in a class body: methods, properties, class attributes, nested classes,
    including those under an `if` or `try` in the body."""
    found: set[str] = set()
    pending: list[cst.CSTNode] = list(node.body.body)
    while pending:
        statement = pending.pop()
        if isinstance(statement, (cst.FunctionDef, cst.ClassDef)):
            found.add(statement.name.value)
        elif isinstance(statement, cst.SimpleStatementLine):
            for small in statement.body:
                targets = (
                    [t.target for t in small.targets]
                    if isinstance(small, cst.Assign)
                    else [small.target]
                    if isinstance(small, (cst.AnnAssign, cst.AugAssign))
                    else []
                )
                found |= {
                    n.value for t in targets for n in descendants(t) if isinstance(n, cst.Name)
                }
        elif isinstance(statement, _BRANCHING):
            for child in children(statement):  # the statements of its blocks, one level down
                if isinstance(child, cst.IndentedBlock):
                    pending.extend(child.body)
                elif isinstance(child, _BRANCHING):
                    pending.append(child)
    return found


_BRANCHING = (
    cst.If,
    cst.Else,
    cst.Try,
    cst.ExceptHandler,
    cst.Finally,
    cst.With,
    cst.For,
    cst.While,
)


def _attributes_set_outside_methods(module: ModuleModel) -> set[str]:
    """`model.X = ...` anywhere (not on a method's own self): the class may get X from outside."""
    found = set()
    for target, function in module.names.attribute_stores:
        if function is None or not is_self(target.value, module.enclosing_method(function)):
            found.add(target.attr.value)
    return found


def _instance_method(method: cst.FunctionDef) -> bool:
    return bool(method.params.params) and is_self(method.params.params[0].name, method)


def _self_inside_chains(module: ModuleModel) -> Iterator[Violation]:
    """`out_channel.self.expansion`: `self` is the method's instance, never an attribute of a value,
    unless the file names one so (BERT-style `self.self = SelfAttention(...)`)."""
    if any(target.attr.value == "self" for target, _ in module.names.attribute_stores):
        return
    for attribute, function in module.names.attributes:
        if function is None or attribute.attr.value != "self":
            continue
        method = module.enclosing_method(function)
        if not _instance_method(method) or method.params.params[0].name.value != "self":
            continue
        if isinstance(attribute.value, cst.Name) and attribute.value.value == "self":
            continue
        outer = module.names.parents.get(id(attribute))
        if not (isinstance(outer, cst.Attribute) and outer.value is attribute):
            continue
        base = module.code(attribute.value)
        yield Violation(
            outer,
            f"`{module.code(outer)}` reads an attribute `self` of `{base}`, which it does not "
            f"have: an operator is probably missing (`{base} * self.{outer.attr.value}`)",
            f"write `{base} * self.{outer.attr.value}` (or the operator you meant)",
        )


UndefinedSelfAttribute.INVALID = [
    """
import torch.nn as nn
class ResNet(nn.Module):
    def __init__(self, block, num_blocks):
        super().__init__()
        self.in_channels = 64
        self.layer1 = self._make_layer(block, 64, num_blocks[0])
    def _make_layer(self, block, channels, n):
        return nn.Sequential(block(self.in_channel, channels))
""",
    """
import torch.nn as nn
class Bottleneck(nn.Module):
    expansion = 4
    def __init__(self, in_channel, out_channel):
        super().__init__()
        self.conv3 = nn.Conv2d(out_channel, out_channel.self.expansion, 1)
""",
]
UndefinedSelfAttribute.VALID = [
    """
import torch.nn as nn
class Base(nn.Module):
    def forward(self, x):
        return self.body(x) + self.scale * self.shortcut(x)
class Block(Base):
    scale = 1.0
    def __init__(self):
        super().__init__()
        self.body = nn.Conv2d(8, 8, 3, padding=1)
        setattr(self, "shortcut", nn.Identity())
        self.register_buffer("mean", None)
        self.training_steps = self.mean
    @property
    def width(self):
        return 8
    def forward(self, x):
        return super().forward(x) * self.width
""",
    """
import torch.nn as nn
from somewhere import Mixin
class Net(nn.Module, Mixin):
    def forward(self, x):
        return self.provided_by_mixin(x)
class Dynamic(nn.Module):
    def __init__(self, **kwargs):
        super().__init__()
        for key, value in kwargs.items():
            setattr(self, key, value)
    def forward(self, x):
        return self.conv(x)
class External(nn.Module):
    def forward(self, x):
        return self.head(x)
model = External()
model.head = nn.Identity()
""",
]
