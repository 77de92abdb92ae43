"""The values reslint's interpreter computes: layers, lists, references, tensors flowing through forward."""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, NamedTuple

import libcst as cst

from reslint.knowledge.layers import CHANNEL_PRESERVING, NORMS, WEIGHTED
from reslint.model import symbolic
from reslint.model.branch_facts import satisfiable
from reslint.model.symbolic import Comparison, Expr

if TYPE_CHECKING:
    from reslint.model.classes import ClassModel, Instance
    from reslint.model.module import ModuleModel


class _Unknown:
    """A value reslint cannot work out; it never makes a rule fire."""

    _instance: _Unknown | None = None

    def __new__(cls) -> _Unknown:
        if cls._instance is None:
            cls._instance = super().__new__(cls)
        return cls._instance

    def __repr__(self) -> str:
        return "UNKNOWN"


UNKNOWN: Any = _Unknown()

OPEN_KWARGS = "**"  # marks call arguments that came from a `**mapping` reslint cannot see into


class _Unsupplied:
    """The `*args` / `**kwargs` of a class analysed on its own: nobody passed anything through them
    yet. Handed on (`super().__init__(*args, **kwargs)`, torchvision's quantizable blocks), the
    callee's parameters are unsupplied too: symbols with their defaults, as if its class were
    analysed on its own, rather than values nobody can know."""

    def __repr__(self) -> str:
        return "UNSUPPLIED"


UNSUPPLIED: Any = _Unsupplied()
# Marks call arguments that forward UNSUPPLIED variadics (the callee binds what is left as symbols).
FORWARDS_UNSUPPLIED = "*unsupplied"


@dataclass(eq=False)
class Layer:
    """An nn.Module value: a torch layer, a container, or an instance of one of the file's own classes."""

    kind: str
    type_name: str
    node: cst.CSTNode = field(repr=False)
    args: dict[str, Any] = field(default_factory=dict, repr=False)
    children: list[Layer] = field(default_factory=list)
    cls: ClassModel | None = None
    label: str = ""
    site: cst.CSTNode | None = field(default=None, repr=False)
    # The undecidable `if` branches it was built in: (id of the if, which way).
    guards: tuple = field(default=(), repr=False)
    # For a class of the file: the `if`s the code that built it decided, each with the way it
    # went ((cst.If, bool)): why it got the arguments it got.
    decided: tuple = field(default=(), repr=False)
    # The framework call that built it (`conv3x3_block`), for layers reslint knows from its tables.
    built_by: str = ""
    # A container forward indexes (`self.branches[i](x[i])`): its children are not one chain.
    indexed: bool = False
    # The constructor parameter whose default chose this layer, in a class analysed on its own
    # (`act_layer: Type[nn.Module] = nn.ReLU`): other configurations may choose another.
    default_of: str = ""
    # For a container: the guards in force at each `append`/`add_module` of a child, by its id
    # (a child appended on two exclusive ways of an `if` is one child per configuration).
    fills: dict[int, list[tuple]] = field(default_factory=dict, repr=False)
    # Called, it returns (output, pre-activation): a framework block built with its flag set.
    returns_preact: bool = False
    # Set for instances of the file's own classes: the interpreted instance (lazy).
    _instance: Instance | None = None
    _instantiated: bool = False

    @property
    def anchor(self) -> cst.CSTNode:
        return self.site or self.node

    def name(self) -> str:
        return self.label or self.type_name

    @property
    def instance(self) -> Instance | None:
        if not self._instantiated and self.cls is not None:
            self._instantiated = True
            self._instance = self.cls.instantiate(self.args)
        return self._instance

    def arg(self, name: str) -> Any:
        return self.args.get(name, UNKNOWN)

    def expr(self, name: str) -> Expr | None:
        """An argument as a size; one that depends on an undecided condition is all its options
        when they are separate formulas (`planes if groups == 1 else width`). A size adjusted in
        place under a test reslint cannot evaluate at each size stays unknown: such helpers run
        once per loop iteration, and their options pair sizes of different stages. (Under a plain
        comparison of sizes, `if new_v < 0.9 * v: new_v += divisor`, the interpreter keeps the
        size the comparison picks: symbolic.select.)"""
        value = self.args.get(name)
        if isinstance(value, Alt) and all(isinstance(option, Expr) for option in value.options):
            options = value.options
            adjusted = any(a in b.args for a in options for b in options if a is not b)
            return None if adjusted else symbolic.either(list(options))
        return value if isinstance(value, Expr) else None

    @property
    def channels_in(self) -> Expr | None:
        if self.kind == "conv":
            return self.expr("in_channels")
        if self.kind == "batchnorm" or (self.kind == "norm" and "num_features" in self.args):
            return self.expr("num_features")
        if self.kind == "norm" and "num_channels" in self.args:
            return self.expr("num_channels")
        if self.kind == "linear":
            return self.expr("in_features")
        if self.kind == "sequential":
            return next(
                (c.channels_in for c in self.children if c.kind not in CHANNEL_PRESERVING), None
            )
        if self.kind == "block" and self.instance is not None:
            return self.instance.channels_in
        return None

    @property
    def channels_out(self) -> Expr | None:
        if self.kind == "conv":
            return self.expr("out_channels")
        if self.kind == "linear":
            return self.expr("out_features")
        if self.kind in NORMS:
            return self.channels_in
        if self.kind == "sequential":
            return _last_channels(self.children)
        if self.kind == "block" and self.instance is not None:
            return self.instance.channels_out
        return None

    def holds_weights(self, depth: int = 0) -> bool:
        """Whether the layer surely owns learned weights: a conv, linear or norm layer, a container
        holding one, or one of the project's blocks that does (Instance.holds_weights)."""
        if self.kind in WEIGHTED:
            return True
        if self.kind == "block":
            instance = self.instance or (self.cls.generic if self.cls is not None else None)
            return instance is not None and instance.holds_weights(depth)
        return any(child.holds_weights(depth + 1) for child in self.children)

    def flat(self) -> list[Layer]:
        """This layer with containers expanded into their children, in call order."""
        if self.kind == "sequential":
            return [leaf for child in self.children for leaf in child.flat()]
        return [self]

    def walk(self) -> Iterator[Layer]:
        yield self
        for child in self.children:
            yield from child.walk()


