"""ClassModel (a class of the file) and Instance (that class built with some arguments, then run)."""

from __future__ import annotations

from collections import deque
from collections.abc import Iterator
from dataclasses import dataclass, field
from functools import cached_property
from typing import TYPE_CHECKING, Any

import libcst as cst

from reslint.knowledge.frameworks import initializes_itself, is_module_base
from reslint.knowledge.layers import CHANNEL_PRESERVING, PARAMETER_CONSTRUCTORS, TORCH_LAYERS
from reslint.model import symbolic
from reslint.model.builders import part_name
from reslint.model.call_binding import called_name
from reslint.model.channel_norms import channel_norm_parameter
from reslint.model.constructions import passed_numbers
from reslint.model.flow import is_placeholder
from reslint.model.network_families import names_decided_on
from reslint.model.symbolic import Comparison, Expr, Relation, comparisons, either, relation
from reslint.model.values import (
    UNKNOWN,
    UNSUPPLIED,
    AddSite,
    ClassRef,
    DictValue,
    Flow,
    FunctionRef,
    Layer,
    ListValue,
    NamePattern,
    Step,
    changes_channels,
    compatible,
    last_set_channels,
    options,
)

if TYPE_CHECKING:
    from reslint.model.interpreter import Interpreter
    from reslint.model.module import ModuleModel

MAX_INSTANCES_PER_CLASS = 24
MAX_BUILDERS = 16  # methods per class run on their own
# The work budget of a class hierarchy: much of the analysis asks each class about its ancestors (and
# each ancestor about its subclasses), so a chain of n classes costs n * n. Real ResNet code is a few
# classes deep; past this depth a class is analysed as if built on an unknown base, and RN006 says so.
MAX_ANCESTORS = 100
MAX_WEIGHT_DEPTH = 12  # blocks inside blocks followed to tell whether a module owns weights


@dataclass
class AttributeAssignment:
    """`self.<name> = <value>` as executed in __init__ (or a method it calls)."""

    name: str
    statement: cst.CSTNode
    target: cst.CSTNode
    value: Any


@dataclass
class ForwardModel:
    """What forward does with its input: every addition and every step, and what it returns."""

    adds: list[AddSite] = field(default_factory=list)
    steps: list[Step] = field(default_factory=list)
    returns: list[Any] = field(default_factory=list)


def named_values(
    line: cst.SimpleStatementLine, annotated: bool = False
) -> Iterator[tuple[str, cst.BaseExpression]]:
    """The `name = value` statements of a line as (name, value), and `name: T = value` with
    `annotated`; assignments to several targets or to anything but a name are left out."""
    for small in line.body:
        if (
            isinstance(small, cst.Assign)
            and len(small.targets) == 1
            and isinstance(small.targets[0].target, cst.Name)
        ):
            yield small.targets[0].target.value, small.value
        elif (
            annotated
            and isinstance(small, cst.AnnAssign)
            and small.value is not None
            and isinstance(small.target, cst.Name)
        ):
            yield small.target.value, small.value


