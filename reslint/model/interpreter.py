"""A small abstract interpreter for model code.

It runs `__init__`, layer-builder methods, helper functions and `forward` over abstract values
(symbolic channel expressions, layers, lists, tensors-as-flows) without importing anything. Conditions
it cannot decide run both ways and the results are merged; loops run their first two iterations, which
is what builders need (the first block of a stage differs, the rest repeat).
"""

from __future__ import annotations

import re
import string
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import libcst as cst

from reslint.knowledge.frameworks import (
    REGISTERED_TORCH_ACTIVATIONS,
    builder_for,
    factory_subscript,
    is_activation_instances,
    is_registry_build,
    model_factory,
    rounding_helper,
    torch_container,
    tuple_repeater,
)
from reslint.knowledge.layers import (
    ARGUMENT_STORERS,
    CHANNEL_PRESERVING,
    CONTAINER_KINDS,
    FUNCTIONAL_METHODS,
    FUNCTIONAL_MODULES,
    QUANTIZATION_STUBS,
    TENSOR_CLASSES,
    TENSOR_METHODS,
    TORCH_FUNCTIONS,
    TORCH_LAYERS,
    UNNAMED_ACTIVATION,
    WEIGHT_REPARAMETRISATIONS,
    LayerKind,
)
from reslint.knowledge.naming import (
    PROJECTION_NAME,
    RUNNING_CHANNELS,
    SHORTCUT_NAME,
    builds_norm,
    names_a_size,
    names_stride,
)
from reslint.model import builders, symbolic
from reslint.model.branch_facts import branch_facts
from reslint.model.builders import LayerClass
from reslint.model.call_binding import called_name, gives_a_parameter_twice, self_name
from reslint.model.classes import ClassModel, ForwardModel
from reslint.model.computed_names import never_set
from reslint.model.flow import own_code
from reslint.model.gates import is_gate
from reslint.model.symbolic import (
    COMPARISON_SYMBOLS,
    Comparison,
    Condition,
    Connective,
    Expr,
    Relation,
)
from reslint.model.values import (
    FORWARDS_UNSUPPLIED,
    OPEN_KWARGS,
    UNKNOWN,
    UNSUPPLIED,
    AddSite,
    Alt,
    ClassRef,
    DictValue,
    Flow,
    FunctionRef,
    Guard,
    Layer,
    ListValue,
    ModuleRef,
    NamePattern,
    Param,
    Partial,
    Step,
    TensorSize,
    TorchRef,
    alternatives,
    options,
)
from reslint.model.walk import children, descendants

if TYPE_CHECKING:
    from reslint.model.classes import Instance
    from reslint.model.module import ModuleModel
    from reslint.model.project import Project

MAX_DEPTH = 8
MAX_LOOP = 48  # iterations run for a loop of known length; longer ones are cut there
STAGE_LOOP = 6  # a `range` loop this short is run in full (a loop over the stages of a network)
LAYERS_BY_LOWER_NAME = {name.lower(): name for name in TORCH_LAYERS}
CONCATENATIONS = {"torch.cat", "torch.concat", "torch.concatenate", "torch.stack"}
# Comparisons of two classes: whether each holds when they are the same class.
CLASS_IDENTITY = {"Equal": True, "Is": True, "NotEqual": False, "IsNot": False}
NUMERIC_BUILTINS = {"int", "round", "max", "min", "float", "abs"}
# `math` functions on sizes, as the symbolic operation that computes them: timm's bottleneck width is
# `int(math.floor(planes * (base_width / 64)) * cardinality)`.
MATH_FUNCTIONS = {"math.floor": "floor", "math.ceil": "ceil", "math.trunc": "int"}


@dataclass(frozen=True)
class Builtin:
    name: str


@dataclass(frozen=True)
class SuperRef:
    instance: Any
    start_after: Any  # the ClassModel whose bases are searched


@dataclass(frozen=True)
class Lambda:
    node: cst.Lambda


@dataclass(frozen=True)
class Repeater:
    """What timm's `to_ntuple(4)` returns: a function making a 4-tuple of one value."""

    count: int


@dataclass(frozen=True)
class ConditionalShortcut:
    """A shortcut layer assigned inside undecided `if` branches: which ones, and under what name."""

    layer: Layer
    guards: tuple[Guard, ...]
    name: str
    module: ModuleModel
    instance: Instance | None  # whose `self.<name>` it is, when it is an attribute


@dataclass(frozen=True)
class HandedShortcut:
    """A container handed under a shortcut's name (`downsample=downsample`, or a variable so named
    passed by position) to a block reslint cannot read: a `block` parameter of a stage builder, a
    class of another file. The block's forward will add it to its branch; what it holds is known."""

    layer: Layer
    name: str
    call: cst.Call
    module: ModuleModel


@dataclass(frozen=True)
class RangeValue:
    start: Any
    stop: Any


@dataclass
class Frame:
    locals: dict[str, Any]
    instance: Instance | None
    depth: int
    module: ModuleModel  # whose globals the code reads
    function: cst.FunctionDef | None = None
    returns: list[Any] = field(default_factory=list)
    # True once the code returned or raised; CONTINUED once a `continue` ended this loop iteration.
    terminated: bool | str = False
    # The `if`s this run decided, by id, with the way each went last (a loop decides one per
    # iteration): what chose a block's arguments here (Layer.decided).
    decided: dict[int, tuple[cst.If, bool]] = field(default_factory=dict)
    # The instance's attributes at each `return` this run reached: a branch that returns early
    # (`if fc_dims is None: self.feature_dim = input_dim; return None`) leaves the instance so too.
    exits: list[dict[str, Any]] = field(default_factory=list)


CONTINUED = "continue"
_STRING_LITERALS = {cst.SimpleString, cst.ConcatenatedString, cst.FormattedString}


# Containers that forward runs in order, and the methods that add a child to their end.
ORDERED_CONTAINERS = ("sequential", "modulelist")
CONTAINER_FILLERS = ("append", "add_module")
# Methods of nn.Module containers that list their children in order (keys and values of a ModuleDict).
CONTAINER_VIEWS = ("values", "items", "keys", "children", "named_children")


# The `eval_` method of each node type met so far (None: a node reslint does not evaluate).
_EVALUATORS: dict[type, Callable[[Interpreter, Any, Frame], Any] | None] = {}


