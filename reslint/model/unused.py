"""Layers a class builds and never uses: assigned to `self` while the class ran, read by no method of
its hierarchy, by no name or string of the file, and not reachable by iterating the children."""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from typing import TYPE_CHECKING

import libcst as cst

from reslint.knowledge.frameworks import bookkeeping_names
from reslint.knowledge.naming import BOOKKEEPING, NO_RESIDUAL_NAME, SHORTCUT_NAME
from reslint.model.call_binding import is_super_call
from reslint.model.classes import AttributeAssignment, ClassModel
from reslint.model.flow import is_placeholder
from reslint.model.values import Layer, NamePattern, Param, options
from reslint.model.walk import descendants

if TYPE_CHECKING:
    from reslint.model.module import ModuleModel

# Iterating over children reaches every submodule without naming it.
# `_freeze_stages` (every OpenMMLab backbone), `freeze_bn`: a method that only stops a layer's
# training; a layer it reaches but nothing runs is still unused.
FREEZING = re.compile("freeze", re.I)
DYNAMIC_ACCESS = {"children", "named_children", "modules", "named_modules", "_modules", "__dict__"}


@dataclass(frozen=True)
class UnusedLayer:
    """`assignment` builds a layer that nothing in `cls`'s hierarchy uses."""

    cls: ClassModel
    assignment: AttributeAssignment
    # `downsample` read without `self.`: the layer is unused because of that missing `self.`.
    bare_reads: tuple[cst.Name, ...]
    # Where forward returns the branch alone, when the unused layer is the block's shortcut
    # (`self.shortcut`, `self.downsample`) and forward combines no values at all: the residual
    # addition is what is missing, not a use of one layer.
    residual_missing_at: cst.Return | None


def unused_layers(module: ModuleModel) -> Iterator[UnusedLayer]:
    """Each unused layer once, for the class whose code builds it (not again for each subclass that
    only calls `super().__init__()`)."""
    elsewhere = module.attribute_reads[1]
    # Each class's own uses, worked out once: a class is related to every class of its hierarchy.
    # Keyed by the number of its instances too, as building one class's instance may build another's.
    uses: dict[tuple[int, int, frozenset[str]], set[str]] = {}

    def own_uses(cls: ClassModel, dead: frozenset[str] = frozenset()) -> set[str]:
        key = (id(cls), len(cls.instances()), dead)
        if key not in uses:
            uses[key] = _names_used_in(cls, module, dead)
        return uses[key]

    reported: set[int] = set()
    builders = _layer_builders(module)
    for cls in module.module_classes:
        if not _uses_are_knowable(cls, module):
            continue
        # `self.X` read by this class, its bases or its subclasses (a base may build what a
        # subclass's forward uses), or `X` read on any other object of the file. Strings name
        # modules too (`getattr(self, "layer1")`, timm's `module="act1"`): those written in a
        # related class or outside any class.
        used = elsewhere | module.names.strings_by_class.get(None, set())
        related = [cls, *cls.ancestors(), *module.subclasses(cls)]
        # What the class's own code builds is unused if no method that runs for it uses it; what a
        # base builds is judged with the base's own methods too (they run for the base).
        used_by_live = set(used)
        for other in related:
            used |= own_uses(other)
            used_by_live |= own_uses(other, _overridden_for(cls, other, module))
        own_stores = _stores_in(cls, module)
        patterns = _read_by_pattern(related)
        for assignment in _assignments(cls, module):
            if (
                assignment.name in (used_by_live if id(assignment.target) in own_stores else used)
                or not assignment.name.isidentifier()  # `add_module("stem-path0", m)`: no `self.X`
                or any(pattern.fits(assignment.name) for pattern in patterns)
                or id(assignment.target) in reported
                or not _is_built_layer(assignment, builders, module)
                or _used_by_subclass_elsewhere(cls, assignment.name, module)
            ):
                continue
            reported.add(id(assignment.target))
            yield UnusedLayer(
                cls,
                assignment,
                tuple(_bare_reads(cls, assignment.name, module)),
                _residual_missing_at(cls, assignment, builders, module),
            )