class ClassModel:
    def __init__(self, node: cst.ClassDef, module: ModuleModel) -> None:
        self.node = node
        self.name = node.name.value
        self.module = module
        self.methods: dict[str, cst.FunctionDef] = {}
        self.constant_nodes: dict[str, cst.BaseExpression] = {}
        for statement in node.body.body:
            if isinstance(statement, cst.FunctionDef):
                self.methods[statement.name.value] = statement
            elif isinstance(statement, cst.SimpleStatementLine):
                self.constant_nodes.update(named_values(statement, annotated=True))
        self._instances: dict[str, Instance | None] = {}
        self._resolving_bases = False

    def __repr__(self) -> str:
        return f"ClassModel({self.name})"

    def release(self) -> None:
        """Drop what the class and its instances hold (Project.release)."""
        for instance in self._instances.values():
            if instance is not None:
                vars(instance).clear()
        vars(self).clear()

    # ----- inheritance ---------------------------------------------------------------------

    @cached_property
    def base_nodes(self) -> list[cst.BaseExpression]:
        return [arg.value for arg in self.node.bases if arg.keyword is None]

    @cached_property
    def _bases(self) -> list[ClassModel]:
        # Resolving `class BasicBlock(BasicBlock.Module)` (an import the class's own name shadows)
        # asks for the bases being resolved: that cycle resolves to no base.
        if self._resolving_bases:
            return []
        self._resolving_bases = True
        try:
            found = []
            for base in self.base_nodes:
                cls = self._resolve_base(base)
                if cls is not None and cls is not self:
                    found.append(cls)
            return found
        finally:
            self._resolving_bases = False

    def local_bases(self) -> list[ClassModel]:
        """The bases reslint can see: classes of this file or of another linted file."""
        return self._bases

    def _resolve_base(self, base: cst.BaseExpression) -> ClassModel | None:
        if isinstance(base, cst.Name):
            # `class ResNet(ResNet)` extends the definition before this one.
            definition = self.module.definition(base.value, self.node, strict=True)
            if isinstance(definition, ClassModel):
                return definition
            if definition is not None or base.value not in self.module.imports.sources:
                return None
        elif not isinstance(base, cst.Attribute):
            return None
        from reslint.model.interpreter import Frame

        value = self.module.interpreter.evaluate(base, Frame({}, None, 0, self.module))
        return value.cls if isinstance(value, ClassRef) else None

    @cached_property
    def _ancestry(self) -> tuple[list[ClassModel], bool]:
        """The ancestors breadth first, each once, at most MAX_ANCESTORS; whether some were cut."""
        seen: list[ClassModel] = []
        seen_ids = {id(self)}  # a set: scanning the list made a chain of 3,000 classes cubic
        queue = deque(self.local_bases())
        while queue:
            cls = queue.popleft()
            if id(cls) in seen_ids:
                continue
            if len(seen) == MAX_ANCESTORS:
                return seen, True
            seen_ids.add(id(cls))
            seen.append(cls)
            queue.extend(cls.local_bases())
        return seen, False

    def ancestors(self) -> list[ClassModel]:
        return self._ancestry[0]

    @property
    def hierarchy_cut(self) -> bool:
        """More ancestors in the project than MAX_ANCESTORS: those past it are not looked at, and the
        class counts as built on a base reslint cannot see."""
        return self._ancestry[1]

    @cached_property
    def is_module(self) -> bool:
        """Inherits torch.nn.Module (or any torch.nn class), directly or through the project's classes."""
        for cls in [self, *self.ancestors()]:
            for base in cls.base_nodes:
                qualified = cls.module.imports.qualified(base)
                # `class Block(Module)` under `from fastai.vision.all import *`: it counts when every
                # star import the name may come from says so.
                names = [qualified] if qualified else cls.module.imports.star_sources(base)
                if names and all(_names_module_base(name) for name in names):
                    return True
                if not qualified and names and self._star_imported_module(base):
                    return True
        return False

    def _star_imported_module(self, base: cst.BaseExpression) -> bool:
        """`class ResBlock(Module)` with a `forward`, where `Module` can only come from star imports
        of modules reslint cannot read (tsai's `from ..imports import *`, which passes on fastai's):
        a base named `Module` with a `forward` is torch's nn.Module or fastai's Module."""
        return (
            isinstance(base, cst.Name)
            and base.value == "Module"
            and any("forward" in cls.methods for cls in [self, *self.ancestors()])
        )

    @cached_property
    def needs_base_init_call(self) -> bool:
        """Whether nn.Module.__init__ runs only if this class's `__init__` calls a base `__init__`:
        every base reslint cannot read is a torch.nn class or a known framework module base that
        does not initialize itself (fastai's Module does, through its metaclass)."""
        unseen = self.unseen_bases()
        return bool(unseen) and all(
            qualified is not None
            and (qualified.startswith("torch.nn.") or is_module_base(qualified))
            and not initializes_itself(qualified)
            for qualified in unseen
        )

    @cached_property
    def may_be_module(self) -> bool:
        """Built on a base reslint cannot see, with a forward or a constructor: likely a module."""
        return self.has_unresolved_bases and any(
            name in cls.methods
            for cls in [self, *self.ancestors()]
            for name in ("forward", "__init__")
        )

    @cached_property
    def is_container(self) -> bool:
        """Subclasses nn.Sequential, nn.ModuleList or nn.ModuleDict: its children are its computation."""
        containers = ("torch.nn.Sequential", "torch.nn.ModuleList", "torch.nn.ModuleDict")
        return any(
            cls.module.imports.qualified(base) in containers
            for cls in [self, *self.ancestors()]
            for base in cls.base_nodes
        )

    @cached_property
    def has_unresolved_bases(self) -> bool:
        """A base reslint cannot see (another library's class): it may well be an nn.Module."""
        return self.hierarchy_cut or any(
            qualified is None or not qualified.startswith("torch.")
            for qualified in self.unseen_bases()
        )

    def unseen_bases(self) -> list[str | None]:
        """The bases of this class and its ancestors that reslint cannot read, by qualified name
        (`torch.nn.Module`, `mmengine.model.BaseModule`; None where the import says nothing)."""
        return [
            cls.module.imports.qualified(base)
            for cls in [self, *self.ancestors()]
            for base in cls.base_nodes
            if not (isinstance(base, cst.Name) and base.value == "object")
            and cls._resolve_base(base) is None
        ]

    @cached_property
    def torch_conv_base(self) -> str | None:
        """The torch convolution the class derives from (`class StdConv(nn.Conv2d)`), by its name:
        its `super().__init__(...)` says the channels and stride."""
        for qualified in self.unseen_bases():
            name = (qualified or "").removeprefix("torch.nn.")
            if qualified and qualified != name and TORCH_LAYERS.get(name, ("",))[0] == "conv":
                return name
        return None

    def record_fields(self) -> tuple[str, ...] | None:
        """The positional parameters of a record class, its annotated fields in order: a
        `typing.NamedTuple` or a `@dataclass` that writes its own `__init__` neither declares nor
        inherits (a record of the settings a network is built from). None for any other class, or
        when a base, an `init=`/`kw_only=` option or a `field(...)` may change the order."""
        if self.methods.get("__init__") is not None:
            return None
        qualified = self.module.imports.qualified
        bases = [qualified(base) for base in self.base_nodes]
        decorators = [d.decorator for d in self.node.decorators]
        named_tuple = bases == ["typing.NamedTuple"] and not decorators
        if not named_tuple and (
            bases or len(decorators) != 1 or not _plain_dataclass(decorators[0], qualified)
        ):
            return None
        fields = [
            (small.target.value, self.module.code(small.annotation.annotation), small.value)
            for line in self.node.body.body
            if isinstance(line, cst.SimpleStatementLine)
            for small in line.body
            if isinstance(small, cst.AnnAssign) and isinstance(small.target, cst.Name)
        ]
        if any(
            "KW_ONLY" in kind
            or isinstance(value, cst.Call)
            and qualified(value.func) == "dataclasses.field"
            for _, kind, value in fields
        ):
            return None  # a keyword-only marker, or a field that may be left out of __init__
        return tuple(name for name, kind, _ in fields if "ClassVar" not in kind)

    @cached_property
    def runs_children_in_order(self) -> bool:
        """Subclasses nn.Sequential and keeps its forward: it runs its modules one after another."""
        return "torch.nn.Sequential" in self.unseen_bases() and self.method("forward") is None

    def calls_any(self, names: frozenset[str]) -> bool:
        """Whether a method of the class or its ancestors calls a function or method of one of these
        names (`nn.Parameter(...)`, `self.add_module(...)`)."""
        return any(
            called_name(call) in names
            for cls in [self, *self.ancestors()]
            for method in cls.methods.values()
            for call in cls.module.calls_in(method)
        )

    def method(self, name: str) -> cst.FunctionDef | None:
        return self._method_table.get(name)

    @cached_property
    def _method_table(self) -> dict[str, cst.FunctionDef]:
        """Each method name to the definition found first in this class and its ancestors: built once,
        where a walk up the ancestors per question made deep hierarchies quadratic."""
        table: dict[str, cst.FunctionDef] = {}
        for cls in reversed([self, *self.ancestors()]):
            table.update(cls.methods)
        return table

    @cached_property
    def channel_norm_parameter(self) -> str | None:
        """The constructor parameter giving the channels, for a module of the file that normalises
        each channel with a weight of that many values (channel_norms)."""
        init, forward = self.method("__init__"), self.method("forward")
        if init is None or forward is None or not self.is_module:
            return None
        return channel_norm_parameter(init, forward)

    @cached_property
    def decided_names(self) -> frozenset[str]:
        """The names this class's code tests, compares or indexes with (`depth` in `if depth >= 50`),
        in its methods and the file's functions they call."""
        return names_decided_on(list(self.methods.values()), self.module)

    @cached_property
    def placeholder_properties(self) -> bool:
        """Whether a subclass of the file redefines one of this class's properties (`growth`,
        `out_channels`): the class's own value may be a placeholder, as in an abstract base, so its
        generic instance is no configuration the file surely builds."""
        own = [name for name, method in self._method_table.items() if _is_property(method)]
        return any(
            sub.method(name) is not self.method(name)
            for sub in self.module.subclasses(self)
            for name in own
        )

    @cached_property
    def left_to_subclasses(self) -> bool:
        """Whether the class says it is an abstract base: one of its methods only raises
        `NotImplementedError` (a `_get_conv` that "a subclass must implement"). Its subclasses, in
        files reslint may not see, give what it leaves out (a class attribute `expansion`)."""
        return any(_only_raises_not_implemented(method) for method in self.methods.values())

    def local_base_with(self, method: str) -> ClassModel | None:
        return next((cls for cls in self.ancestors() if method in cls.methods), None)

    def constant(self, name: str, interpreter: Interpreter) -> Any:
        for cls in [self, *self.ancestors()]:
            if name in cls.constant_nodes:
                from reslint.model.interpreter import Frame

                return interpreter.evaluate(
                    cls.constant_nodes[name], Frame({}, None, 0, cls.module)
                )
            if name in cls.methods:
                return FunctionRef(cls.methods[name])
        return UNKNOWN

    # ----- instances -----------------------------------------------------------------------

    @property
    def generic(self) -> Instance | None:
        """This class built with no arguments: every parameter a symbol, every default in place."""
        return self.instantiate({})

    def instantiate(self, args: dict[str, Any]) -> Instance | None:
        key = _key(args)
        if key in self._instances:
            return self._instances[key]
        if len(self._instances) >= MAX_INSTANCES_PER_CLASS:
            return None
        self._instances[key] = None  # guards against a class that builds itself
        instance = Instance(self)
        init = self.method("__init__")
        if init is not None:
            interpreter = self.module.interpreter
            unbound = [p for p in init.params.params[1:] if p.name.value not in args]
            bound = dict(args)
            module = self.module.project.owner(init)
            for param in unbound:
                bound[param.name.value] = _fixed_by_constructions(
                    self, param.name.value
                ) or interpreter.unsupplied(param, module)
            for rest in (init.params.star_arg, init.params.star_kwarg):
                if isinstance(rest, cst.Param) and rest.name.value not in args:
                    bound[rest.name.value] = UNSUPPLIED
            try:
                interpreter.call_function_with_locals(init, bound, instance)
            except RecursionError:
                pass  # pathologically deep code: keep what was learnt before it
        self._instances[key] = instance
        return instance

    def instances(self) -> list[Instance]:
        return [instance for instance in self._instances.values() if instance is not None]

    @cached_property
    def built_alone(self) -> list[Any]:
        """What each builder method returns when run on its own with symbolic arguments (a stage
        `_make_layer` builds for any planes and stride), so that conditions inside it stay visible."""
        generic = self.generic
        if generic is None:
            return []
        results = []
        for name, method in list(self.methods.items())[:MAX_BUILDERS]:
            if name in ("__init__", "forward") or _is_property(method) or name.startswith("__"):
                continue
            state = Instance(self)
            state.attrs = dict(generic.attrs)
            results.append(self.module.interpreter.run_alone(method, state))
        return results