class Interpreter:
    """One per project: a call may lead from one linted file into another."""

    def __init__(self, project: Project) -> None:
        self.project = project
        self._active: set[int] = set()
        self.guards: list[Guard] = []
        self._recording: list[ForwardModel] = []
        # Every instantiation of one of the project's classes, with its bound arguments.
        self.constructed: list[Layer] = []
        # Shortcut layers assigned under undecided conditions (`if stride != 1: downsample = ...`).
        self.conditional_shortcuts: list[ConditionalShortcut] = []
        self.handed_shortcuts: list[HandedShortcut] = []
        # Arithmetic on one of the project's classes (`planes * block`), by node: True while every
        # evaluation of the node that saw its operands had a class there (see class_arithmetic).
        self.class_operands: dict[int, tuple[cst.CSTNode, bool]] = {}
        # For-loops by node: does the body pick a layer by the loop variable (see run_for)?
        self._picks_by_index: dict[int, bool] = {}
        # Whether a forward returns a tuple literal, by id: asked at every call of a block.
        self._returns_tuple: dict[int, bool] = {}

    # ----- forward ---------------------------------------------------------------------------

    def run_forward(self, function: cst.FunctionDef, instance: Instance) -> ForwardModel:
        """Run forward on a tensor: every step and addition applied to it is recorded."""
        model = ForwardModel()
        params = list(function.params.params)[1:]
        args: list[Any] = [Flow("input")] if params else []
        args += [Param(p.name.value) for p in params[1:]]
        self._recording.append(model)
        result = None
        try:
            result = self.call_function(function, args, {}, instance, depth=0)
        except RecursionError:
            pass  # pathologically deep code: keep the steps recorded so far
        finally:
            self._recording.pop()
        model.returns = [result] if result is not None else []
        return model

    def record_step(self, step: Step) -> None:
        if self._recording:
            self._recording[-1].steps.append(step)

    def record_add(self, site: AddSite) -> None:
        if self._recording:
            self._recording[-1].adds.append(site)

    # ----- functions -------------------------------------------------------------------------

    def call_function(
        self,
        function: cst.FunctionDef,
        args: list[Any],
        kwargs: dict[str, Any],
        instance: Instance | None,
        depth: int,
        closure: Frame | None = None,
    ) -> Any:
        if depth > MAX_DEPTH or id(function) in self._active:
            return UNKNOWN
        module = self.project.owner(function)
        method = instance is not None
        bound = self.bind(function, args, kwargs, method=method, module=module)
        if closure is not None:  # a nested function reads its enclosing frame's names, `self` too
            bound = {**closure.locals, **bound}
            instance = instance if method else closure.instance
        frame = Frame(bound, instance, depth, module, function)
        self._run(function, frame, method)
        if not frame.returns:
            return None
        return alternatives(frame.returns)

    def run_alone(self, function: cst.FunctionDef, instance: Instance | None) -> Any:
        """Run a method with every parameter a symbol (`_make_layer(block, planes, blocks, stride)`
        on its own), on a copy of the instance's state, or a module-level function (instance None)
        the same way; what it returns."""
        module = self.project.owner(function)
        params = [*function.params.posonly_params, *function.params.params]
        if instance is not None:
            params = params[1:]
            _carried_sizes_as_symbols(function, instance, module)
        bound = {p.name.value: self.unsupplied(p, module) for p in params}
        frame = Frame(bound, instance, 1, module, function)
        try:
            self._run(function, frame, method=instance is not None)
        except RecursionError:
            return UNKNOWN
        return alternatives(frame.returns) if frame.returns else None

    def call_function_with_locals(
        self, function: cst.FunctionDef, bound: dict[str, Any], instance: Instance
    ) -> None:
        """Run a method whose arguments are already bound (an __init__ for a new instance)."""
        self._run(function, Frame(dict(bound), instance, 0, self.project.owner(function), function))

    def _run(self, function: cst.FunctionDef, frame: Frame, method: bool = True) -> None:
        if method and frame.instance is not None and not is_static(function):
            frame.locals[self_name(function)] = frame.instance
        # A function that (indirectly) calls itself is not followed again.
        self._active.add(id(function))
        try:
            self.run_block(function.body, frame)
        finally:
            self._active.discard(id(function))
        _join_exits(frame)

    def bind(
        self,
        function: cst.FunctionDef,
        args: list[Any],
        kwargs: dict[str, Any],
        method: bool,
        module: ModuleModel,
    ) -> dict[str, Any]:
        """Bind arguments to parameters; parameters nobody supplied become symbols or Params."""
        params = function.params
        positional = list(params.posonly_params) + list(params.params)
        if method and positional and not is_static(function):
            positional = positional[1:]
        bound: dict[str, Any] = {}
        kwargs = dict(kwargs)
        # `**kwargs` of unknown content may hold any parameter: those left out are unknown, not defaults.
        open_kwargs = kwargs.pop(OPEN_KWARGS, False)
        alone = kwargs.pop(FORWARDS_UNSUPPLIED, False)

        def left_out(param: cst.Param) -> Any:
            if alone:
                return self.unsupplied(param, module)
            return UNKNOWN if open_kwargs else self.default(param, module)

        remaining = list(args)
        for param in positional:
            name = param.name.value
            if remaining:
                bound[name] = remaining.pop(0)
            elif name in kwargs:
                bound[name] = kwargs.pop(name)
            else:
                bound[name] = left_out(param)
        if isinstance(params.star_arg, cst.Param):
            rest = ListValue(remaining, open_ended=True)
            bound[params.star_arg.name.value] = UNSUPPLIED if alone and not remaining else rest
        for param in params.kwonly_params:
            name = param.name.value
            bound[name] = kwargs.pop(name) if name in kwargs else left_out(param)
        if params.star_kwarg is not None:
            given = DictValue(dict(kwargs), open_ended=open_kwargs)
            bound[params.star_kwarg.name.value] = UNSUPPLIED if alone and not kwargs else given
        return bound

    def default(self, param: cst.Param, module: ModuleModel) -> Any:
        """What a call that leaves a parameter out passes: its default (nothing known without one)."""
        if param.default is None:
            return UNKNOWN
        return self.evaluate(param.default, Frame({}, None, MAX_DEPTH, module))

    def unsupplied(self, param: cst.Param, module: ModuleModel) -> Any:
        """A parameter of a class analysed on its own: a symbol that takes its default at sample 0."""
        name = param.name.value
        default = (
            self.evaluate(param.default, Frame({}, None, MAX_DEPTH, module))
            if param.default is not None
            else UNKNOWN
        )
        if isinstance(default, Expr):
            return symbolic.var(
                name, name, (default.constant,) if default.constant is not None else ()
            )
        if param.default is None:
            return (
                symbolic.var(name, name, _domain_for(name)) if names_a_size(name) else Param(name)
            )
        return Param(name, default)

    # ----- statements ------------------------------------------------------------------------

    def run_block(self, block: cst.BaseSuite | list, frame: Frame) -> None:
        statements = block if isinstance(block, list) else block.body
        depth = len(self.guards)  # an `if` that ended one way guards the rest of this block
        try:
            for statement in statements:
                if frame.terminated:
                    return
                self.run_statement(statement, frame)
        finally:
            del self.guards[depth:]

    def run_statement(self, statement: cst.CSTNode, frame: Frame) -> None:
        """A compound statement, a line, or one small statement (a line's parts, the body of a
        one-line suite: `if self.should_apply_shortcut: residual = ...`)."""
        run = _STATEMENT_RUNNERS.get(type(statement))
        if run is not None:
            run(self, statement, frame)

    def _run_line(self, line: cst.SimpleStatementLine, frame: Frame) -> None:
        for small in line.body:
            self.run_statement(small, frame)

    def _run_while(self, node: cst.While, frame: Frame) -> None:
        self.run_branch_maybe(node.body, frame)

    def _run_body(self, node: cst.With | cst.Try, frame: Frame) -> None:
        self.run_block(node.body, frame)

    def _run_def(self, node: cst.FunctionDef, frame: Frame) -> None:
        frame.locals[node.name.value] = FunctionRef(node, closure=frame)

    def _run_assign(self, node: cst.Assign, frame: Frame) -> None:
        value = self.evaluate(node.value, frame)
        for target in node.targets:
            self.assign(target.target, value, frame, node)

    def _run_annotated(self, node: cst.AnnAssign, frame: Frame) -> None:
        if node.value is not None:
            self.assign(node.target, self.evaluate(node.value, frame), frame, node)

    def _run_augmented(self, node: cst.AugAssign, frame: Frame) -> None:
        left = self.evaluate(node.target, frame)
        right = self.evaluate(node.value, frame)
        op = type(node.operator).__name__.replace("Assign", "")
        self.assign(node.target, self.binary(op, left, right, node, frame), frame, node)

    def _run_expression(self, node: cst.Expr, frame: Frame) -> None:
        if type(node.value) not in _STRING_LITERALS:  # a docstring does nothing
            self.evaluate(node.value, frame)

    def _run_return(self, node: cst.Return, frame: Frame) -> None:
        frame.returns.append(self.evaluate(node.value, frame) if node.value is not None else None)
        frame.terminated = True
        if frame.instance is not None:
            frame.exits.append(dict(frame.instance.attrs))

    def _run_raise(self, node: cst.Raise, frame: Frame) -> None:
        frame.terminated = True

    def _run_continue(self, node: cst.Continue, frame: Frame) -> None:
        frame.terminated = CONTINUED

    def run_assert(self, node: cst.Assert, frame: Frame) -> None:
        """`assert not hasattr(self, name)`: past it, `name` is none of the attributes set so far
        (mmcv-style plugin builders check this before `self.add_module(name, plugin)`), so a later
        `getattr(self, name)` reaches the plugin, never one of those layers."""
        test = node.test
        if not (isinstance(test, cst.UnaryOperation) and isinstance(test.operator, cst.Not)):
            return
        call = test.expression
        if not (
            isinstance(call, cst.Call)
            and isinstance(call.func, cst.Name)
            and call.func.value == "hasattr"
            and len(call.args) == 2
            and frame.instance is not None
            and _is_self(call.args[0].value, frame)
            and isinstance(call.args[1].value, cst.Name)
        ):
            return
        local = call.args[1].value.value
        known = frame.locals.get(local, UNKNOWN)
        taken = sorted(re.escape(name) for name in frame.instance.attrs)
        if isinstance(known, str) or not taken:
            return
        shape = known.regex if isinstance(known, NamePattern) else ".*"
        frame.locals[local] = NamePattern(f"(?!(?:{'|'.join(taken)})$)(?:{shape})")

    def assign(
        self, target: cst.BaseExpression, value: Any, frame: Frame, statement: cst.CSTNode
    ) -> None:
        name = target.value if isinstance(target, cst.Name) else None
        if isinstance(target, cst.Attribute) and _is_self(target.value, frame):
            name = target.attr.value
        if name is not None and (SHORTCUT_NAME.search(name) or PROJECTION_NAME.search(name)):
            for option in options(value):
                if not isinstance(option, Layer):
                    continue
                # Built in an undecided branch, or chosen by one (`Proj(...) if should_proj else
                # nn.Identity()`): the layer itself records the way that condition went.
                guards = tuple(self.guards)
                if isinstance(value, Alt):
                    guards += tuple(g for g in option.guards if g not in guards)
                if guards:
                    self.conditional_shortcuts.append(
                        ConditionalShortcut(option, guards, name, frame.module, frame.instance)
                    )
        if isinstance(target, cst.Name):
            # A size computed into a local is shown under that local's name: `width`, not its formula.
            frame.locals[target.value] = (
                value.named(target.value) if isinstance(value, Expr) else value
            )
        elif isinstance(target, cst.Attribute) and _is_self(target.value, frame):
            frame.instance.set_attribute(target.attr.value, value, statement, target)
        elif isinstance(target, cst.Subscript):
            container = self.evaluate(target.value, frame)
            key = _dict_key(self._subscript_key(target, frame))
            if isinstance(container, DictValue):
                if key is None:
                    container.open_ended = True  # an entry under a key reslint cannot work out
                else:
                    container.items[key] = value
        elif isinstance(target, (cst.Tuple, cst.List)):
            items = value.items if isinstance(value, ListValue) and not value.open_ended else None
            for index, element in enumerate(target.elements):
                item = items[index] if items is not None and index < len(items) else UNKNOWN
                self.assign(element.value, item, frame, statement)

    def run_if(self, node: cst.If, frame: Frame) -> None:
        test = self.evaluate(node.test, frame)
        decided = truth(test)
        orelse = node.orelse
        if decided is not None:
            frame.decided[id(node)] = (node, decided)
        if decided is True:
            self.run_block(node.body, frame)
        elif decided is False:
            if isinstance(orelse, cst.If):
                self.run_if(orelse, frame)
            elif isinstance(orelse, cst.Else):
                self.run_block(orelse.body, frame)
        else:
            condition = test if isinstance(test, Condition) else None
            key = _parameter_test(node.test, frame)
            before = _snapshot(frame)
            with self.guarded(node, True, condition, key, _facts(node.test, True, frame)) as taken:
                self.run_block(node.body, frame)
            after_body = _through(_snapshot(frame), before, taken)
            _restore(frame, before)
            with self.guarded(
                node, False, condition, key, _facts(node.test, False, frame)
            ) as skipped:
                if isinstance(orelse, cst.If):
                    self.run_if(orelse, frame)
                elif isinstance(orelse, cst.Else):
                    self.run_block(orelse.body, frame)
            after_else = _through(_snapshot(frame), before, skipped)
            _merge(frame, *_untouched_through(after_body, after_else, before, taken, skipped))
            _select_sizes(frame, condition, after_body, after_else)
            # `if i == 0: ...; continue`: what follows in the block runs only the other way. Not
            # after a way that raises (`if groups != 1: raise ValueError(...)`): that test checks
            # the arguments, it does not choose between configurations of the layers built after it.
            ended = node.body if after_body[2] else orelse
            if bool(after_body[2]) != bool(after_else[2]) and not _raises(ended):
                self.guards.append(skipped if after_body[2] else taken)

    @contextmanager
    def guarded(
        self,
        node: cst.CSTNode,
        branch: bool,
        condition: Condition | None = None,
        test: Any = None,
        facts: tuple = (),
    ) -> Iterator[Guard]:
        """Everything built or applied inside records which way this undecidable `if` went, so that
        layers of two exclusive branches are never paired (see values.compatible)."""
        guard = Guard(id(node), branch, condition, test, facts)
        depth = len(self.guards)
        self.guards.append(guard)
        try:
            yield guard
        finally:
            del self.guards[depth:]  # with any guard an `if` inside left for the rest of the way

    def run_branch_maybe(self, body: cst.BaseSuite, frame: Frame) -> None:
        before = _snapshot(frame)
        self.run_block(body, frame)
        _next_iteration(frame)
        _merge(frame, before, _snapshot(frame))

    def run_for(self, node: cst.For, frame: Frame) -> None:
        iterable = self.evaluate(node.iter, frame)
        if id(node) not in self._picks_by_index:
            self._picks_by_index[id(node)] = _picks_by_loop_variable(node)
        items = first_items(iterable, every=self._picks_by_index[id(node)])
        if _counted_without_end(iterable) and _names_by_loop_variable(node):
            # `getattr(self, f"enc{i}")` for an unknown count of `i`: the layers past the first two
            # are reached too, by a name reslint reads as the pattern `enc.*`.
            items = [*items, UNKNOWN]
        for item in items:
            if frame.terminated:
                return
            self.assign(node.target, item, frame, node)
            before = _snapshot(frame)
            self.run_block(node.body, frame)
            _next_iteration(frame)
            if frame.terminated:  # a return inside a loop body may not run on every iteration
                _merge(frame, before, _snapshot(frame))

    # ----- expressions -----------------------------------------------------------------------

    def evaluate(self, node: cst.BaseExpression | None, frame: Frame) -> Any:
        if node is None:
            return None
        kind = type(node)
        try:
            method = _EVALUATORS[kind]
        except KeyError:  # the first node of its type: look its method up once
            method = _EVALUATORS[kind] = getattr(Interpreter, f"eval_{kind.__name__}", None)
        if method is None:
            return UNKNOWN
        return method(self, node, frame)

    # libcst's evaluated_value goes through ast.literal_eval, which compiles: too slow for every literal.
    def eval_Integer(self, node: cst.Integer, frame: Frame) -> Any:
        return symbolic.const(float(int(node.value.replace("_", ""), 0)), node.value)

    def eval_Float(self, node: cst.Float, frame: Frame) -> Any:
        try:
            return symbolic.const(float(node.value.replace("_", "")), node.value)
        except ValueError:
            return UNKNOWN

    def eval_SimpleString(self, node: cst.SimpleString, frame: Frame) -> Any:
        raw = node.value
        if (
            len(raw) >= 2
            and raw[0] == raw[-1]
            and raw[0] in "'\""
            and "\\" not in raw
            and raw[1:-1].count(raw[0]) == 0
        ):
            return raw[1:-1]
        value = node.evaluated_value
        return value if isinstance(value, str) else UNKNOWN

    def eval_FormattedString(self, node: cst.FormattedString, frame: Frame) -> Any:
        """`f"layer{i}"` with `i` known: the string; with `i` unknown, the pattern `layer.*`."""
        pieces: list[str | None] = []  # None: a part reslint cannot work out
        for part in node.parts:
            if isinstance(part, cst.FormattedStringText):
                pieces.append(part.value)
                continue
            value = (
                self.evaluate(part.expression, frame)
                if isinstance(part, cst.FormattedStringExpression) and not part.format_spec
                else UNKNOWN
            )
            pieces.append(_text_of(value))
        return _joined(pieces)

    def eval_Ellipsis(self, node: cst.Ellipsis, frame: Frame) -> Any:
        return UNKNOWN

    def eval_Lambda(self, node: cst.Lambda, frame: Frame) -> Any:
        return Lambda(node)

    def eval_Name(self, node: cst.Name, frame: Frame) -> Any:
        name = node.value
        if name in ("True", "False", "None"):
            return {"True": True, "False": False, "None": None}[name]
        if name in frame.locals:
            return frame.locals[name]
        return frame.module.global_value(name, node)

    def eval_Attribute(self, node: cst.Attribute, frame: Frame) -> Any:
        attr = node.attr.value
        base = self.evaluate(node.value, frame)
        instance_type = type(frame.instance) if frame.instance is not None else None
        if instance_type is not None and isinstance(base, instance_type):
            value = base.attribute(attr, self)
            # A size set where reslint cannot see (a base class of another library) is a symbol; one
            # this class assigned from what reslint could not work out stays unknown, and so does
            # one that no class reslint sees all of has set (reading it raises AttributeError).
            if (
                value is UNKNOWN
                and names_a_size(attr)
                and attr not in base.attrs
                and base.cls.has_unresolved_bases
            ):
                text = frame.module.code(node)
                return symbolic.var(text, text, _domain_for(text))
            return value.named(frame.module.code(node)) if isinstance(value, Expr) else value
        if isinstance(base, ClassRef):
            value = base.cls.constant(attr, self)
            return value.named(frame.module.code(node)) if isinstance(value, Expr) else value
        if isinstance(base, TorchRef):
            return TorchRef(f"{base.qualified}.{attr}")
        if isinstance(base, ModuleRef):
            return base.module.global_value(attr)
        if isinstance(base, Param) or isinstance(base, Expr) and base.op == "var":
            domain = frame.module.constant_domain(attr)
            text = frame.module.code(node)
            return symbolic.var(text, text, domain) if domain or names_a_size(attr) else UNKNOWN
        if isinstance(base, Layer):
            value = base.args.get(attr, UNKNOWN)
            return value
        if attr == "shape" and _is_tensor(base):
            return TensorSize(base)
        if base is UNKNOWN and node.value is not None:
            qualified = frame.module.imports.qualified(node)
            if qualified:
                return TorchRef(qualified)
        return UNKNOWN

    def eval_Subscript(self, node: cst.Subscript, frame: Frame) -> Any:
        base = self.evaluate(node.value, frame)
        if isinstance(base, ListValue) and len(node.slice) == 1:
            if isinstance(node.slice[0].slice, cst.Slice):
                return self._slice(base, node.slice[0].slice, frame)
        key = self._subscript_key(node, frame)
        if isinstance(key, Expr) and key.constant is not None:
            if isinstance(base, ListValue):
                return _item(base, int(key.constant))
            if isinstance(base, Alt) and all(isinstance(o, ListValue) for o in base.options):
                # a helper that returns `build_norm_layer(cfg, c)` from several branches, then `[1]`
                return alternatives([_item(o, int(key.constant)) for o in base.options])
        if isinstance(base, DictValue) and _dict_key(key) is not None:
            return base.items.get(_dict_key(key), UNKNOWN)
        if isinstance(base, Layer) and base.kind in ("sequential", "modulelist"):
            for inner in base.walk():
                inner.indexed = True  # HRNet's `self.fuse_layers[i][j]`: pieces used one by one
        if isinstance(base, Layer) and isinstance(key, Expr) and key.constant is not None:
            index = int(key.constant)
            return (
                base.children[index]
                if -len(base.children) <= index < len(base.children)
                else UNKNOWN
            )
        if isinstance(base, (Param, Expr)) or base is UNKNOWN and isinstance(node.value, cst.Name):
            text = frame.module.code(node)
            return (
                symbolic.var(
                    _item_identity(node, key, frame),
                    text,
                    _item_domain(base, key, text),
                )
                # or a number by its default (`dilation[0]` of `dilation=(1, 1)`)
                if names_a_size(text.split("[")[0]) or _default_item(base, key)
                else UNKNOWN
            )
        if _is_tensor(base):  # a tensor, or one of several (`out` after `if self.with_plugins:`)
            kind = "unknown" if _may_cut_channels(node) else "subsample"
            return self.apply_step(base, Step(kind, node, None, frame.module.code(node)))
        if isinstance(base, TensorSize):
            return base
        if isinstance(base, TorchRef):
            return _framework_subscript(base, node, key, tuple(self.guards))
        return UNKNOWN

    def _slice(self, base: ListValue, part: cst.Slice, frame: Frame) -> Any:
        """`stage_blocks[:num_stages]`: the items the slice keeps, for bounds known outright or by
        their default (a parameter `num_stages=4` analysed on its own); UNKNOWN otherwise."""
        bounds = []
        for bound in (part.lower, part.upper, part.step):
            value = self.evaluate(bound, frame) if bound is not None else None
            if value is not None:
                value = _known_or_default(value)
                if value is None:
                    return UNKNOWN
            bounds.append(value)
        lower, upper, step = bounds
        if base.open_ended and (step is not None or (upper or 0) < 0 or (lower or 0) < 0):
            return UNKNOWN
        if base.open_ended and (upper is None or upper > len(base.items)):
            return ListValue(base.items[lower:], True)
        return ListValue(base.items[lower:upper:step], False)

    def _subscript_key(self, node: cst.Subscript, frame: Frame) -> Any:
        if len(node.slice) != 1 or not isinstance(node.slice[0].slice, cst.Index):
            return UNKNOWN
        return self.evaluate(node.slice[0].slice.value, frame)

    def eval_List(self, node: cst.List | cst.Tuple, frame: Frame) -> Any:
        items: list[Any] = []
        open_ended = False
        for element in node.elements:
            value = self.evaluate(element.value, frame)
            if isinstance(element, cst.StarredElement):
                if isinstance(value, ListValue):
                    items.extend(value.items)
                    open_ended |= value.open_ended
                else:
                    open_ended = True
            else:
                items.append(value)
        return ListValue(items, open_ended, node)

    eval_Tuple = eval_List

    def eval_Dict(self, node: cst.Dict, frame: Frame) -> Any:
        result = DictValue()
        for element in node.elements:
            if isinstance(element, cst.DictElement):
                key = _dict_key(self.evaluate(element.key, frame))
                if key is not None:
                    result.items[key] = self.evaluate(element.value, frame)
                else:
                    result.open_ended = True
            else:
                result.open_ended = True
        return result

    def eval_ListComp(self, node: cst.ListComp, frame: Frame) -> Any:
        inner = Frame(dict(frame.locals), frame.instance, frame.depth, frame.module, frame.function)
        comp = node.for_in
        iterable = self.evaluate(comp.iter, inner)
        if _maps_a_known_list(comp, iterable):
            # monai's `[int(x * widen_factor) for x in block_inplanes]`: each stage keeps its width.
            mapped = []
            for item in iterable.items:
                self.assign(comp.target, item, inner, node)
                mapped.append(self.evaluate(node.elt, inner))
            return ListValue(mapped, open_ended=False, node=node)
        counted = _counted(iterable)
        if counted is not None and not comp.ifs and comp.inner_for_in is None:
            # `[block(ni if i == 0 else nf, nf) for i in range(blocks)]` with `blocks` known: the
            # first items and the last, as a counted loop runs (first_items), so the chain ends
            # with what the last item outputs.
            built = []
            for index in first_items(iterable):
                self.assign(comp.target, index, inner, node)
                built.append(self.evaluate(node.elt, inner))
            return ListValue(built, open_ended=len(built) != counted, node=node)
        items = first_items(iterable)
        if items:
            self.assign(comp.target, items[0], inner, node)
        element = self.evaluate(node.elt, inner)
        # `[Block(chans[i], chans[i + 1]) for i in ...]`: the item stands for the first only.
        varying = _reads_target(node.elt, comp.target)
        return ListValue([element], open_ended=True, node=node, varying=varying)

    eval_GeneratorExp = eval_ListComp

    def eval_IfExp(self, node: cst.IfExp, frame: Frame) -> Any:
        test = self.evaluate(node.test, frame)
        decided = truth(test)
        if decided is True:
            return self.evaluate(node.body, frame)
        if decided is False:
            return self.evaluate(node.orelse, frame)
        return self._either_way(node, node.test, test, node.body, node.orelse, frame)

    def _either_way(
        self,
        node: cst.CSTNode,
        test_node: cst.BaseExpression,
        test: Any,
        body_node: cst.BaseExpression,
        orelse_node: cst.BaseExpression,
        frame: Frame,
    ) -> Any:
        """An undecided choice between two values. Each tensor it yields comes through its side, as
        for an `if` statement's branches (`self.shortcut(x) if self.stride == 1 else out`: the
        shortcut runs only at stride 1)."""
        condition = test if isinstance(test, Condition) else None
        with self.guarded(node, True, condition, None, _facts(test_node, True, frame)) as guard:
            body = _flows_through(self.evaluate(body_node, frame), guard)
        with self.guarded(node, False, condition, None, _facts(test_node, False, frame)) as guard:
            orelse = _flows_through(self.evaluate(orelse_node, frame), guard)
        return alternatives([body, orelse])

    def eval_UnaryOperation(self, node: cst.UnaryOperation, frame: Frame) -> Any:
        value = self.evaluate(node.expression, frame)
        if isinstance(node.operator, cst.Not):
            decided = truth(value)
            if decided is None:
                return (
                    Connective("not", (value,), node) if isinstance(value, Condition) else UNKNOWN
                )
            return not decided
        if isinstance(node.operator, cst.Minus) and isinstance(value, Expr):
            return symbolic.combine("neg", [value], frame.module.code(node))
        return value if isinstance(node.operator, cst.Plus) else UNKNOWN

    def eval_BooleanOperation(self, node: cst.BooleanOperation, frame: Frame) -> Any:
        inner = node.left
        if (
            isinstance(node.operator, cst.Or)
            and isinstance(inner, cst.BooleanOperation)
            and isinstance(inner.operator, cst.And)
            and isinstance(inner.right, cst.Call)
        ):
            # `(not equal) and nn.Conv2d(...) or None`, the old spelling of `conv if test else None`:
            # a built module is true, so the test alone chooses.
            test = self.evaluate(inner.left, frame)
            if truth(test) is None and isinstance(test, Condition):
                return self._either_way(node, inner.left, test, inner.right, node.right, frame)
            left_value = _boolean(inner, test, self.evaluate(inner.right, frame))
        else:
            left_value = self.evaluate(node.left, frame)
        return _boolean(node, left_value, self.evaluate(node.right, frame))

    def eval_Comparison(self, node: cst.Comparison, frame: Frame) -> Any:
        left = self.evaluate(node.left, frame)
        outcome: Any = True
        for target in node.comparisons:
            right = self.evaluate(target.comparator, frame)
            op = type(target.operator).__name__
            result = compare(op, left, right)
            if result is False:
                return False
            if result is not True:
                # `stride != 1`: undecided, but kept as a condition rules can evaluate.
                single = len(node.comparisons) == 1
                outcome = _size_condition(op, left, right, node) if single else UNKNOWN
            left = right
        return outcome

    def eval_BinaryOperation(self, node: cst.BinaryOperation, frame: Frame) -> Any:
        left = self.evaluate(node.left, frame)
        right = self.evaluate(node.right, frame)
        return self.binary(type(node.operator).__name__, left, right, node, frame)

    def binary(self, op: str, left: Any, right: Any, node: cst.CSTNode, frame: Frame) -> Any:
        symbol = symbolic.OPERATOR_SYMBOLS.get(op)
        if symbol:
            self._note_class_operand(left, right, node)
        if isinstance(left, Expr) and isinstance(right, Expr) and symbol:
            return symbolic.combine(symbol, [left, right], frame.module.code(node))
        if _is_tensor(left) and _is_tensor(right) and op == "Add":
            return self.add(left, right, node)
        code = frame.module.code(node)
        if op == "Multiply" and _is_tensor(right) and is_gate(left) and not is_gate(right):
            # `self.sa(out) * out`: the features rescaled by a gate keep the features' channels.
            return self.apply_step(right, Step("mul", node, None, code, args=(left,)))
        if _is_tensor(left) and op in ("Multiply", "Add", "Subtract", "Divide"):
            return self.apply_step(left, Step("mul", node, None, code, args=(right,)))
        if _is_tensor(right) and op in ("Multiply", "Add"):
            return self.apply_step(right, Step("mul", node, None, code, args=(left,)))
        if isinstance(left, ListValue) and isinstance(right, ListValue) and op == "Add":
            return ListValue(left.items + right.items, left.open_ended or right.open_ended, None)
        if isinstance(left, Expr) and isinstance(right, ListValue) and op == "Multiply":
            # `3 * [Block(c)]` is the same list as `[Block(c)] * 3`.
            left, right = right, left
        if isinstance(left, ListValue) and isinstance(right, Expr) and op == "Multiply":
            # `[Block(c)] * 3` repeats the same objects: kept so that a repeated module shows.
            count = right.constant
            if count is not None and 0 <= count <= MAX_LOOP and not left.open_ended:
                return ListValue(list(left.items) * int(count), False, node)
            if _at_most_once(right):
                # `[Block(c)] * (num_conv - 1)` with `num_conv=2`: one copy where the file builds it.
                return ListValue(list(left.items), True, node)
            return ListValue(list(left.items) * 2, True, node)
        return UNKNOWN

    def _note_class_operand(self, left: Any, right: Any, node: cst.CSTNode) -> None:
        """Whether this evaluation computes with a class of the project (`planes * block`): a
        TypeError, as plain classes define no arithmetic. An evaluation with the values of a
        configuration decides: a class on one side (and numbers on the other) counts against the
        node, numbers on both sides clear it for good; symbolic or unknown operands say nothing (a
        parameter nobody has given a value is a symbol, whatever it holds)."""
        sides = [options(left), options(right)]
        values = [*sides[0], *sides[1]]
        if any(value is UNKNOWN or isinstance(value, Param) for value in values):
            return
        seen = self.class_operands.get(id(node))
        if all(isinstance(value, Expr) for value in values):
            if all(_constant(value) for value in values):
                self.class_operands[id(node)] = (node, False)
            return
        classes = [value for value in values if isinstance(value, ClassRef)]
        if not classes:
            return
        wrong = (
            any(all(isinstance(value, ClassRef) for value in side) for side in sides)
            and all(isinstance(value, ClassRef | Expr) for value in values)
            and all(_plain_module_class(value.cls) for value in classes)
        )
        self.class_operands[id(node)] = (node, wrong and (seen is None or seen[1]))

    def add(self, left: Any, right: Any, node: cst.CSTNode) -> Flow:
        site = AddSite(node, options(left), options(right), guards=tuple(self.guards))
        self.record_add(site)
        return Flow(site)

    def apply_step(self, value: Any, step: Step) -> Any:
        inputs = [option for option in options(value) if isinstance(option, Flow)]
        if not inputs:
            return UNKNOWN
        step.guards = tuple(self.guards)
        step.inputs = tuple(inputs)
        step.on_input = any(
            flow.origin == "input" and all(_preserves(s) for s in flow.steps) for flow in inputs
        )
        flows = [flow.then(step) for flow in inputs]
        self.record_step(step)
        return alternatives(flows)

    def eval_Call(self, node: cst.Call, frame: Frame) -> Any:
        if isinstance(node.func, cst.Attribute):
            receiver = self.evaluate(node.func.value, frame)
            handled = self.call_method(receiver, node.func.attr.value, node, frame)
            if handled is not NotImplemented:
                return handled
            if is_registry_build(frame.module.imports.qualified(node.func) or ""):
                return self.registry_build(node, frame)
        if called_name(node) in ARGUMENT_STORERS and frame.instance is not None:
            self.store_arguments(node, frame, frame.instance)
            return None
        func = self.evaluate(node.func, frame)
        values = [self.evaluate(arg.value, frame) for arg in node.args]
        if isinstance(func, FunctionRef) and _ambiguous_binding(func, node):
            return UNKNOWN  # a TypeError; which value the author meant for the parameter is unknown
        if not isinstance(func, (TorchRef, ClassRef)):
            return self.call(func, *self.bound_arguments(node, values), node, frame)
        # `nn.Sequential(*layers)` with `layers = [...] if expansion == 1 else [...]`: one module
        # per list the condition may choose, each built from that list's layers (a function is
        # not called twice: what it changes on `self` would change twice).
        return alternatives(
            [
                self.call(func, *self.bound_arguments(node, chosen), node, frame)
                for chosen in _unpacked_choices(node, values)
            ]
        )

    def store_arguments(self, node: cst.Call, frame: Frame, instance: Instance) -> None:
        """fastcore's `store_attr('block,expansion')`: `self.block = block` and so on, for the names
        listed (every parameter of the method when none are). Names given otherwise (a variable,
        `but=`) leave the attributes unknown."""
        if (
            node.args
            and not isinstance(node.args[0].value, cst.SimpleString)
            or any(arg.keyword is not None for arg in node.args)
        ):
            return
        if node.args:
            listed = node.args[0].value.evaluated_value  # type: ignore[attr-defined]
            names = [n.strip() for n in str(listed).split(",")]
        else:
            function = frame.function
            names = [p.name.value for p in function.params.params[1:]] if function else []
        for name in names:
            if name in frame.locals:
                instance.attrs[name] = frame.locals[name]

    def arguments(self, node: cst.Call, frame: Frame) -> tuple[list[Any], dict[str, Any]]:
        return self.bound_arguments(node, [self.evaluate(arg.value, frame) for arg in node.args])

    def bound_arguments(
        self, node: cst.Call, values: list[Any]
    ) -> tuple[list[Any], dict[str, Any]]:
        """The positional and keyword arguments of a call, given the value of each of its args."""
        args: list[Any] = []
        kwargs: dict[str, Any] = {}
        for index, (arg, value) in enumerate(zip(node.args, values)):
            if value is UNSUPPLIED and _forwards_last(node.args, index):
                kwargs[FORWARDS_UNSUPPLIED] = True
            elif arg.star == "*":
                args.extend(value.items if isinstance(value, ListValue) else [UNKNOWN])
                if isinstance(value, ListValue) and value.varying:
                    args.append(UNKNOWN)  # the later items differ from the one shown
            elif arg.star == "**":
                if isinstance(value, DictValue):
                    kwargs.update(value.items)
                if not isinstance(value, DictValue) or value.open_ended:
                    kwargs[OPEN_KWARGS] = True
            elif arg.keyword is not None:
                kwargs[arg.keyword.value] = value
            else:
                args.append(value)
        return args, kwargs

    def call(
        self, func: Any, args: list[Any], kwargs: dict[str, Any], node: cst.Call, frame: Frame
    ) -> Any:
        if FORWARDS_UNSUPPLIED in kwargs and not isinstance(
            func, (Alt, ClassRef, FunctionRef, Partial)
        ):
            # Only a function of the project binds its parameters as symbols; to anything else the
            # forwarded variadics are arguments of unknown content.
            kwargs = {k: v for k, v in kwargs.items() if k != FORWARDS_UNSUPPLIED}
            kwargs[OPEN_KWARGS] = True
        if isinstance(func, Alt):
            return alternatives(
                [
                    self.call(option, args, kwargs, node, frame)
                    for option in func.options
                    if option is not None
                ]
            )
        if isinstance(func, TorchRef):
            return self.call_torch(func, args, kwargs, node, frame)
        if isinstance(func, ClassRef):
            return self.construct(func.cls, args, kwargs, node, frame)
        if isinstance(func, FunctionRef):
            result = self.call_function(
                func.node, args, kwargs, func.bound_self, frame.depth + 1, func.closure
            )
            _set_site(result, node, self.project.owner(func.node).within(func.node))
            return result
        if isinstance(func, Layer):
            flow = args[0] if args else UNKNOWN
            if func.returns_preact:
                return self.call_preactivating(func, flow, node)
            out = self.apply_step(flow, Step(func.kind, node, func, func.name()))
            elements = self.returned_elements(func, flow)
            return out if elements is None else elements
        if isinstance(func, Builtin):
            return self.call_builtin(func.name, args, kwargs, node, frame)
        if isinstance(func, Lambda):
            return self.call_lambda(func.node, args, frame)
        if isinstance(func, LayerClass):
            return builders.build(func.builder, func.name, args, kwargs, node, tuple(self.guards))
        if isinstance(func, Repeater):
            return _repeated(args[0], func.count) if args else UNKNOWN
        if isinstance(func, Partial):
            return self.call(
                func.func, [*func.args, *args], {**dict(func.kwargs), **kwargs}, node, frame
            )
        if isinstance(func, Param):
            if (
                func.default is not None
                and func.default is not UNKNOWN
                and not isinstance(func.default, Expr)
            ):
                built = self.call(func.default, args, kwargs, node, frame)
                if isinstance(built, Layer):
                    built.default_of = func.name
                return built
            if args and _is_tensor(args[0]):
                return self.apply_step(args[0], Step("call", node, None, func.name))
            self.note_handed_shortcuts(args, kwargs, node, frame.module)
            if builds_norm(func.name):
                fields = {"args": args, **kwargs, **_passed_norm_channels(args)}
                return Layer("norm", func.name, node, fields, guards=tuple(self.guards))
            return Layer(
                "unknown", func.name, node, {"args": args, **kwargs}, guards=tuple(self.guards)
            )
        return self.unknown_call(frame.module.code(node.func), args, kwargs, node, frame.module)

    def call_preactivating(self, layer: Layer, flow: Any, node: cst.Call) -> ListValue:
        """A framework block built to return its pre-activation (pytorchcv's `return_preact=True`):
        (output, the input after the parts before its conv). Both share those first steps, as the
        block's own forward computes them once."""
        parts = layer.flat()
        first_conv = next((i for i, part in enumerate(parts) if part.kind == "conv"), len(parts))
        preact = flow
        for part in parts[:first_conv]:
            preact = self.apply_step(preact, Step(part.kind, node, part, part.name()))
        out = preact
        for part in parts[first_conv:]:
            out = self.apply_step(out, Step(part.kind, node, part, part.name()))
        return ListValue([out, preact])

    def returned_elements(self, block: Layer, flow: Any) -> ListValue | None:
        """Calling one of the project's blocks whose forward returns a tuple of tensors (a body
        returning its output and its pre-activation): each element is the caller's tensor followed
        by the steps that element took in the block, where the block computed it as a straight
        chain from its input; an element made otherwise is unknown. None for any other block."""
        function = block.cls.method("forward") if block.cls is not None else None
        if function is None:
            return None
        if id(function) not in self._returns_tuple:
            self._returns_tuple[id(function)] = _returns_tuple(function)
        if not self._returns_tuple[id(function)] or block.instance is None:
            return None
        guards, self.guards = self.guards, []  # the block's forward runs under its own branches
        try:
            forward = block.instance.forward
        finally:
            self.guards = guards
        if forward is None or len(forward.returns) != 1:
            return None
        returned = forward.returns[0]
        if not isinstance(returned, ListValue) or returned.open_ended:
            return None
        return ListValue([_continued(flow, item) for item in returned.items])

    def unknown_call(
        self,
        callee: str,
        args: list[Any],
        kwargs: dict[str, Any],
        node: cst.Call,
        module: ModuleModel,
    ) -> Any:
        """A call of something reslint cannot read: a step when applied to a tensor; a norm layer
        (of unknown channels) when its name says so (`get_norm_layer(planes)`); else unknown."""
        if args and _is_tensor(args[0]):
            return self.apply_step(args[0], Step("call", node, None, callee))
        self.note_handed_shortcuts(args, kwargs, node, module)
        _may_have_changed([*args, *kwargs.values()])
        if builds_norm(callee):
            return Layer("norm", callee, node, guards=tuple(self.guards))
        return UNKNOWN

    def note_handed_shortcuts(
        self, args: list[Any], kwargs: dict[str, Any], node: cst.Call, module: ModuleModel
    ) -> None:
        """Record the containers an unreadable callee is handed under a shortcut's name."""
        named = [(str(key), value) for key, value in kwargs.items()]
        for arg, value in zip(node.args, args):
            if arg.star or arg.keyword is not None:
                break  # positions after a `*rest` are not known
            if isinstance(arg.value, cst.Name):
                named.append((arg.value.value, value))
        for name, value in named:
            if not SHORTCUT_NAME.search(name):
                continue
            for option in options(value):
                if isinstance(option, Layer) and option.kind == "sequential":
                    self.handed_shortcuts.append(HandedShortcut(option, name, node, module))

    def call_lambda(self, node: cst.Lambda, args: list[Any], frame: Frame) -> Any:
        inner = Frame(dict(frame.locals), frame.instance, frame.depth + 1, frame.module)
        for param, value in zip(node.params.params, args):
            inner.locals[param.name.value] = value
        return self.evaluate(node.body, inner)

    def call_torch(
        self, func: TorchRef, args: list[Any], kwargs: dict[str, Any], node: cst.Call, frame: Frame
    ) -> Any:
        qualified = func.qualified
        if qualified.startswith("torch.nn.") and qualified.count(".") == 2:
            # `nn.conv2d` is reported by RN105; the rest of the analysis reads it as the layer meant.
            layer = LAYERS_BY_LOWER_NAME.get(func.short.lower())
            if layer is not None:
                return self.torch_layer(layer, args, kwargs, node)
        if (
            qualified in ("torch.add",)
            and len(args) >= 2
            and _is_tensor(args[0])
            and _is_tensor(args[1])
        ):
            return self.add(args[0], args[1], node)
        if qualified in CONCATENATIONS and args and isinstance(args[0], ListValue):
            # torch.cat((out, sp), 1): the result carries on from the first tensor joined.
            first = next((item for item in args[0].items if _is_tensor(item)), None)
            if first is not None:
                return self.apply_step(
                    first, Step("concat", node, None, frame.module.code(node.func))
                )
        if qualified in MATH_FUNCTIONS and len(args) == 1 and isinstance(args[0], Expr):
            return symbolic.combine(MATH_FUNCTIONS[qualified], args, frame.module.code(node))
        kind = TORCH_FUNCTIONS.get(qualified)
        if kind is not None and args and _is_tensor(args[0]):
            rest = tuple(args[1:]) or tuple(kwargs.values())
            if kind == "avgpool" and rest and isinstance(rest[0], TensorSize):
                kind = "globalpool"  # `F.avg_pool2d(x, x.size()[3])`: the kernel is the whole map
            step = Step(kind, node, None, frame.module.code(node.func), args=rest)
            return self.apply_step(args[0], step)
        if (
            qualified.startswith("torch.nn.")
            and qualified.count(".") == 2
            and func.short[:1].isupper()
            and func.short not in TENSOR_CLASSES
        ) or (qualified.startswith("torch.") and func.short in FUNCTIONAL_MODULES):
            return Layer("module", func.short, node, {"args": args, **kwargs})
        if qualified.startswith("torch.") and func.short in QUANTIZATION_STUBS:
            return Layer("identity", func.short, node, guards=tuple(self.guards))
        if qualified in WEIGHT_REPARAMETRISATIONS and args:
            return args[0]
        if qualified in ("collections.OrderedDict", "typing.OrderedDict"):
            return _ordered_dict(args)
        if qualified == "typing.cast" and len(args) == 2:
            return args[1]  # `return cast(Tensor, out)`: the value itself, for type checkers
        if qualified == "functools.partial" and args:
            return Partial(args[0], tuple(args[1:]), tuple(kwargs.items()))
        if qualified.endswith("checkpoint.checkpoint") and args:
            # torch.utils.checkpoint runs the function on the arguments (only memory use differs).
            return self.call(args[0], args[1:], {}, node, frame)
        container = torch_container(qualified)
        if container is not None:
            return self.torch_layer(container, args, kwargs, node)
        rounding = rounding_helper(qualified)
        if rounding is not None:
            return _rounded(rounding, args, kwargs, frame.module.code(node))
        count = tuple_repeater(qualified)
        if count == 0:  # to_ntuple(n)
            size = args[0].constant if args and isinstance(args[0], Expr) else None
            return Repeater(int(size)) if size is not None and size == int(size) else UNKNOWN
        if count is not None:
            return _repeated(args[0], count) if args else UNKNOWN
        factory = model_factory(qualified)
        if factory is not None and args:
            # The model class, built with the keywords the factory passes on.
            passed = {k: v for k, v in kwargs.items() if k not in factory.own}
            for given, taken in factory.renamed:
                if given in passed:
                    passed[taken] = passed.pop(given)
            return self.call(args[0], [], passed, node, frame)
        builder = builder_for(qualified)
        if builder is not None:
            name = qualified.rsplit(".", 1)[-1]
            return builders.build(builder, name, args, kwargs, node, tuple(self.guards))
        return self.unknown_call(frame.module.code(node.func), args, kwargs, node, frame.module)

    def registry_build(self, node: cst.Call, frame: Frame) -> Any:
        """`MODELS.build(act_cfg)` (reslint.knowledge.frameworks.is_registry_build): the torch.nn
        activation the config's `type` names, built with the config's other entries; a config that
        is a parameter's default (`act_cfg=dict(type="ReLU")`) builds the default's, as the
        framework builders read `act_cfg`. Anything else the registry may build is unknown."""
        args, kwargs = self.arguments(node, frame)
        config = args[0] if len(args) == 1 and not kwargs else kwargs.get("cfg")
        parameter = config.name if isinstance(config, Param) else ""
        if isinstance(config, Param):
            config = config.default
        chosen = config.items.get("type") if isinstance(config, DictValue) else None
        if (
            not isinstance(config, DictValue)
            or config.open_ended
            or chosen not in REGISTERED_TORCH_ACTIVATIONS
        ):
            return UNKNOWN
        settings = {key: value for key, value in config.items.items() if key != "type"}
        layer = self.torch_layer(chosen, [], settings, node)
        layer.default_of = parameter
        return layer

    def torch_layer(
        self, type_name: str, args: list[Any], kwargs: dict[str, Any], node: cst.Call
    ) -> Layer:
        kind, names = TORCH_LAYERS[type_name]
        if kind in CONTAINER_KINDS:
            children = _children(args, kwargs)
            return Layer(kind, type_name, node, {}, children, guards=tuple(self.guards))
        bound = dict(zip(names, args))
        bound.update(kwargs)
        if kind in ("conv", "linear"):
            bound.setdefault("bias", True)
        if kind == "conv":
            for name, default in (("stride", 1), ("groups", 1), ("dilation", 1), ("padding", 0)):
                bound.setdefault(name, symbolic.const(default))
        if kind == "globalpool" and not _pools_to_one(bound.get("output_size")):
            kind = (
                "pool"  # AdaptiveAvgPool2d((6, 6)) keeps a map: the classifier sees C * 36 features
            )
        return Layer(kind, type_name, node, bound, guards=tuple(self.guards))

    def construct(
        self, cls: Any, args: list[Any], kwargs: dict[str, Any], node: cst.Call, frame: Frame
    ) -> Any:
        init = cls.method("__init__")
        bound = (
            self.bind(init, list(args), dict(kwargs), method=True, module=self.project.owner(init))
            if init is not None
            else {}
        )
        kind = "block" if cls.is_module else "object"
        channels = bound.get(cls.channel_norm_parameter or "")
        if isinstance(channels, Expr):
            # A norm of the file's own (ConvNeXt's channels-first LayerNorm): it takes that many.
            kind, bound = LayerKind.NORM, {**bound, "num_features": channels}
        layer = Layer(kind, cls.name, node, bound, cls=cls, guards=tuple(self.guards))
        layer.decided = tuple(frame.decided.values())
        self.constructed.append(layer)
        if cls.torch_conv_base is not None:
            return self._as_torch_conv(layer, cls.torch_conv_base, node)
        return layer

    def _as_torch_conv(self, layer: Layer, base: str, node: cst.Call) -> Layer:
        """A class of the file that is a torch convolution (weight standardization, "same"
        padding): the convolution its `super().__init__` builds."""
        instance = layer.instance
        if instance is None or instance.torch_base_init is None:
            return layer
        args, kwargs = instance.torch_base_init
        conv = self.torch_layer(base, args, kwargs, node)
        conv.type_name, conv.guards = layer.type_name, layer.guards
        # A setting the class assigns itself after the base's init (`self.padding =
        # (self.kernel_size[0] // 2, ...)`, the "auto padding" conv) is the one the layer runs with.
        for name in conv.args.keys() & instance.attrs.keys():
            value = instance.attrs[name]
            conv.args[name] = value if isinstance(value, Expr) else UNKNOWN
        return conv

    def call_builtin(
        self, name: str, args: list[Any], kwargs: dict[str, Any], node: cst.Call, frame: Frame
    ) -> Any:
        text = frame.module.code(node)
        if name in NUMERIC_BUILTINS and args and all(isinstance(a, Expr) for a in args):
            if name in ("float", "abs"):
                return args[0]
            return symbolic.combine(name, list(args), text)
        if name == "range":
            start, stop = (
                (args[0], args[1])
                if len(args) >= 2
                else (symbolic.const(0), args[0] if args else UNKNOWN)
            )
            return RangeValue(start, stop)
        if name in ("list", "tuple") and args:
            return args[0] if isinstance(args[0], ListValue) else ListValue([], True)
        if name == "dict" and len(args) <= 1:
            return _dict_call(args[0] if args else DictValue(), kwargs)
        if name == "len" and args and isinstance(args[0], ListValue) and not args[0].open_ended:
            return symbolic.const(len(args[0].items), text)
        if name == "zip" and args and all(_is_container(a) for a in args):
            # `zip(self.convs, self.bns)`: a ModuleList or Sequential yields its children in order,
            # as many as a loop of unknown count built (so, open-ended). Not zipped with a list of
            # tensors (`zip(self.stages, features)`): how many pairs that makes is unknown.
            args = [_children_list(a) for a in args]
        if name in ("enumerate", "zip") and args and all(isinstance(a, ListValue) for a in args):
            columns = [
                [symbolic.const(i) for i in range(len(args[0].items))],
                *[a.items for a in args],
            ]
            if name == "zip":
                columns = columns[1:]
            return ListValue(
                [ListValue(list(row)) for row in zip(*columns)],
                any(a.open_ended for a in args),
            )
        instance = frame.instance
        if (
            instance is not None
            and name in ("getattr", "setattr", "delattr")
            and len(args) >= 2
            and args[0] is instance
        ):
            if name == "getattr" and isinstance(args[1], NamePattern):
                instance.read_by_pattern.add(args[1])  # `getattr(self, f"layer{i}")`
            elif not isinstance(args[1], str):
                instance.dynamic_access = True  # `getattr(self, name)`: any attribute may be meant
        if name == "getattr" and len(args) >= 2 and isinstance(args[1], Param):
            # `getattr(nn, activation)()` with `activation: str = "ReLU"`: the default's layer.
            args = [args[0], args[1].default, *args[2:]]
        if name == "getattr" and len(args) >= 2 and isinstance(args[1], str):
            if frame.instance is not None and args[0] is frame.instance:
                frame.instance.read_by_name.add(args[1])
                if (
                    len(args) >= 3
                    and args[1] not in frame.instance.attrs
                    and never_set(args[1], frame.instance.cls, frame.module)
                ):
                    return args[2]  # `getattr(self, "lateral", [0, 0])`: nothing sets it here
                return frame.instance.attribute(args[1], self)
            if isinstance(args[0], TorchRef):  # getattr(nn, "ReLU")
                return TorchRef(f"{args[0].qualified}.{args[1]}")
            if isinstance(args[0], ModuleRef):
                return args[0].module.global_value(args[1])
        if (
            name == "setattr"
            and len(args) == 3
            and isinstance(args[1], str)
            and args[0] is frame.instance
        ):
            frame.instance.set_attribute(args[1], args[2], node, node)
            return None
        if name == "exec":
            _exec_may_change(frame)
            return None
        if name == "super":
            return SuperRef(frame.instance, frame.module.class_of(frame.function))
        if name == "isinstance" and len(args) == 2:
            return _isinstance_of_builtin(args[0], args[1])
        return UNKNOWN

    def call_method(self, receiver: Any, name: str, node: cst.Call, frame: Frame) -> Any:
        """Methods on values (`layers.append`, `x.view`, `super().__init__`); NotImplemented if not one."""
        if isinstance(receiver, SuperRef):
            if name == "__init__":
                self.call_super_init(receiver, node, frame)
            return None
        lists = options(receiver)
        if all(isinstance(o, ListValue) for o in lists) and name in ("append", "extend", "insert"):
            # every list a condition may have chosen (`layers = [...] if deep else [...]`) grows
            args, _ = self.arguments(node, frame)
            for chosen in lists:
                _fill_list(chosen, name, args)
            return None
        if (
            name in CONTAINER_VIEWS
            and isinstance(receiver, Layer)
            and receiver.kind in CONTAINER_KINDS
        ):
            # `for layer in self.branch.values(): out = layer(out)`: the children, in order.
            return _container_view(receiver, name)
        if name == "forward" and _all_layers(receiver):
            # `self.conv.forward(x)`: the layer's computation, called without its hooks.
            args, kwargs = self.arguments(node, frame)
            return self.call(receiver, args, kwargs, node, frame)
        if isinstance(receiver, DictValue) and name == "update":
            args, kwargs = self.arguments(node, frame)
            receiver.items.update(kwargs)
            return None
        # Every container the receiver may be (a deep or a plain stem `Sequential`, by a flag).
        containers = [
            o for o in options(receiver) if isinstance(o, Layer) and o.kind in ORDERED_CONTAINERS
        ]
        if containers and len(containers) == len(options(receiver)) and name in CONTAINER_FILLERS:
            args, _ = self.arguments(node, frame)
            # a module reslint cannot see still sits in the chain: it is unknown, not absent
            for container in containers if args else []:
                added = _children(args[-1:], {})
                container.children.extend(added)
                for child in added:
                    container.fills.setdefault(id(child), []).append(tuple(self.guards))
            return None
        if isinstance(receiver, Layer) and receiver.kind == "moduledict" and name == "update":
            # `self.stages.update({f"stage{i}": stage})`: entries added in order, named by their keys
            args, kwargs = self.arguments(node, frame)
            receiver.children.extend(_children(args[:1], kwargs))
            return None
        if isinstance(receiver, str) and name == "format":
            args, kwargs = self.arguments(node, frame)
            return _formatted(receiver, args, kwargs)
        if (
            frame.instance is not None
            and receiver is frame.instance
            and name == "children"
            and frame.instance.cls.method(name) is None
        ):
            # `for layer in self.children(): out = layer(out)`: the modules, as registered.
            children = frame.instance.registered_children()
            return children if children is not None else UNKNOWN
        if frame.instance is not None and receiver is frame.instance and name == "__getattr__":
            # `self.__getattr__(f"convolution_{i}")`: nn.Module's lookup of a submodule, as getattr.
            args, _ = self.arguments(node, frame)
            return self.call_builtin("getattr", [receiver, *args[:1]], {}, node, frame)
        if (
            frame.instance is not None
            and receiver is frame.instance
            and name in ("add_module", "register_module")
        ):
            args, _ = self.arguments(node, frame)
            if len(args) == 2 and isinstance(args[0], str):
                frame.instance.set_attribute(args[0], args[1], node, node)
            return None
        if (
            frame.instance is not None
            and receiver is frame.instance
            and frame.instance.sequential_children is not None
            and name in ("append", "extend", "insert")
            and frame.instance.cls.method(name) is None
        ):
            # nn.Sequential's own methods: `self.append(layer)` runs it last
            args, _ = self.arguments(node, frame)
            frame.instance.sequential_children = _grown(
                frame.instance.sequential_children, name, args
            )
            return None
        if (
            isinstance(receiver, Layer)
            and receiver.type_name in FUNCTIONAL_MODULES
            and name in FUNCTIONAL_METHODS
        ):
            return self.call_functional(name, node, frame)
        if any(isinstance(option, Flow) for option in options(receiver)):
            return self.call_tensor_method(receiver, name, node, frame)
        return NotImplemented

    def call_super_init(self, receiver: SuperRef, node: cst.Call, frame: Frame) -> None:
        """`super().__init__(...)`: runs the next base's `__init__` of the file on the instance."""
        if receiver.instance is None or receiver.start_after is None:
            return
        base = receiver.start_after.local_base_with("__init__")
        if base is None and receiver.instance.cls.torch_conv_base is not None:
            receiver.instance.torch_base_init = self.arguments(node, frame)
        if base is None and receiver.instance.cls.runs_children_in_order:
            receiver.instance.sequential_children = _children(*self.arguments(node, frame))
        if base is not None:
            args, kwargs = self.arguments(node, frame)
            self.call_function(
                base.method("__init__"), args, kwargs, receiver.instance, frame.depth + 1
            )

    def call_tensor_method(self, receiver: Any, name: str, node: cst.Call, frame: Frame) -> Any:
        """`x.relu()`, `x.add(y)`, `x.size()`, `x.view(...)`: a step on the tensor, or its size."""
        kind = TENSOR_METHODS.get(name)
        if kind == "add":
            args, _ = self.arguments(node, frame)
            if args and _is_tensor(args[0]):
                return self.add(receiver, args[0], node)
        if name == "size":
            return TensorSize(receiver)
        if name in ("dim", "numel"):
            return UNKNOWN
        if kind == "mul":  # `x.mul(self.gamma)`: the factor decides whether the sign survives
            args, _ = self.arguments(node, frame)
            return self.apply_step(receiver, Step(kind, node, None, name, args=tuple(args[:1])))
        return self.apply_step(receiver, Step(kind or "call", node, None, name))

    def call_functional(self, name: str, node: cst.Call, frame: Frame) -> Any:
        """`self.skip_add_relu.add_relu(out, identity)`: the tensor operators a quantization
        FloatFunctional stands for, applied in order (the residual sum, then its ReLU)."""
        args, _ = self.arguments(node, frame)
        if len(args) < 2 or not (_is_tensor(args[0]) and _is_tensor(args[1])):
            return self.call(UNKNOWN, args, {}, node, frame)
        text = frame.module.code(node.func)
        first, *rest = FUNCTIONAL_METHODS[name]
        result = (
            self.add(args[0], args[1], node)
            if first == "add"
            else self.apply_step(args[0], Step(first, node, None, text))
        )
        for kind in rest:
            result = self.apply_step(result, Step(kind, node, None, text))
        return result