def changes_channels(layer: Layer) -> bool:
    """Whether a layer may change the channel count: not a norm, activation, pool..., nor one of the
    project's blocks that only gates its input (an SE module returning `x * scale`)."""
    if layer.kind in CHANNEL_PRESERVING:
        return False
    return not (layer.kind == "block" and layer.instance is not None and layer.instance.gates_input)


def _last_channels(children: list[Layer]) -> Expr | None:
    """What a Sequential outputs (`Sequential(conv_builder(...), BatchNorm3d(planes))`)."""
    return last_set_channels(reversed(children))[1]


def last_set_channels(layers: Iterable[Layer | None]) -> tuple[bool, Expr | None]:
    """The channels a chain of layers outputs, read from its last layer back (None: a step whose
    effect on channels is unknown): the last channel-changing layer's channels, or those of the norm
    after it when that layer's are unknown (a conv from a helper reslint cannot read, then
    `BatchNorm2d(planes * 4)`). The flag says whether the chain decided it; it did not when it holds
    neither a channel-changing layer, a norm nor an unknown step."""
    normalised: Expr | None = None
    for layer in layers:
        if layer is None:
            return True, normalised
        if layer.kind in NORMS:
            normalised = layer.channels_in if normalised is None else normalised
        elif changes_channels(layer):
            channels = layer.channels_out
            return True, channels if channels is not None else normalised
    return normalised is not None, normalised


@dataclass(eq=False)
class ListValue:
    """A Python list or tuple of values; `open_ended` when its length is unknown (`[1] * (n - 1)`);
    `varying` when its items stand for the first of a comprehension whose later items differ
    (`[Block(widths[i], widths[i + 1]) for i in ...]`)."""

    items: list[Any] = field(default_factory=list)
    open_ended: bool = False
    node: cst.CSTNode | None = None
    varying: bool = False


@dataclass(eq=False)
class DictValue:
    items: dict[str | float, Any] = field(default_factory=dict)
    open_ended: bool = False