class Instance:
    """A class of the file, constructed with some arguments and interpreted."""

    def __init__(self, cls: ClassModel) -> None:
        self.cls = cls
        self.attrs: dict[str, Any] = {}
        self.assignments: list[AttributeAssignment] = []
        self._forward: ForwardModel | None = None
        # Attributes reached by a name reslint cannot work out (`getattr(self, name)`).
        self.dynamic_access = False
        self._holds_weights: bool | None = None  # asked by rules once the model is built
        # Attributes read by name while the class ran (`getattr(self, self.norm1_name)` -> "bn1").
        self.read_by_name: set[str] = set()
        # Attributes read by a name known in part (`getattr(self, f"layer{i}")`): `layer.*`.
        self.read_by_pattern: set[NamePattern] = set()
        self._running_forward = False
        self._asking_channels = False
        # (its forward, how far each addition's `after` had grown, its residuals), as
        # queries.residuals last found them.
        self.residuals_known: tuple[ForwardModel, tuple[int, ...], list] | None = None
        self.sequences_known: dict[bool, tuple[tuple, list]] = {}  # layer_sequences, by way
        # What `super().__init__(...)` passed to a torch base (`nn.Conv2d`): (args, kwargs).
        self.torch_base_init: tuple[list[Any], dict[str, Any]] | None = None
        # The modules an nn.Sequential subclass runs, in order (ClassModel.runs_children_in_order):
        # those its `super().__init__` was given, then those assigned to its attributes. None when
        # unknown (no such call seen, or an attribute holding a module assigned twice).
        self.sequential_children: list[Layer] | None = None

    def __repr__(self) -> str:
        return f"Instance({self.cls.name})"

    def set_attribute(
        self, name: str, value: Any, statement: cst.CSTNode, target: cst.CSTNode
    ) -> None:
        if self.sequential_children is not None:
            self._add_sequential_child(name, value)
        self.attrs[name] = value
        self.assignments.append(AttributeAssignment(name, statement, target, value))
        for option in options(value):
            if isinstance(option, Layer) and not option.label:
                option.label = name
                if option.built_by:  # `conv2 = conv3x3_block(...)`: its parts are `conv2`'s
                    for child in option.children:
                        child.label = f"{name}'s {part_name(child)}"

    def _add_sequential_child(self, name: str, value: Any) -> None:
        """A module assigned to an attribute of an nn.Sequential runs after those before it; one
        assigned again replaces its earlier self in place, an order not followed here."""
        layers = [option for option in options(value) if isinstance(option, Layer)]
        if not layers:
            return
        if any(isinstance(option, Layer) for option in options(self.attrs.get(name))):
            self.sequential_children = None
        elif self.sequential_children is not None:
            self.sequential_children.append(layers[0])

    def attribute(self, name: str, interpreter: Interpreter) -> Any:
        if name in self.attrs:
            return self.attrs[name]
        method = self.cls.method(name)
        if method is not None and _is_property(method):
            # mmdet's `norm1` property: `return getattr(self, self.norm1_name)`
            return interpreter.call_function(method, [], {}, self, depth=1)
        if method is not None:
            return FunctionRef(method, self)
        value = self.cls.constant(name, interpreter)
        if isinstance(value, FunctionRef):
            return FunctionRef(value.node, self)
        return value

    def layers(self) -> dict[str, Layer]:
        """Every attribute that holds a layer (the first option when several are possible)."""
        found = {}
        for name, value in self.attrs.items():
            layer = next((o for o in options(value) if isinstance(o, Layer)), None)
            if layer is not None:
                found[name] = layer
        return found

    def registered_children(self) -> ListValue | None:
        """What `self.children()` yields for a plain nn.Module: the modules its attributes were
        given, in the order first given, each value that may be a module reslint cannot see left
        in its place as unknown (it breaks a chain rather than joining its neighbours). None when
        the order is not known: a base that may register modules of its own, an attribute set
        twice (one set to a plain value first joins the modules later), names set dynamically."""
        names = [assignment.name for assignment in self.assignments]
        if (
            self.dynamic_access
            or len(set(names)) != len(names)
            or any(base != "torch.nn.Module" for base in self.cls.unseen_bases())
        ):
            return None
        children = [_child(value) for value in self.attrs.values()]
        return ListValue([child for child in children if child is not None])

    def registers(self, layer: Layer) -> bool:
        """Whether the layer is registered with this module: held by one of its layer attributes,
        directly or inside a container (`self.body = nn.Sequential(*blocks)`)."""
        return any(inner is layer for held in self.layers().values() for inner in held.walk())

    def tested_comparisons(self) -> list[Comparison]:
        """The size comparisons its constructor tests to choose layers (`in_channel != out_channel`
        deciding the shortcut): each a configuration its author expects, whichever way it goes."""
        found: dict[int, Comparison] = {}
        for value in self.attrs.values():
            for option in options(value):
                for layer in option.walk() if isinstance(option, Layer) else ():
                    for guard in layer.guards:
                        for comparison in comparisons(guard.condition):
                            found.setdefault(id(comparison), comparison)
        return list(found.values())

    @property
    def forward(self) -> ForwardModel | None:
        if self._forward is None and not self._running_forward:
            function = self.cls.method("forward")
            if function is None:
                return None
            self._running_forward = True
            self._forward = self.cls.module.interpreter.run_forward(function, self)
            self._running_forward = False
        return self._forward

    # ----- channels ------------------------------------------------------------------------

    @property
    def channels_in(self) -> Expr | None:
        if self._asking_channels:
            return None  # a class built from itself (a recursive tree of blocks)
        self._asking_channels = True
        try:
            return self._channels_in()
        finally:
            self._asking_channels = False

    @property
    def channels_out(self) -> Expr | None:
        if self._asking_channels:
            return None
        self._asking_channels = True
        try:
            return self._channels_out()
        finally:
            self._asking_channels = False

    @property
    def gates_input(self) -> bool:
        """Whether forward returns its input with only channel-preserving steps applied (an SE or
        attention gate, `return x * self.fc(self.pool(x))`): the channel count passes through."""
        if self._asking_channels:
            return False
        self._asking_channels = True
        try:
            forward = self.forward
            returned = [o for value in forward.returns for o in options(value)] if forward else []
            return bool(returned) and all(_input_gated(option) for option in returned)
        finally:
            self._asking_channels = False

    def holds_weights(self, depth: int = 0) -> bool:
        """Whether the module surely owns learned weights: an attribute holds a weighted layer, or
        its class builds an `nn.Parameter`. (A DropPath keeping its rate, a gate of activations: no.)"""
        if self._holds_weights is not None:
            return self._holds_weights
        if depth > MAX_WEIGHT_DEPTH:
            return False
        # Asked once per instance: blocks built of blocks (a class whose __init__ builds instances
        # of itself, cut only by the interpreter's depth) made the walk exponential. Asked again
        # inside itself, it owns nothing more than what the first question finds.
        self._holds_weights = False
        self._holds_weights = self.cls.calls_any(PARAMETER_CONSTRUCTORS) or any(
            _value_holds_weights(value, depth) for value in self.attrs.values()
        )
        return self._holds_weights

    def attribute_holds_weights(self, layer: Layer) -> bool:
        """Whether `layer`, set on this instance, surely holds weights: here, or, where this instance
        cannot tell (the generic one, its block class a parameter), in every other configuration of
        the class the file builds that knows what the same attribute holds (its factories pass the
        blocks)."""
        if layer.holds_weights():
            return True
        others = [
            other.attrs[layer.label]
            for other in self.cls.instances()
            if other is not self and layer.label in other.attrs
        ]
        # Configurations as blind as this one (another generic path) say nothing either way.
        seen = [value for value in others if not _has_unknown_parts(value)]
        return bool(seen) and all(_value_holds_weights(value, 0) for value in seen)

    def _channels_in(self) -> Expr | None:
        forward = self.forward
        if forward is None:
            return None
        changing = [
            step
            for step in forward.steps
            if step.layer is not None and step.layer.kind not in CHANNEL_PRESERVING
        ]
        if not changing or not changing[0].on_input:
            return None
        # The first layer of each exclusive branch of an `if` in __init__ (`conv1` built for
        # `in_planes` or for `2 * in_planes`; a ModuleList of one block class or another) takes the
        # block's input: each is an option.
        firsts = _first_of_each_branch([step.layer for step in changing if step.layer is not None])
        return one_of([layer.channels_in for layer in firsts])

    def _channels_out(self) -> Expr | None:
        forward = self.forward
        if forward is None:
            return None
        return one_of(
            [
                flow_channels_out(option)
                for value in forward.returns
                for option in options(value)
                if isinstance(option, Flow)
            ]
        )