# ----- helpers ---------------------------------------------------------------------------------


def _container_view(container: Layer, method: str) -> ListValue:
    """`self.branch.values()`, `.items()`, `.keys()`, `.children()`, `.named_children()`: the children
    in insertion order, with their names where the method pairs them (a name reslint did not read
    stays unknown)."""
    children: list[Any] = list(container.children)
    if method in ("values", "children"):
        return ListValue(children, False, None)
    names: list[Any] = [child.label or UNKNOWN for child in container.children]
    if method == "keys":
        return ListValue(names, False, None)
    return ListValue([ListValue([n, c], False, None) for n, c in zip(names, children)], False, None)


def _grown(children: list[Layer], name: str, args: list[Any]) -> list[Layer] | None:
    """An nn.Sequential's modules after its `append(module)` or `extend(modules)`; None (not
    followed) after an insert, or an extend by modules of unknown number."""
    closed = bool(args) and isinstance(args[0], ListValue) and not args[0].open_ended
    if (name == "append" and args) or (name == "extend" and closed):
        return children + _children(args[:1], {})
    return None


def _is_container(value: Any) -> bool:
    return isinstance(value, Layer) and value.kind in ("modulelist", "sequential")


def _children_list(container: Layer) -> ListValue:
    return ListValue(list(container.children), open_ended=True)