@dataclass(frozen=True)
class NamePattern:
    """A string reslint knows only in part (`f"layer{i + 1}"` with `i` unknown), as a regex of the
    strings it can be: enough to tell which attributes `getattr(self, name)` can reach."""

    regex: str

    def fits(self, text: str) -> bool:
        return re.fullmatch(self.regex, text) is not None


@dataclass(frozen=True)
class ClassRef:
    """One of the project's own classes, used as a value (`block=Bottleneck`)."""

    cls: ClassModel


@dataclass(frozen=True, eq=False)
class ModuleRef:
    """Another linted file of the project, imported as a module (`import resnet_parts as rp`)."""

    module: ModuleModel


@dataclass(frozen=True)
class TorchRef:
    qualified: str

    @property
    def short(self) -> str:
        return self.qualified.rsplit(".", 1)[-1]


@dataclass(frozen=True)
class FunctionRef:
    node: cst.FunctionDef
    bound_self: Any = None  # an Instance for methods
    # The frame a nested function was defined in: its body reads that frame's names (a closure).
    closure: Any = field(default=None, compare=False, hash=False)


@dataclass(frozen=True)
class Partial:
    """`functools.partial(nn.BatchNorm2d, eps=1e-3)`: a callable with some arguments fixed."""

    func: Any
    args: tuple[Any, ...]
    kwargs: tuple[tuple[str, Any], ...]


@dataclass(frozen=True)
class Param:
    """An argument nobody supplied a value for; `default` is what the signature says."""

    name: str
    default: Any = UNKNOWN


@dataclass(frozen=True)
class Alt:
    """One of several values, depending on a condition reslint cannot decide."""

    options: tuple[Any, ...]


@dataclass(eq=False)
class Step:
    """One operation applied to a tensor in forward."""

    kind: str  # a layer kind, "call" for unknown functions, "add" for the sum itself
    node: cst.CSTNode = field(repr=False)
    layer: Layer | None = None
    text: str = ""
    # True when applied straight to forward's input (only channel-preserving steps before it).
    on_input: bool = False
    # The undecidable `if` branches of forward it runs in.
    guards: tuple = field(default=(), repr=False)
    # For a torch function, its arguments after the tensor (`F.avg_pool2d(x, 7)` -> (7,)).
    args: tuple = field(default=(), repr=False)
    # The tensors it was applied to (its alternatives), each with the steps that made it.
    inputs: tuple[Flow, ...] = field(default=(), repr=False)


@dataclass(frozen=True)
class TensorSize:
    """`x.size()`, `x.shape` or one of its dimensions: a size read off a tensor in forward."""

    flow: Any


@dataclass(eq=False)
class AddSite:
    """A residual addition: two tensors summed in forward."""

    node: cst.CSTNode
    left: tuple[Any, ...]  # Flow alternatives
    right: tuple[Any, ...]
    after: list[Step] = field(default_factory=list)
    # The undecidable branches the addition runs in (`out + self.shortcut(x) if self.stride == 1`).
    guards: tuple = field(default=(), repr=False)

    @property
    def adds_a_given_tensor(self) -> bool:
        """Whether a side may be a tensor forward's caller passed (DLA's `block(x, shortcut)` with
        `if shortcut is None: shortcut = x`): its shape is the caller's, unknown here."""
        return any(isinstance(option, Param) for option in (*self.left, *self.right))


@dataclass(frozen=True, eq=False)
class Flow:
    """A tensor in forward: the steps applied to it since its origin (the input, or a residual addition)."""

    origin: Any  # "input" or an AddSite
    steps: tuple[Step, ...] = ()
    # The undecided `if` branches this tensor came through ((id of the if, which way), ...).
    path: tuple = ()

    def then(self, step: Step) -> Flow:
        # The straight line of operations applied to a sum is recorded on the addition itself: the
        # steps this tensor took since the sum are that line so far (not another path from the sum
        # that happens to be as long: a U-Net's skip tensor concatenated back in).
        after = self.origin.after if isinstance(self.origin, AddSite) else None
        if (
            after is not None
            and len(after) == len(self.steps)
            and all(done is taken for done, taken in zip(after, self.steps))
        ):
            after.append(step)
        return Flow(self.origin, self.steps + (step,), self.path)

    def through(self, guard: Guard) -> Flow:
        """The same tensor, known to have come through one branch of an undecided `if`."""
        return Flow(self.origin, self.steps, self.path + (guard,))