def _used_by_subclass_elsewhere(cls: ClassModel, name: str, module: ModuleModel) -> bool:
    """A subclass in another linted file uses the layer: the base builds it for that subclass. Asked
    last, for a layer that would be reported, as it builds the other files' models."""
    return any(
        name in _names_used_in(other, module, frozenset())
        for other in module.project.subclasses_elsewhere(cls, module)
    )


def _uses_are_knowable(cls: ClassModel, module: ModuleModel) -> bool:
    """A class built and run by forward whose attributes are read only by name: not a container
    (nn.Sequential subclasses run their children in order), not iterating its children, not read
    through names reslint cannot work out. A forward that only raises `NotImplementedError` leaves
    the layers to subclasses, which may live in files reslint does not see. A class with a line the
    syntax repair changed (a `???` an exercise leaves for the student) may use them on that line."""
    forward = cls.method("forward")
    return not (
        cls.generic is None
        or forward is None
        or is_placeholder(forward)
        or cls.is_container
        or _accesses_dynamically(cls, module)
        or _reached_by_unknown_names(cls)
        or module.repaired_within(cls.node)
    )


def _read_by_pattern(related: list[ClassModel]) -> set[NamePattern]:
    """The name patterns the classes read attributes by: `getattr(self, f"layer{i}")` reads every
    layer whose name fits."""
    return {p for other in related for built in other.instances() for p in built.read_by_pattern}


def _residual_missing_at(
    cls: ClassModel, assignment: AttributeAssignment, builders: set[str], module: ModuleModel
) -> cst.Return | None:
    forward = cls.method("forward")
    built = cls.generic
    if (
        not SHORTCUT_NAME.search(assignment.name)
        or NO_RESIDUAL_NAME.search(cls.name)  # a plain block has no residual to miss
        # `self.extras = nn.ModuleList()`: not a shortcut
        or not (_callable_layer(assignment.value) or _built_by(assignment, builders, module))
        or forward is None
        or built is None
        or built.forward is None
        or built.forward.adds
    ):
        return None
    nodes = list(descendants(forward.body))
    if any(isinstance(node, cst.BinaryOperation | cst.AugAssign) for node in nodes):
        return None  # it combines values some other way (`(1 + mask) * trunk`): not a plain branch
    returns = [node for node in nodes if isinstance(node, cst.Return)]
    return returns[-1] if returns else None


def _stores_in(cls: ClassModel, module: ModuleModel) -> set[int]:
    """The attribute targets written in the class's own methods, by id."""
    home = module.file_of(cls.node)
    return {
        id(target)
        for method in cls.methods.values()
        for target in home.attribute_stores_in_method(method)
    }


def _overridden_for(cls: ClassModel, ancestor: ClassModel, module: ModuleModel) -> frozenset[str]:
    """The methods of `ancestor` that never run for an instance of `cls`: those `cls` or a class
    between overrides (RegNet's own forward replaces ResNet's), unless some class of the hierarchy
    calls them explicitly (`super().forward(x)`, `ResNet.forward(self, x)`)."""
    if ancestor is cls or ancestor not in cls.ancestors():
        return frozenset()
    overridden = {name for name, f in ancestor.methods.items() if cls.method(name) is not f}
    if not overridden:
        return frozenset()
    class_names = {other.name for other in cls.ancestors()}
    explicit = {
        attribute.attr.value
        for other in [cls, *cls.ancestors()]
        for method in other.methods.values()
        for attribute in module.file_of(other.node).attributes_in_method(method)
        if _names_a_base(attribute.value, class_names)
    }
    return frozenset(overridden - explicit)


def _names_a_base(value: cst.BaseExpression, class_names: set[str]) -> bool:
    """`super()`, `super(Block, self)` or a base class by name."""
    if isinstance(value, cst.Call):
        return is_super_call(value)
    return isinstance(value, cst.Name) and value.value in class_names


def _callable_layer(value: object) -> bool:
    return any(
        isinstance(o, Layer) and o.kind not in ("modulelist", "moduledict") for o in options(value)
    )