def _all_layers(value: Any) -> bool:
    found = options(value)
    return bool(found) and all(isinstance(o, Layer) for o in found)


def _boolean(node: cst.BooleanOperation, left_value: Any, right_value: Any) -> Any:
    """`left and right` or `left or right`, from the values of its operands."""
    left, right = truth(left_value), truth(right_value)
    conjunction = isinstance(node.operator, cst.And)
    if isinstance(left_value, Param) and left_value.default is None:
        # An argument nobody passed, None by default (`conv_layer = conv_layer or StdConv2d`).
        left = False
    if _is_size_term(left_value) and left is None:
        # a size the caller gives (`out_chs = out_chs or in_chs`): a positive number
        left = True
    # Python gives the operand that decided, not a bool (`out_chs = out_chs or in_chs`); where
    # the left one is undecided, only a truth value is known, and only for conditions.
    logical = isinstance(left_value, bool | Condition)
    if conjunction:
        if left is False:
            return left_value if not isinstance(left_value, Param) else None
        if left is True:
            return right_value  # `i == 0 and in_planes`: the right operand, whatever it is
        if right is False:
            return False if logical else UNKNOWN
    else:
        if left is True:
            return left_value
        if left is False:
            return right_value
        if right is True:
            return True if logical else UNKNOWN
    undecided = [v for v, t in ((left_value, left), (right_value, right)) if t is None]
    if not any(isinstance(v, Condition) for v in undecided):
        return UNKNOWN
    parts = tuple(v if isinstance(v, Condition) else None for v in undecided)
    return parts[0] if len(parts) == 1 else Connective("and" if conjunction else "or", parts, node)