class Guard(NamedTuple):
    """One way an undecidable `if` (or conditional expression) went: the id of its node, the branch,
    and its test when it is a condition over sizes reslint can evaluate (`stride != 1`)."""

    node: int
    branch: bool
    condition: Any = None
    # The test's text and the parameters it reads, when it reads nothing else
    # (interpreter._parameter_test): two tests with one such key go the same way.
    test: Any = None
    # What this way says about the test's stable parts (model.branch_facts): `self.flag` true, ...
    facts: tuple = ()


def compatible(*guard_sets: tuple) -> bool:
    """Whether things built or run under these guards can exist together (no `if` taken both ways)."""
    taken: dict[Any, bool] = {}
    bounds: dict[Any, list] = {}
    for guards in guard_sets:
        for guard in guards:
            for key in _guard_keys(guard):
                if taken.setdefault(key, guard.branch) != guard.branch:
                    return False
            for atom, value in guard.facts:
                if isinstance(atom, tuple) and atom[0] == "bound":
                    bounds.setdefault(atom, []).append(value)
                elif taken.setdefault(("fact", atom), value) != value:
                    return False
    return all(satisfiable(found) for found in bounds.values())


def _guard_keys(guard: Guard) -> tuple[Any, ...]:
    """The `if` itself, and its test when it is one comparison of sizes or reads only parameters as
    they came in: two `if expand != 1:` in a row test the same value, so they go the same way."""
    condition = guard.condition
    if isinstance(condition, Comparison):
        return (guard.node, (condition.op, condition.left, condition.right))
    return (guard.node,) if guard.test is None else (guard.node, guard.test)


def options(value: Any) -> tuple[Any, ...]:
    return value.options if isinstance(value, Alt) else (value,)


def alternatives(values: list[Any]) -> Any:
    unique: list[Any] = []
    for value in values:
        for option in options(value):
            if not any(option is seen or (_plain(option) and option == seen) for seen in unique):
                unique.append(option)
    if len(unique) > MAX_OPTIONS:
        unique = _possible(unique)
    if len(unique) == 1:
        return unique[0]
    return Alt(tuple(unique if len(unique) <= MAX_OPTIONS else _spread(unique)))


MAX_OPTIONS = 6  # alternatives kept of one value


def _possible(found: list[Any]) -> list[Any]:
    """The alternatives without the tensors no configuration makes: one that came through an `if`
    one way and a later test of the same setting the other way (`if self.with_extra:` around several
    steps of forward), or through two layers built in exclusive branches of `__init__`. Before some
    are dropped for room, the impossible ones go, or they crowd out the plain path that skips every
    optional step."""
    return [o for o in found if not isinstance(o, Flow) or compatible(o.path, *_step_guards(o))]


def _step_guards(flow: Flow) -> Iterator[tuple]:
    for step in flow.steps:
        yield step.guards
        if step.layer is not None:
            yield step.layer.guards


def _spread(found: list[Any]) -> list[Any]:
    """MAX_OPTIONS of more alternatives, one of each kind of path in turn. Tensors that went through
    the same calls of the same layer types (a stem whose first conv is 7x7 or 3x3) are one kind;
    without this, a backbone's interchangeable stems fill every place, and a path that skips the pool
    (`if self.eval_mode: return x`) crowds out the head after the pool, or a Linear head an MLP one.
    Other values, each a kind of its own, keep their order."""
    groups: dict[tuple, list[Any]] = {}
    for option in found:
        steps = option.steps if isinstance(option, Flow) else ()
        key = tuple((id(step.node), _computes(step)) for step in steps) if steps else (id(option),)
        groups.setdefault(key, []).append(option)
    kept: list[Any] = []
    for index in range(len(found)):
        kept.extend(group[index] for group in groups.values() if index < len(group))
        if len(kept) >= MAX_OPTIONS:
            break
    return kept[:MAX_OPTIONS]


def _computes(step: Step) -> str:
    """What a step does, whichever of like layers it applies: `Conv2d`, `Sequential`, `relu`."""
    return step.layer.type_name if step.layer is not None else step.kind


def _plain(value: Any) -> bool:
    return value is None or isinstance(value, (bool, str, int, float, TorchRef, ClassRef, Param))