# Values an attribute holds that are never a module: sizes, flags, text, Python containers.
PLAIN_VALUES = (
    Expr,
    str,
    int,
    float,
    bool,
    type(None),
    ListValue,
    DictValue,
    ClassRef,
    FunctionRef,
)


def _child(value: Any) -> Any:
    """The module an attribute registers: the layer, nothing for a plain value, else unknown."""
    choices = options(value)
    if choices and all(isinstance(option, Layer) and option.kind != "object" for option in choices):
        return value
    if choices and all(isinstance(option, PLAIN_VALUES) for option in choices):
        return None
    return UNKNOWN


def _names_module_base(qualified: str) -> bool:
    return qualified.startswith("torch.nn.") or is_module_base(qualified)


def _has_unknown_parts(value: Any) -> bool:
    """Some way the attribute can be set is, or contains, a layer reslint cannot name."""
    return any(
        not isinstance(option, Layer) or any(part.kind == "unknown" for part in option.walk())
        for option in options(value)
    )


def _value_holds_weights(value: Any, depth: int) -> bool:
    """Whether every way an attribute can be set holds weights."""
    choices = options(value)
    return bool(choices) and all(_option_holds_weights(option, depth) for option in choices)


def _option_holds_weights(option: Any, depth: int) -> bool:
    if isinstance(option, Layer):
        return option.holds_weights(depth + 1)
    if isinstance(option, ListValue):
        return any(_value_holds_weights(item, depth) for item in option.items)
    return False