def _is_size_symbol(value: Any) -> bool:
    """A parameter standing for a size, whose known values do not include zero."""
    return isinstance(value, Expr) and value.op == "var" and 0 not in value.domain


def _is_size_term(value: Any) -> bool:
    """A size symbol, or a product or sum of such sizes and positive numbers (`16 * width`): a
    positive number too."""
    if not isinstance(value, Expr):
        return False
    if value.constant is not None:
        return value.constant > 0
    if value.op in ("*", "+"):
        return all(_is_size_term(arg) for arg in value.args)
    return _is_size_symbol(value)


def truth(value: Any) -> bool | None:
    if value is True or value is False:
        return value
    if value is None:
        return False
    if isinstance(value, TorchRef | ClassRef | LayerClass | Partial | FunctionRef | Lambda):
        return True  # a class or a function
    if isinstance(value, Expr) and value.constant is not None:
        return bool(value.constant)
    if isinstance(value, str):
        return bool(value)
    if isinstance(value, Layer) and _always_true(value):
        return True  # `if self.comb_iter_4_right:` where the attribute holds a built layer
    return None


# Layer kinds whose modules define no `__len__` or `__bool__`: a built one is always true.
_TRUTHY_KINDS = frozenset(
    {
        LayerKind.CONV,
        LayerKind.BATCHNORM,
        LayerKind.NORM,
        LayerKind.LINEAR,
        LayerKind.ACT,
        LayerKind.POOL,
        LayerKind.AVGPOOL,
        LayerKind.GLOBALPOOL,
        LayerKind.DROPOUT,
        LayerKind.IDENTITY,
        LayerKind.FLATTEN,
        LayerKind.PAD,
        LayerKind.UPSAMPLE,
    }
)