def _names_used_in(cls: ClassModel, module: ModuleModel, dead: frozenset[str]) -> set[str]:
    """The names a class's own code uses: its strings, what its instances read by name, and the
    `self.X` its methods read (but those in `dead`, which never run); for a class of another linted
    file (a base), also what that file reads on other objects."""
    home = module.file_of(cls.node)
    used = set(home.names.strings_by_class.get(id(cls.node), set())) - _bookkeeping_strings(cls)
    if home is not module:
        used |= home.attribute_reads[1] | home.names.strings_by_class.get(None, set())
    for built in cls.instances():
        if built.forward is not None or built.read_by_name:
            used |= built.read_by_name
    used |= _dropped_outside_init(cls, home)
    for method_name, method in cls.methods.items():
        if method_name in dead or FREEZING.search(method_name):
            continue
        for name, reads in module.self_reads(method).items():
            # Compared with None or tested, its weights set up, or filled (`add_module`): none runs it.
            if not all(
                _only_tested(read, home)
                or home.initialises_a_parameter(read, method)
                or home.fills_a_container(read)
                for read in reads
            ):
                used.add(name)
    return used


def _bookkeeping_strings(cls: ClassModel) -> set[str]:
    """`base_model_prefix = "bit"` in a transformers model: the string names the backbone for the
    framework's bookkeeping, it does not run it."""
    names = {name for base in cls.unseen_bases() if base for name in bookkeeping_names(base)}
    return {
        node.evaluated_value
        for name in names
        if isinstance(node := cls.constant_nodes.get(name), cst.SimpleString)
        and isinstance(node.evaluated_value, str)
    }


def _dropped_outside_init(cls: ClassModel, home: ModuleModel) -> set[str]:
    """`self.flow_model = None` in ultralytics' `fuse()`: a class that drops a layer itself when it
    switches to inference built it for another phase (a loss that reads it from outside), not for
    forward."""
    dropped: set[str] = set()
    for name, method in cls.methods.items():
        receiver = method.params.params[0].name.value if method.params.params else None
        if name == "__init__" or receiver is None:
            continue
        for target in home.attribute_stores_in_method(method):
            statement = home.names.parents.get(id(home.names.parents.get(id(target))))
            if (
                isinstance(target.value, cst.Name)
                and target.value.value == receiver
                and isinstance(statement, cst.Assign)
                and isinstance(statement.value, cst.Name)
                and statement.value.value == "None"
            ):
                dropped.add(target.attr.value)
    return dropped


def _bare_reads(cls: ClassModel, name: str, module: ModuleModel) -> list[cst.Name]:
    """`downsample(x)` called without `self.` in the class's methods. A name read as a value
    (`up1 + low`, `qkv.reshape(...)`) is a tensor whose computing line is missing, which leaves
    the layer unused in its own right."""
    home = module.file_of(cls.node)
    return [
        read
        for method in cls.methods.values()
        for read in home.names.functions[id(method)].reads
        if read.value == name and _is_called(read, home)
    ]


def _only_tested(read: cst.Attribute, home: ModuleModel) -> bool:
    """`self.downsample is not None`, `if self.skip_layer:`, `if not self.post_act:`: a layer only
    compared with None or tested for truth never computes anything."""
    parent = home.names.parents.get(id(read))
    tested: cst.BaseExpression = read
    if isinstance(parent, cst.UnaryOperation) and isinstance(parent.operator, cst.Not):
        tested, parent = parent, home.names.parents.get(id(parent))
    if isinstance(parent, cst.If | cst.IfExp | cst.While) and parent.test is tested:
        return True
    return (
        isinstance(parent, cst.Comparison)
        and parent.left is read
        and len(parent.comparisons) == 1
        and isinstance(parent.comparisons[0].operator, cst.Is | cst.IsNot)
        and isinstance(parent.comparisons[0].comparator, cst.Name)
        and parent.comparisons[0].comparator.value == "None"
    )


def _assignments(cls: ClassModel, module: ModuleModel) -> list[AttributeAssignment]:
    """Every `self.X = ...` the class's instances ran: the generic one first, then those the file's
    networks and factories build (`self.downsample = downsample` holds a layer only where a stage
    passes one)."""
    module.instances()  # builds and caches the instances the file constructs
    return [assignment for built in cls.instances() for assignment in built.assignments]