def _input_gated(value: Any) -> bool:
    return (
        isinstance(value, Flow)
        and value.origin == "input"
        and all(
            (step.layer is None and step.kind in CHANNEL_PRESERVING)
            or (step.layer is not None and not changes_channels(step.layer))
            for step in value.steps
        )
    )


def _is_property(function: cst.FunctionDef) -> bool:
    return any(
        isinstance(d.decorator, cst.Name) and d.decorator.value in ("property", "cached_property")
        for d in function.decorators
    )


def flow_channels_out(flow: Flow, depth: int = 0) -> Expr | None:
    """The channel count of a tensor: what the layers applied to it set (`last_set_channels`), else
    what the sides of the sum it comes from carry."""
    layers = list(_channel_steps(flow))
    lasts = _first_of_each_branch([layer for layer in layers if layer is not None])
    if len(lasts) > 1:
        # Layers built in exclusive branches of an `if` and chained by a loop (`for block in
        # self.blocks`, each block one class or another): the last of each branch is an option.
        return one_of([layer.channels_out for layer in lasts])
    decided, channels = last_set_channels(layers)
    if decided:
        return channels
    if isinstance(flow.origin, AddSite) and depth < 8:
        for side in (flow.origin.left, flow.origin.right):
            # `torch.add(x if self.equal_in_out else self.shortcut(x), out)`: each alternative counts
            channels = one_of(
                [flow_channels_out(o, depth + 1) for o in side if isinstance(o, Flow)]
            )
            if channels is not None:
                return channels
    return None