def _always_true(layer: Layer) -> bool:
    """A torch layer, or an instance of one of the file's classes that is no container and does
    not define its own truth: containers are false when empty."""
    if layer.kind == LayerKind.BLOCK:
        cls = layer.cls
        return (
            cls is not None
            and not cls.is_container
            and not cls.has_unresolved_bases
            and cls.method("__len__") is None
            and cls.method("__bool__") is None
        )
    return layer.kind in _TRUTHY_KINDS


def compare(op: str, left: Any, right: Any) -> Any:
    if isinstance(left, ClassRef) and isinstance(right, ClassRef) and op in CLASS_IDENTITY:
        # `if block == BasicBlock:` in a stage helper: which block class the factory passed
        return (left.cls is right.cls) is CLASS_IDENTITY[op]
    if op in ("Is", "IsNot"):
        result = _is_none(left) if right is None else (_is_none(right) if left is None else UNKNOWN)
        if result is UNKNOWN:
            return UNKNOWN
        return result if op == "Is" else not result
    if isinstance(left, Expr) and isinstance(right, Expr):
        return _compare_sizes(op, left, right)
    if isinstance(left, str) and isinstance(right, str):
        return {
            "Equal": left == right,
            "NotEqual": left != right,
            "In": left in right,
            "NotIn": left not in right,
        }.get(op, UNKNOWN)
    if op in ("In", "NotIn") and isinstance(right, ListValue):
        return _membership(op, left, right)
    return UNKNOWN


def _compare_sizes(op: str, left: Expr, right: Expr) -> Any:
    """Two sizes: decided on their values when both are numbers, else on their symbolic relation."""
    a, b = left.constant, right.constant
    if a is not None and b is not None:
        return {
            "Equal": a == b,
            "NotEqual": a != b,
            "LessThan": a < b,
            "GreaterThan": a > b,
            "LessThanEqual": a <= b,
            "GreaterThanEqual": a >= b,
        }.get(op, UNKNOWN)
    if (a is None) != (b is None):
        # A free size against a number: the samples never hit that number, which proves nothing
        # (`groups != 1` with `groups` unknown may go either way).
        return UNKNOWN
    relation = symbolic.relation(left, right)
    if op == "Equal" and relation is not Relation.UNKNOWN:
        return relation is Relation.EQUAL
    if op == "NotEqual" and relation is not Relation.UNKNOWN:
        return relation is Relation.DIFFERENT
    return UNKNOWN


def _membership(op: str, left: Any, right: ListValue) -> Any:
    """`stride in (1, 2)`: decided when the number and every item of a closed list are known."""
    if right.open_ended or not isinstance(left, Expr) or left.constant is None:
        return UNKNOWN
    constants = [item.constant for item in right.items if isinstance(item, Expr)]
    if len(constants) == len(right.items) and None not in constants:
        inside = left.constant in constants
        return inside if op == "In" else not inside
    return UNKNOWN


def _is_none(value: Any) -> Any:
    if value is None:
        return True
    if isinstance(value, Param):
        return UNKNOWN
    if isinstance(value, Alt):
        results = {_is_none(option) for option in value.options}
        return results.pop() if len(results) == 1 else UNKNOWN
    if value is UNKNOWN:
        return UNKNOWN
    return False


def first_items(iterable: Any, every: bool = False) -> list[Any]:
    """What a loop would see: every item of a short loop whose length is known, else the first two,
    which is what builders need (the first block of a stage differs, the rest repeat). `every`:
    each iteration reaches another layer, so a counted loop runs in full (up to MAX_LOOP)."""
    if isinstance(iterable, Alt):
        per_option = [first_items(option, every) for option in iterable.options]
        length = max(len(items) for items in per_option)
        return [
            alternatives([items[i] for items in per_option if i < len(items)])
            for i in range(length)
        ]
    if isinstance(iterable, RangeValue):
        start = iterable.start
        if isinstance(start, Expr) and start.constant is not None:
            first = int(start.constant)
            stop = iterable.stop.constant if isinstance(iterable.stop, Expr) else None
            if stop is None:
                return [symbolic.const(first), symbolic.const(first + 1)]
            # A counted loop repeats the same body: its first two and its last iteration say it
            # all. A short one is run in full: it is a loop over stages, whose body reads per-stage
            # lists (`downsample_layers[i]` then `stages[i]`), and leaving out an iteration would
            # join stage 1 to stage 3.
            if int(stop) - first <= (MAX_LOOP if every else STAGE_LOOP):
                return [symbolic.const(i) for i in range(first, int(stop))]
            indices = sorted(
                {i for i in (first, first + 1, int(stop) - 1) if first <= i < int(stop)}
            )
            return [symbolic.const(i) for i in indices]
        return [UNKNOWN]
    if isinstance(iterable, ListValue):
        if not iterable.open_ended:
            return iterable.items[:MAX_LOOP]
        items = iterable.items[:2]
        if len(items) < 2:
            items = items + [items[-1] if items else UNKNOWN]
        return items
    if _is_container(iterable):
        return iterable.children[:MAX_LOOP]
    if isinstance(iterable, DictValue):
        return list(iterable.items)[:MAX_LOOP]
    return [UNKNOWN]


def _may_cut_channels(node: cst.Subscript) -> bool:
    """`feature[:, :self.mid_channels]`, `x[:, 0]`: the second index, the channel axis of an NCHW
    tensor, keeps only some channels, so how many come out is not what went in. `x[:, :, ::2]`
    (spatial subsampling) and `x[..., :w]` keep them."""
    parts = [element.slice for element in node.slice]
    if len(parts) < 2 or any(
        isinstance(part, cst.Index) and isinstance(part.value, cst.Ellipsis) for part in parts[:2]
    ):
        return False
    channel = parts[1]
    return not (
        isinstance(channel, cst.Slice)
        and channel.lower is None
        and channel.upper is None
        and channel.step is None
    )


def _counted_without_end(iterable: Any) -> bool:
    """A loop of unknown count: a `range` to a size not known, or a list of unknown length (the
    children of a ModuleList that a loop built, zipped)."""
    if isinstance(iterable, ListValue):
        return iterable.open_ended
    return isinstance(iterable, RangeValue) and not (
        isinstance(iterable.stop, Expr) and iterable.stop.constant is not None
    )


def _names_by_loop_variable(node: cst.For) -> bool:
    """The body formats the loop variable into a string (`f"enc{i}"`): a name it looks up."""
    return _loop_variable_within(node, (cst.FormattedStringExpression,))


def _picks_by_loop_variable(node: cst.For) -> bool:
    """The body names something by the loop variable (`getattr(self, f"dec{i + 1}")`,
    `self.blocks[i]`): each iteration applies another layer, and running only the first two and the
    last would join layers that never meet (dec2 into dec7)."""
    return _loop_variable_within(node, (cst.FormattedStringExpression, cst.SubscriptElement))


def _loop_variable_within(node: cst.For, kinds: tuple[type[cst.CSTNode], ...]) -> bool:
    if not isinstance(node.target, cst.Name):
        return False
    variable = node.target.value
    return any(
        isinstance(part, kinds)
        and any(isinstance(name, cst.Name) and name.value == variable for name in descendants(part))
        for part in descendants(node.body)
    )


# What a value reslint built can be tested against with isinstance() and get a certain answer.
PLAIN_TYPES = {"str": str, "int": int, "float": float, "list": list, "tuple": tuple, "dict": dict}


def _isinstance_of_builtin(value: Any, types: Any) -> Any:
    """`isinstance(block, str)` on a class, layer or function passed in: False (monai's
    `if isinstance(block, str): block = ResNetBottleneck if block == "bottleneck" ...`); on a string
    reslint read, decided too. Anything else: unknown."""
    wanted = types.items if isinstance(types, ListValue) and not types.open_ended else [types]
    if len(wanted) == 1 and isinstance(wanted[0], TorchRef):
        return _isinstance_of_torch_layer(value, wanted[0])
    if not all(isinstance(t, Builtin) and t.name in PLAIN_TYPES for t in wanted):
        return UNKNOWN
    if isinstance(value, (ClassRef, Layer, FunctionRef)):
        return False
    if isinstance(value, str):
        return any(PLAIN_TYPES[t.name] is str for t in wanted)
    return UNKNOWN