def _is_built_layer(
    assignment: AttributeAssignment, builders: set[str], module: ModuleModel
) -> bool:
    value = assignment.value
    if any(isinstance(o, Param) for o in options(value)):
        return False
    return any(
        isinstance(o, Layer) and o.kind not in ("object", "unknown") for o in options(value)
    ) or _built_by(assignment, builders, module)


def _built_by(assignment: AttributeAssignment, builders: set[str], module: ModuleModel) -> bool:
    """`self.cv1 = Conv(c1, c2, 3)` with a `Conv` reslint cannot see, which the file calls the
    products of elsewhere (`_layer_builders`): a layer, though its kind is unknown."""
    call = _built_from(assignment.target, module.file_of(assignment.target))
    return call is not None and _callee(call, module) in builders


def _layer_builders(module: ModuleModel) -> set[str]:
    """The callables whose products the file's classes call as layers: `self.cv2 = Conv(c, c, 3)`
    and `self.cv2(x)` in one class say that `Conv` (imported, unseen) builds layers. Only
    attributes one callable alone builds are evidence."""
    builders: set[str] = set()
    for cls in module.module_classes:
        built: dict[str, set[str]] = {}
        called: set[str] = set()
        for method in cls.methods.values():
            receiver = method.params.params[0].name.value if method.params.params else None
            for target in module.attribute_stores_in_method(method):
                call = _built_from(target, module)
                if call is not None and _reads_name(target.value, receiver):
                    built.setdefault(target.attr.value, set()).add(_callee(call, module))
            for name, reads in module.self_reads(method).items():
                if any(_is_called(read, module) for read in reads):
                    called.add(name)
        for name in called:
            if len(built.get(name, ())) == 1:
                builders |= built[name]
    builders.discard("")
    return builders


def _built_from(target: cst.CSTNode, home: ModuleModel) -> cst.Call | None:
    """The call `self.X = f(...)` assigns, or None."""
    statement = home.names.parents.get(id(home.names.parents.get(id(target))))
    if isinstance(statement, cst.Assign) and isinstance(statement.value, cst.Call):
        return statement.value
    return None


def _callee(call: cst.Call, module: ModuleModel) -> str:
    """`Conv`, `spnn.ReLU`: the dotted name a call calls; "" for anything else (`self.f(...)`,
    `layers[i](...)`)."""
    func = call.func
    while isinstance(func, cst.Attribute):
        func = func.value
    if not isinstance(func, cst.Name) or func.value in ("self", "cls"):
        return ""
    return module.file_of(call).code(call.func)


def _reads_name(node: cst.BaseExpression, name: str | None) -> bool:
    return isinstance(node, cst.Name) and node.value == name


def _is_called(read: cst.Name | cst.Attribute, module: ModuleModel) -> bool:
    """`read(...)`: the name or attribute is what a call calls."""
    parent = module.file_of(read).names.parents.get(id(read))
    return isinstance(parent, cst.Call) and parent.func is read


def _reached_by_unknown_names(cls: ClassModel) -> bool:
    """Whether running the class (forward included) calls `getattr(self, name)` with a name reslint
    cannot work out."""
    for instance in cls.instances():
        _ = instance.forward  # interpreting forward records the names it reads too
        if instance.dynamic_access:
            return True
    return False


def _accesses_dynamically(cls: ClassModel, module: ModuleModel) -> bool:
    """Whether a method that may compute with the submodules iterates them (`self.children()`);
    initialising or freezing them that way (`for m in self.modules(): nn.init...`) does not count."""
    computing = [f for name, f in cls.methods.items() if not BOOKKEEPING.search(name)]
    for function in computing:
        names = module.names.functions[id(function)]
        # A local variable `children` (DLA's list of child features) is not the module's children.
        if any(
            read.value in DYNAMIC_ACCESS and read.value not in names.bound for read in names.reads
        ):
            return True
    return any(
        attribute.attr.value in DYNAMIC_ACCESS
        for function in computing
        for attribute in module.attributes_in_method(function)
    )