def _first_of_each_branch(layers: list[Layer]) -> list[Layer]:
    """The first channel-changing layer of `layers` and each later one that cannot exist together
    with those found before (built in another branch of an undecided `if`)."""
    found: list[Layer] = []
    for layer in layers:
        if changes_channels(layer) and all(
            not compatible(layer.guards, other.guards) for other in found
        ):
            found.append(layer)
    return found


def one_of(sizes: list[Expr | None]) -> Expr | None:
    """The size of one of several ways: the one they agree on, else each is an option (`either`);
    unknown as soon as one way is."""
    if not sizes or any(size is None for size in sizes):
        return None
    known: list[Expr] = []
    for size in sizes:
        if size is not None and not any(relation(size, k) is Relation.EQUAL for k in known):
            known.append(size)
    return known[0] if len(known) == 1 else either(known)


def _channel_steps(flow: Flow) -> Iterator[Layer | None]:
    """A tensor's steps, last first, as `last_set_channels` reads them: its layers, None for an
    operation whose effect on channels is unknown; slicing and channel-keeping operations left out."""
    for step in reversed(flow.steps):
        if step.layer is not None:
            yield step.layer
        elif (step.kind not in CHANNEL_PRESERVING and step.kind != "subsample") or _sets_channels(
            step
        ):
            yield None