def _passed_norm_channels(args: list[Any]) -> dict[str, Any]:
    """The channels of a norm class the caller passes (`norm_layer(outplanes)`): every norm class
    made to be passed so (BatchNorm2d, `partial(nn.GroupNorm, 32)`, timm's BatchNormAct2d) takes them
    as its one positional argument; two of them (`norm_layer(32, planes)`) say nothing sure."""
    if len(args) == 1 and isinstance(args[0], Expr):
        return {"num_features": args[0]}
    return {}


def _isinstance_of_torch_layer(value: Any, torch_class: TorchRef) -> Any:
    """`isinstance(self.layer1, nn.Identity)` on a torch layer reslint built (an `nn.Sequential`):
    decided by its class. torch's layer classes do not derive from one another, except the lazy ones
    from the class they become; anything else (a class of the file, a base like `_BatchNorm`) is
    unknown."""
    wanted = torch_class.qualified.removeprefix("torch.nn.")
    if not isinstance(value, Layer) or value.cls is not None or value.built_by:
        return UNKNOWN
    if wanted not in TORCH_LAYERS or value.type_name not in TORCH_LAYERS:
        return UNKNOWN
    if value.type_name.startswith("Lazy"):
        return UNKNOWN
    return value.type_name == wanted


def _reads_target(element: cst.BaseExpression, target: cst.BaseAssignTargetExpression) -> bool:
    """The comprehension's element reads one of its loop variables (it differs item by item)."""
    bound = {node.value for node in descendants(target) if isinstance(node, cst.Name)}
    return any(isinstance(node, cst.Name) and node.value in bound for node in descendants(element))


def _counted(iterable: Any) -> int | None:
    """How many numbers a `range` with known bounds yields."""
    if not isinstance(iterable, RangeValue):
        return None
    bounds = [getattr(end, "constant", None) for end in (iterable.start, iterable.stop)]
    if bounds[0] is None or bounds[1] is None:
        return None
    return max(int(bounds[1]) - int(bounds[0]), 0)


def _maps_a_known_list(comp: cst.CompFor, iterable: Any) -> bool:
    """A comprehension that maps each item of a list of known length, one for one (no filter)."""
    return (
        isinstance(iterable, ListValue)
        and not iterable.open_ended
        and len(iterable.items) <= MAX_LOOP
        and not comp.ifs
        and comp.inner_for_in is None
    )


def _children(args: list[Any], kwargs: dict[str, Any]) -> list[Layer]:
    items: list[Any] = []
    for arg in args:
        if isinstance(arg, ListValue):
            items.extend(arg.items)
            if arg.varying:
                items.append(UNKNOWN)  # the later items differ: what the last outputs is unknown
        elif isinstance(arg, DictValue):
            for key, value in arg.items.items():
                if isinstance(value, Layer) and not value.label and isinstance(key, str):
                    value.label = key
                items.append(value)
            if arg.open_ended:
                items.append(UNKNOWN)  # entries reslint could not name sit somewhere in the chain
        else:
            items.append(arg)
    children = []
    for item in items:
        for option in options(item):
            if isinstance(option, Layer):
                children.append(option)
                break
        else:
            children.append(Layer("unknown", "?", getattr(item, "node", None) or cst.Name("_")))
    return children


def _item(items: ListValue, index: int) -> Any:
    if -len(items.items) <= index < len(items.items) and not (items.open_ended and index < 0):
        return items.items[index]
    return UNKNOWN


def _framework_subscript(base: TorchRef, node: cst.Subscript, key: Any, guards: tuple) -> Any:
    """`Conv[Conv.CONV, spatial_dims]` (monai) is a torch layer class; `ACT2FN["gelu"]` (transformers)
    an activation, named by its key where that is known (`activation: str = "relu"`)."""
    if is_activation_instances(base.qualified):
        name = key.default if isinstance(key, Param) else key
        type_name = name if isinstance(name, str) else UNNAMED_ACTIVATION
        layer = Layer("act", type_name, node, {}, guards=guards, built_by=base.short)
        layer.default_of = key.name if isinstance(key, Param) else ""
        return layer
    members = factory_subscript(base.qualified)
    if members is None or not node.slice or not isinstance(node.slice[0].slice, cst.Index):
        return UNKNOWN
    first = node.slice[0].slice.value
    member = first.attr.value if isinstance(first, cst.Attribute) else None
    if member is None and isinstance(key, str):
        member = key.upper()  # monai's `Act["elu"]`: the factory looks names up case-blind
    type_name = members.get(member or "")
    return TorchRef(f"torch.nn.{type_name}") if type_name else UNKNOWN


def _rounded(
    parameters: tuple[tuple[str, float | None], ...],
    args: list[Any],
    kwargs: dict[str, Any],
    text: str,
) -> Any:
    """`make_divisible(v, 8)` as a size: the value, divisor, floor and round-down limit."""
    bound = dict(zip((name for name, _ in parameters), args)) | kwargs
    values = []
    for name, default in parameters:
        value = bound.get(name)
        if value is None:
            value = symbolic.const(default) if default is not None else None
        values.append(value)
    if len(values) < 4:
        values.append(symbolic.const(0.9))  # torchvision's formula keeps the 90% limit
    value, divisor, least, limit = values
    if value is None or divisor is None:
        return UNKNOWN
    least = least if least is not None else divisor
    if not all(isinstance(v, Expr) for v in (value, divisor, least, limit)):
        return UNKNOWN
    return symbolic.combine("divisible", [value, divisor, least, limit], text)


def _dict_key(value: Any) -> str | float | None:
    """A dict key reslint can compare: a string or a known number (`{50: (3, 4, 6, 3)}[depth]`)."""
    if isinstance(value, str):
        return value
    if isinstance(value, Expr):
        return value.constant
    return None


def _repeated(value: Any, count: int) -> Any:
    """A value repeated into a tuple by timm's helpers; a sequence is kept as it is."""
    if isinstance(value, ListValue):
        return value
    if value is UNKNOWN or isinstance(value, (Alt, Param, DictValue)):
        return UNKNOWN  # may be a sequence
    return ListValue([value] * count)


def _dict_call(mapping: Any, kwargs: dict[str, Any]) -> DictValue:
    """`dict(model_args, **kwargs)`, `dict(block=Bottleneck, layers=[3, 4, 6, 3])`: the mapping's
    items updated by the keywords; open-ended where a part is not known."""
    if isinstance(mapping, ListValue):
        mapping = _ordered_dict([mapping])
    result = (
        DictValue(dict(mapping.items), mapping.open_ended)
        if isinstance(mapping, DictValue)
        else DictValue(open_ended=True)
    )
    for key, value in kwargs.items():
        if key == OPEN_KWARGS:
            result.open_ended = True
        else:
            result.items[key] = value
    return result


def _ordered_dict(args: list[Any]) -> DictValue:
    """`OrderedDict([("conv", ...), ...])`, or `OrderedDict({"conv": ..., ...})` (a dict keeps its
    order). Pairs reslint cannot name, or a list it did not follow to its end (stages appended in a
    loop over `zip(...)`), leave entries unknown: open-ended."""
    result = DictValue()
    if not args:
        return result
    pairs = args[0]
    if isinstance(pairs, DictValue):
        result.items, result.open_ended = dict(pairs.items), pairs.open_ended
        return result
    if not isinstance(pairs, ListValue) or pairs.open_ended or pairs.varying:
        result.open_ended = True
    for pair in pairs.items if isinstance(pairs, ListValue) else ():
        if isinstance(pair, ListValue) and len(pair.items) == 2 and isinstance(pair.items[0], str):
            result.items[pair.items[0]] = pair.items[1]
        else:
            result.open_ended = True
    return result


def _set_site(value: Any, node: cst.CSTNode, created_inside) -> None:
    for option in options(value):
        if isinstance(option, Layer) and (option.site is None and created_inside(option.node)):
            option.site = node
        elif isinstance(option, Layer) and option.site is not None and created_inside(option.site):
            option.site = node


def _pools_to_one(size: Any) -> bool:
    sizes = size.items if isinstance(size, ListValue) else [size]
    return bool(sizes) and all(isinstance(s, Expr) and s.constant == 1 for s in sizes)


def _may_have_changed(values: list[Any]) -> None:
    """A list or dict handed to a function reslint cannot see may come back changed."""
    for value in values:
        if isinstance(value, (ListValue, DictValue)):
            value.open_ended = True


def _exec_may_change(frame: Frame) -> None:
    """`exec("self.layer{} = ...".format(i))`: code in a string may set any attribute and fill any
    list or dict the frame reaches, so none of them is known to be complete."""
    reached = list(frame.locals.values())
    if frame.instance is not None:
        frame.instance.dynamic_access = True
        reached += frame.instance.attrs.values()
    _may_have_changed(reached)


def _returns_tuple(function: cst.FunctionDef) -> bool:
    """Whether forward returns a tuple literal somewhere (`return x, x_pre_activ`)."""
    return any(
        isinstance(node, cst.Return) and isinstance(node.value, cst.Tuple)
        for node in own_code(function)
    )


def _continued(flow: Any, element: Any) -> Any:
    """A tensor a block returned (`element`, a flow from the block's input) continued from the
    caller's tensor `flow`: UNKNOWN unless every way it was made is a straight chain from the input."""
    made = options(element)
    if not all(isinstance(option, Flow) and option.origin == "input" for option in made):
        return UNKNOWN
    continued = []
    for start in options(flow):
        if not isinstance(start, Flow):
            return UNKNOWN
        for option in made:
            tensor = start
            for step in option.steps:
                tensor = tensor.then(step)
            for guard in option.path:
                tensor = tensor.through(guard)
            continued.append(tensor)
    return alternatives(continued)


def _preserves(step: Step) -> bool:
    kind = step.layer.kind if step.layer is not None else step.kind
    return kind in CHANNEL_PRESERVING or kind == "subsample"


def _unpacked_choices(node: cst.Call, values: list[Any]) -> list[list[Any]]:
    """The call's argument values once per list its first `*lists` may be, when that is one of
    several lists a condition chose between; else the values as they are."""
    for index, (arg, value) in enumerate(zip(node.args, values)):
        if arg.star == "*" and isinstance(value, Alt):
            if all(isinstance(option, ListValue) for option in value.options):
                return [[*values[:index], option, *values[index + 1 :]] for option in value.options]
    return [values]


def _fill_list(receiver: ListValue, name: str, args: list[Any]) -> None:
    """`layers.append(block)`, `.extend(more)`, `.insert(i, block)` on a list the interpreter follows;
    an insert's position is not followed, so the list is marked open-ended."""
    if name == "append" and args:
        receiver.items.append(args[0])
    elif name == "extend" and args:
        extra = args[0]
        receiver.items.extend(extra.items if isinstance(extra, ListValue) else [])
        receiver.open_ended |= not isinstance(extra, ListValue) or extra.open_ended
    elif name == "insert" and len(args) == 2:
        receiver.open_ended = True
        receiver.items.append(args[1])


def _forwards_last(args: Sequence[cst.Arg], index: int) -> bool:
    """Whether the argument at `index` is a `*rest` or `**rest` with no plain positional argument
    after it (`f(*args, x)` would shift the positions the callee binds)."""
    return bool(args[index].star) and all(
        arg.star or arg.keyword is not None for arg in args[index + 1 :]
    )


def _is_tensor(value: Any) -> bool:
    return any(isinstance(option, Flow) for option in options(value))


def _at_most_once(count: Expr) -> bool:
    """A repeat count that parameters' defaults make 0 or 1 (free sizes count as many)."""
    values = symbolic.at_defaults(count)
    return values is not None and all(value < 2 for value in values)


def _known_or_default(value: Any) -> int | None:
    """An integer bound: a constant, or a parameter's single default value."""
    if not isinstance(value, Expr):
        return None
    known = value.constant if value.constant is not None else None
    if known is None and value.op == "var" and len(value.domain) == 1:
        known = value.domain[0]
    return int(known) if isinstance(known, (int, float)) and known == int(known) else None


def _is_self(node: cst.BaseExpression, frame: Frame) -> bool:
    return (
        frame.instance is not None
        and isinstance(node, cst.Name)
        and frame.locals.get(node.value) is frame.instance
    )


def _ambiguous_binding(func: FunctionRef, call: cst.Call) -> bool:
    """`call` of the file's own function gives one of its parameters two values."""
    bound = func.bound_self is not None and not is_static(func.node)
    return gives_a_parameter_twice(func.node, call, bound)


def is_static(function: cst.FunctionDef) -> bool:
    return any(
        isinstance(d.decorator, cst.Name) and d.decorator.value == "staticmethod"
        for d in function.decorators
    )


def _item_identity(node: cst.Subscript, key: Any, frame: Frame) -> str:
    """What one entry of an unknown list stands for: `dims[2]` wherever the index is known to be 2
    (`dims[i]` in one loop and `dims[i+1]` in another may be the same entry, or not)."""
    if isinstance(key, Expr) and key.constant is not None:
        index = int(key.constant) if key.constant == int(key.constant) else key.constant
        return f"{frame.module.code(node.value)}[{index}]"
    return frame.module.code(node)


def _default_item(base: Any, key: Any) -> tuple:
    """`dims[1]` of a parameter `dims=(48, 96, 192)`: its default entry, as a one-value domain (so
    `dims[0] * 2` and `dims[1]` agree at the defaults, as a per-stage width list is meant to)."""
    if not (isinstance(base, Param) and isinstance(base.default, ListValue)):
        return ()
    if not (isinstance(key, Expr) and key.constant is not None):
        return ()
    index = int(key.constant)
    items = base.default.items
    if not -len(items) <= index < len(items):
        return ()
    item = items[index]
    return (item.constant,) if isinstance(item, Expr) and item.constant is not None else ()