# Tensor methods that lay a tensor out anew from the sizes they are given.
RESHAPES = frozenset({"view", "reshape"})


def _sets_channels(step: Step) -> bool:
    """`y.view(batch, channels, height, width)`: a reshape to a map whose channel size it names
    itself (not `-1`, which keeps the count) sets the channels, whatever the layers before made
    (a Conv3d sliding over the channels as depth, folded back to the input's shape)."""
    node = step.node
    if not (
        isinstance(node, cst.Call)
        and isinstance(node.func, cst.Attribute)
        and node.func.attr.value in RESHAPES
    ):
        return False
    sizes = [arg.value for arg in node.args if arg.keyword is None and not arg.star]
    if len(sizes) == 1 and isinstance(sizes[0], (cst.Tuple, cst.List)):
        sizes = [element.value for element in sizes[0].elements]
    return len(sizes) >= 3 and not _minus_one(sizes[1])


def _minus_one(node: cst.BaseExpression) -> bool:
    return (
        isinstance(node, cst.UnaryOperation)
        and isinstance(node.operator, cst.Minus)
        and isinstance(node.expression, cst.Integer)
        and node.expression.value == "1"
    )


def _fixed_by_constructions(cls: ClassModel, param: str) -> Expr | None:
    """The one number every construction of the class in the file gives `param` (each stack builds
    its blocks with `second_stride=1`), named as the parameter: the file builds no other value."""
    numbers = passed_numbers(cls, param, cls.module)
    if numbers is None or len(numbers) != 1:
        return None
    return symbolic.const(numbers.pop(), param)