def _domain_for(name: str) -> tuple:
    """Strides are 1 or 2 far more often than anything else; keep both among the samples."""
    return (1, 2) if names_stride(name) else ()


def _item_domain(base: Any, key: Any, text: str) -> tuple:
    """An entry's samples: its default (`dims[1]` of `dims=(48, 96, 192)`), and for an entry of a
    list of strides (`stride[0]` of `stride=[1, 1]`) also 1 and 2: the builders that pass such a
    list pass a strided one for the first block of a stage."""
    default = _default_item(base, key)
    stride = _domain_for(text)
    return tuple(sorted({*default, *stride})) if stride else default


def _snapshot(frame: Frame) -> tuple[dict[str, Any], dict[str, Any] | None, bool, int]:
    attrs = dict(frame.instance.attrs) if frame.instance is not None else None
    return dict(frame.locals), attrs, frame.terminated, len(frame.returns)


def _restore(frame: Frame, snapshot: tuple) -> None:
    locals_, attrs, terminated, _ = snapshot
    frame.locals = dict(locals_)
    if frame.instance is not None and attrs is not None:
        frame.instance.attrs = dict(attrs)
    frame.terminated = terminated


def _size_condition(op: str, left: Any, right: Any, node: cst.CSTNode) -> Any:
    """A comparison of sizes as a condition; a size that differs by path (`stride = 1` under
    `if dilate:`) gives one comparison per value, which decide only when they agree."""
    lefts, rights = options(left), options(right)
    if not all(isinstance(v, Expr) for v in (*lefts, *rights)):
        return UNKNOWN
    parts = tuple(Comparison(op, a, b, node) for a in lefts for b in rights)
    return parts[0] if len(parts) == 1 else Connective("choice", parts, node)


_TEST_NODES = (
    cst.Name,
    cst.BaseNumber,
    cst.SimpleString,
    cst.Comparison,
    cst.BooleanOperation,
    cst.UnaryOperation,
)


def _facts(test: cst.BaseExpression, branch: bool, frame: Frame) -> tuple:
    return branch_facts(test, branch, lambda atom: _stable_atom(atom, frame))


def _stable_atom(node: cst.BaseExpression, frame: Frame) -> object | None:
    """A key for a test part that keeps its value through one forward: a setting read from the
    module (`self.pre_norm`, `self.cfg.mode`) or a parameter still bound to what came in."""
    if isinstance(node, cst.Attribute):
        root: cst.BaseExpression = node
        while isinstance(root, cst.Attribute):
            root = root.value
        if _is_self(root, frame):
            held = frame.instance.attrs.get(node.attr.value) if node.value is root else None
            if isinstance(held, Param):
                # `self.widen = widen`: the setting is the parameter, tested in `__init__` by its
                # own name (`if widen:`) and in forward through self (`if not self.widen:`).
                return ("parameter", id(held))
            return ("self", id(frame.instance), frame.module.code(node))
        return None
    if isinstance(node, cst.Name):
        value = frame.locals.get(node.value)
        if isinstance(value, Param):
            return ("parameter", id(value))
    return None


def _parameter_test(test: cst.BaseExpression, frame: Frame) -> Any:
    """A key for a test made only of names still bound to the parameters they came in as (and
    literals, comparisons, `and`/`or`/`not`): two such tests with one key have one outcome."""
    nodes = list(_nodes(test))
    names = [node for node in nodes if isinstance(node, cst.Name)]
    if not names or not all(isinstance(node, _TEST_NODES) for node in nodes):
        return None
    bound = [frame.locals.get(n.value) for n in names]
    if not all(isinstance(value, Param) for value in bound):
        return None
    return (frame.module.code(test), tuple(id(value) for value in bound))


def _nodes(node: cst.CSTNode) -> Iterator[cst.CSTNode]:
    """The expression nodes of a test (operators and whitespace aside)."""
    yield node
    for child in children(node):  # libcst's own `children` rebuilds the node to list them: slow
        if isinstance(child, cst.BaseExpression):
            yield from _nodes(child)
        elif isinstance(child, cst.ComparisonTarget):
            yield from _nodes(child.comparator)


def _select_sizes(frame: Frame, condition: Condition | None, body: tuple, orelse: tuple) -> None:
    """A size the two ways of a comparison of sizes set differently, when both ways go on: the
    one the comparison picks at each size (`if new_v < 0.9 * v: new_v += divisor`, the rounding
    of a width to a multiple), not merely one of the two."""
    if not isinstance(condition, Comparison) or condition.op not in COMPARISON_SYMBOLS:
        return
    if body[2] or orelse[2]:
        return  # a way that returned: what is left is the other way's
    for name, then in body[0].items():
        otherwise = orelse[0].get(name)
        if isinstance(then, Expr) and isinstance(otherwise, Expr) and then != otherwise:
            frame.locals[name] = symbolic.select(condition, then, otherwise)


def _through(snapshot: tuple, before: tuple, guard: Guard) -> tuple:
    """A branch's locals with the tensors it produced marked as coming through that branch."""
    locals_, attrs, terminated, returns = snapshot
    earlier = before[0]
    marked = {
        name: _flows_through(value, guard) if earlier.get(name) is not value else value
        for name, value in locals_.items()
    }
    return marked, attrs, terminated, returns


def _untouched_through(
    first: tuple, second: tuple, before: tuple, first_guard: Guard, second_guard: Guard
) -> tuple[tuple, tuple]:
    """A tensor one branch changed and the other left alone came through the other branch too:
    `if self._depth >= 2: x = self.stage1(x)` leaves `x` as it was only when the test failed."""
    earlier = before[0]
    marked = [dict(first[0]), dict(second[0])]
    for name, value in earlier.items():
        a, b = first[0].get(name), second[0].get(name)
        if a is value and b is not value:
            marked[0][name] = _flows_through(value, first_guard)
        elif b is value and a is not value:
            marked[1][name] = _flows_through(value, second_guard)
    return (marked[0], *first[1:]), (marked[1], *second[1:])


def _flows_through(value: Any, guard: Guard) -> Any:
    if isinstance(value, Flow):
        return value.through(guard)
    if isinstance(value, Alt) and any(isinstance(o, Flow) for o in value.options):
        return Alt(tuple(o.through(guard) if isinstance(o, Flow) else o for o in value.options))
    return value


def _raises(block: cst.CSTNode | None) -> bool:
    """Whether an `if`'s body or `else` ends with a `raise` (an `elif` chain is not looked into)."""
    body = block.body if isinstance(block, cst.Else) else block
    statements = getattr(body, "body", ())
    last = statements[-1] if isinstance(statements, (list, tuple)) and statements else None
    if isinstance(last, cst.SimpleStatementLine):
        return isinstance(last.body[-1], cst.Raise)
    return isinstance(last, cst.Raise)


def _next_iteration(frame: Frame) -> None:
    """A `continue` ends one iteration of the loop that holds it: the next one runs."""
    if frame.terminated == CONTINUED:
        frame.terminated = False


def _merge(frame: Frame, first: tuple, second: tuple) -> None:
    """Join two branches: a branch that returned or raised drops out; differing values become alternatives."""
    locals_a, attrs_a, done_a, _ = first
    locals_b, attrs_b, done_b, _ = second
    if done_a and not done_b:
        _restore(frame, second)
        return
    if done_b and not done_a:
        _restore(frame, first)
        return
    # Both ended: the code is done, unless one of them only ended the loop's iteration.
    frame.terminated = done_a if done_a == done_b else CONTINUED
    frame.locals = _merge_dicts(locals_a, locals_b)
    if frame.instance is not None and attrs_a is not None and attrs_b is not None:
        frame.instance.attrs = _merge_dicts(attrs_a, attrs_b)


def _join_exits(frame: Frame) -> None:
    """After a run, the instance as every way out of it left it: each `return` reached and the end
    of the body (unless the run ended there by raising)."""
    instance = frame.instance
    if instance is None or not frame.exits:
        return
    states = frame.exits if frame.terminated else [*frame.exits, instance.attrs]
    first = states[0]
    if all(_same_attributes(first, state) for state in states[1:]):
        instance.attrs = first  # one way out, or every way leaves the same (a forward)
        return
    joined = first
    for state in states[1:]:
        joined = _merge_dicts(joined, state)
    instance.attrs = joined


def _same_attributes(a: dict[str, Any], b: dict[str, Any]) -> bool:
    return len(a) == len(b) and all(b.get(name, a) is value for name, value in a.items())


def _merge_dicts(a: dict[str, Any], b: dict[str, Any]) -> dict[str, Any]:
    merged = dict(a)
    for key, value in b.items():
        merged[key] = merge_values(a[key], value) if key in a else value
    return merged


def merge_values(a: Any, b: Any) -> Any:
    if a is b:
        return a
    if isinstance(a, Expr) and isinstance(b, Expr) and a.op == b.op and a.args == b.args:
        return a
    # An argument nobody passed takes the value its `if x is None:` gives it, except a tensor:
    # `if shortcut is None: shortcut = x` keeps the caller's tensor as an option (not forward's input).
    if isinstance(a, Param) and not isinstance(b, Flow):
        return b
    if isinstance(b, Param) and not isinstance(a, Flow):
        return a
    # One branch gives something reslint cannot see: the result is that or the other, never simply
    # the other (a channel count known on one path only is not known).
    return alternatives([a, b])


def _plain_module_class(cls: ClassModel) -> bool:
    """An nn.Module subclass with no metaclass of its own: the class object supports no arithmetic."""
    return cls.is_module and not any(
        keyword.keyword is not None and keyword.keyword.value == "metaclass"
        for ancestor in (cls, *cls.ancestors())
        for keyword in ancestor.node.keywords
    )


def _constant(value: Expr) -> bool:
    return value.constant is not None


def _text_of(value: Any) -> str | None:
    """What a value gives inside a formatted string, None where reslint cannot tell."""
    if isinstance(value, Expr) and value.constant is not None:
        return symbolic.const(value.constant).text
    return value if isinstance(value, str) else None


def _joined(pieces: list[str | None]) -> str | NamePattern:
    """The string the pieces make, or the pattern of those it may be (None: any text)."""
    if all(piece is not None for piece in pieces):
        return "".join(pieces)  # type: ignore[arg-type]
    return NamePattern("".join(".*" if p is None else re.escape(p) for p in pieces))


def _formatted(template: str, args: list[Any], kwargs: dict[str, Any]) -> Any:
    """`"layer{}".format(i + 1)`, as the f-string `f"layer{i + 1}"` would be."""
    pieces: list[str | None] = []
    automatic = 0
    try:
        fields = list(string.Formatter().parse(template))
    except ValueError:
        return UNKNOWN
    for literal, name, spec, conversion in fields:
        pieces.append(literal)
        if name is None:
            continue
        if name == "":
            name, automatic = str(automatic), automatic + 1
        if name.isdigit():
            value = args[int(name)] if int(name) < len(args) else UNKNOWN
        else:
            value = kwargs.get(name, UNKNOWN)
        pieces.append(None if spec or conversion else _text_of(value))
    return _joined(pieces)


def _carried_sizes_as_symbols(
    function: cst.FunctionDef, instance: Instance, module: ModuleModel
) -> None:
    """The running input width the method itself carries from call to call (`self.inplanes = planes
    * expansion` in `_make_layer`) enters each call with what the call before it left: run on its
    own, the method sees any value there, a symbol like its parameters, where reslint could not work
    the value out (a width list the constructor scales, a loop of unknown length)."""
    receiver = self_name(function)
    for store in module.attribute_stores_in_method(function):
        name = store.attr.value
        if (
            isinstance(store.value, cst.Name)
            and store.value.value == receiver
            and instance.attrs.get(name, UNKNOWN) is UNKNOWN
            and RUNNING_CHANNELS.match(name)
        ):
            text = f"{receiver}.{name}"
            instance.attrs[name] = symbolic.var(text, text, _domain_for(text))


# How each statement is run, by its exact type: a dictionary look-up instead of a chain of
# isinstance tests (each failing one goes through libcst's abstract base classes). libcst's node
# classes are never subclassed. A statement missing here does nothing the model tracks.
_STATEMENT_RUNNERS: dict[type, Callable[[Interpreter, Any, Frame], None]] = {
    cst.SimpleStatementLine: Interpreter._run_line,
    cst.If: Interpreter.run_if,
    cst.For: Interpreter.run_for,
    cst.While: Interpreter._run_while,
    cst.With: Interpreter._run_body,
    cst.Try: Interpreter._run_body,
    cst.FunctionDef: Interpreter._run_def,
    cst.IndentedBlock: Interpreter.run_block,
    cst.Assign: Interpreter._run_assign,
    cst.AnnAssign: Interpreter._run_annotated,
    cst.AugAssign: Interpreter._run_augmented,
    cst.Expr: Interpreter._run_expression,
    cst.Return: Interpreter._run_return,
    cst.Raise: Interpreter._run_raise,
    cst.Continue: Interpreter._run_continue,
    cst.Assert: Interpreter.run_assert,
}