def built_alike(a: Layer, b: Layer) -> bool:
    """Two layers of one type written with the same arguments (two equal projections of one input,
    `ConvModule(in_channels, hidden, 1)` twice), not merely equal in one configuration."""
    return (
        a.type_name == b.type_name
        and a.cls is b.cls
        and _key(a.args) == _key(b.args)
        and _arguments_text(a.node) is not None
        and _arguments_text(a.node) == _arguments_text(b.node)
    )


_BARE = cst.Module([])


def _arguments_text(node: cst.CSTNode) -> str | None:
    """A call's arguments as written, spacing and trailing comma aside."""
    if not isinstance(node, cst.Call):
        return None
    text = "".join(_BARE.code_for_node(arg) for arg in node.args)
    return "".join(text.split()).rstrip(",")


def _key(args: dict[str, Any]) -> str:
    return repr(sorted((name, _value_key(value)) for name, value in args.items()))


def _value_key(value: Any, path: frozenset[int] = frozenset()) -> Any:
    """A hashable summary of an argument, to tell instances apart. A value that contains itself (a
    list a block was appended to, passed to the block) is summarised once: `path` holds what encloses
    it."""
    if id(value) in path or len(path) > 32:
        return ("cycle", id(value))
    inner = path | {id(value)}
    if isinstance(value, Expr):
        return ("expr", value.op, tuple(_value_key(a, inner) for a in value.args))
    if isinstance(value, Layer):
        # Built at the same place with the same arguments: the same layer, as far as a block cares
        # (every stage's first block gets its own, identical, downsample Sequential).
        return (
            "layer",
            id(value.node),
            value.type_name,
            tuple(sorted((name, _value_key(arg, inner)) for name, arg in value.args.items())),
            tuple(_value_key(child, inner) for child in value.children),
        )
    if isinstance(value, ClassRef):
        return ("class", value.cls.name)
    if hasattr(value, "items") and isinstance(value.items, list):
        return ("list", tuple(_value_key(v, inner) for v in value.items), value.open_ended)
    if isinstance(value, (int, float, str, bool)) or value is None:
        return value
    return (
        type(value).__name__,
        id(value) if not hasattr(value, "__dataclass_fields__") else repr(value)[:200],
    )


def _only_raises_not_implemented(function: cst.FunctionDef) -> bool:
    """A placeholder (flow.is_placeholder) whose one statement besides docstrings is `raise
    NotImplementedError(...)`."""
    if not is_placeholder(function):
        return False
    statements = [
        small
        for line in function.body.body
        if isinstance(line, cst.SimpleStatementLine)
        for small in line.body
        if not (isinstance(small, cst.Expr) and isinstance(small.value, cst.SimpleString))
    ]
    if len(statements) != 1 or not isinstance(statements[0], cst.Raise):
        return False
    raised = statements[0].exc
    if isinstance(raised, cst.Call):
        raised = raised.func
    return isinstance(raised, cst.Name) and raised.value == "NotImplementedError"


def _plain_dataclass(decorator: cst.BaseExpression, qualified: Any) -> bool:
    """`@dataclass` or `@dataclass(frozen=True)`: one that writes `__init__` with the fields in order."""
    if isinstance(decorator, cst.Call):
        if any(
            arg.keyword is None or arg.keyword.value in ("init", "kw_only")
            for arg in decorator.args
        ):
            return False
        decorator = decorator.func
    return qualified(decorator) == "dataclasses.dataclass"
