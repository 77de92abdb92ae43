"""Mutation operators: one per bug kind, each yielding every site of a file where it can plant its bug.

Each operator returns `Mutation`s (text edits plus the original lines a correct linter should report
the bug on). `KINDS` is the table the harness iterates over; `codes` are the rule codes (or prefixes) a
finding should carry to count as "found with the expected code family". Codes not allocated yet are
named by the family the ownership brief reserves for them.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass

import libcst as cst
import patterns as p
from sourcetext import Edit, Mutation, Source

Operator = Callable[[Source], Iterator[Mutation]]


@dataclass(frozen=True)
class Kind:
    name: str
    issue: int
    codes: tuple[str, ...]
    description: str
    operator: Operator


def replace(source: Source, node: cst.CSTNode, text: str, marked: bool = False) -> Edit:
    start, end = source.span(node)
    return Edit(start, end, text, marked)


# ---- issue 6 ----------------------------------------------------------------------------------------


def super_wrong_class(source: Source) -> Iterator[Mutation]:
    """`super(Other, self).__init__()` in class C: names a class of the file that is not C's ancestor."""
    classes = p.classes(source)
    names = [cls.name.value for cls in classes]
    for index, cls in enumerate(classes):
        # Naming an ancestor is legal Python (it only skips part of the MRO), so it is not this bug.
        excluded = p.ancestors(cls, classes) | {cls.name.value}
        # The nearest class defined before this one (else after): the one a copy-paste most often names.
        other = next(
            (n for n in names[:index][::-1] + names[index + 1 :] if n not in excluded), None
        )
        if other is None:
            continue
        for call in p.inside(source, cls, cst.Call):
            if p.dotted(call.func) != "super":
                continue
            if not call.args:
                yield Mutation(
                    (replace(source, call, f"super({other}, self)"),), (source.line(call),)
                )
            elif (
                isinstance(call.args[0].value, cst.Name)
                and call.args[0].value.value == cls.name.value
            ):
                yield Mutation((replace(source, call.args[0].value, other),), (source.line(call),))


def bare_downsample(source: Source) -> Iterator[Mutation]:
    """`downsample(x)` for `self.downsample(x)` in forward."""
    for cls in p.classes(source):
        for function in p.forwards(cls):
            for call in p.inside(source, function, cst.Call):
                attribute = p.self_attribute(call.func)
                if attribute and p.SHORTCUT_ATTR.search(attribute):
                    yield Mutation((replace(source, call.func, attribute),), (source.line(call),))


def shortcut_on_branch(source: Source) -> Iterator[Mutation]:
    """`self.downsample(out)` for `self.downsample(x)`: the projection runs on the branch output that
    the addition updates, not on the block input."""
    for cls in p.classes(source):
        for function in p.forwards(cls):
            params = [param.name.value for param in function.params.params[1:]]
            updated = {
                name
                for block in p.blocks(source, function)
                for statement in block
                if (name := p.addition(statement))
            }
            if not params or len(updated) != 1:
                continue
            (branch,) = updated
            for call in p.inside(source, function, cst.Call):
                attribute = p.self_attribute(call.func)
                if not attribute or not p.SHORTCUT_ATTR.search(attribute) or len(call.args) != 1:
                    continue
                argument = call.args[0].value
                if isinstance(argument, cst.Name) and argument.value == params[0] != branch:
                    yield Mutation((replace(source, argument, branch),), (source.line(call),))


def misspelt_identity(source: Source) -> Iterator[Mutation]:
    """A later use (read or re-binding) of the identity variable misspelt: `idnetity = self.downsample(x)`."""
    for cls in p.classes(source):
        for function in p.forwards(cls):
            uses: dict[str, list[cst.Name]] = {}
            for name in p.variables(source, function):
                if p.IDENTITY.match(name.value):
                    uses.setdefault(name.value, []).append(name)
            for variable, names in uses.items():
                wrong = p.misspelt(variable, source.text)
                for name in names[1:] if wrong else ():
                    yield Mutation((replace(source, name, wrong),), (source.line(name),))


OUT_KEYWORDS = {"out_channels", "out_planes", "out_chs", "outplanes", "planes", "out_features"}
IN_KEYWORDS = {"in_channels", "in_planes", "in_chs", "inplanes", "in_features"}


def channel_arguments(call: cst.Call) -> tuple[cst.BaseExpression, cst.BaseExpression] | None:
    """(in-channels, out-channels) argument expressions of a conv-building call."""
    keywords = {arg.keyword.value: arg.value for arg in call.args if arg.keyword}
    positional = [arg.value for arg in call.args if not arg.keyword and not arg.star]
    skip = 1 if p.callee(call) == "build_conv_layer" else 0
    values = positional[skip : skip + 2]
    inward = next(
        (keywords[k] for k in IN_KEYWORDS if k in keywords), values[0] if values else None
    )
    outward = next(
        (keywords[k] for k in OUT_KEYWORDS if k in keywords), values[1] if len(values) > 1 else None
    )
    return (inward, outward) if inward is not None and outward is not None else None


def conv3_wrong_out(source: Source) -> Iterator[Mutation]:
    """Bottleneck `conv3` whose out-channels are its in-channels (it never expands)."""
    for block in p.blocks(source, source.module):
        for index, statement in enumerate(block):
            node = p.small(statement)
            if not isinstance(node, cst.Assign) or not isinstance(node.value, cst.Call):
                continue
            if not any(p.self_attribute(t.target).endswith("conv3") for t in node.targets):
                continue
            arguments = channel_arguments(node.value)
            if arguments is None:
                continue
            following = block[index + 1 : index + 2]
            expected = source.lines(statement) + tuple(source.line(s) for s in following)
            yield Mutation((replace(source, arguments[1], source.code(arguments[0])),), expected)


def norm_after_addition(source: Source) -> Iterator[Mutation]:
    """The last norm before the residual addition moved to just after it."""
    for cls in p.classes(source):
        for function in p.forwards(cls):
            for block in p.blocks(source, function):
                for index, statement in enumerate(block):
                    if not p.addition(statement):
                        continue
                    norms = [s for s in block[:index] if p.self_call_on(s, p.NORM_ATTR)]
                    if not norms:
                        continue
                    norm = norms[-1]
                    removed = source.whole_lines(norm)
                    after = source.whole_lines(statement)
                    if removed is None or after is None:
                        continue
                    moved = source.text[removed[0] : removed[1]]
                    edits = (
                        Edit(removed[0], removed[1], ""),
                        Edit(after[1], after[1], moved, marked=True),
                    )
                    yield Mutation(edits, (source.line(statement),))


def activation_in_shortcut(source: Source) -> Iterator[Mutation]:
    """A ReLU applied to the shortcut: around the call in forward, or appended to its nn.Sequential."""
    relu = (
        "torch.relu"
        if p.imports_name(source, "torch")
        else "F.relu"
        if p.imports_name(source, "F")
        else ""
    )
    for cls in p.classes(source):
        for function in p.forwards(cls):
            for call in p.inside(source, function, cst.Call):
                attribute = p.self_attribute(call.func)
                if relu and attribute and p.SHORTCUT_ATTR.search(attribute):
                    yield Mutation(
                        (replace(source, call, f"{relu}({source.code(call)})", marked=True),)
                    )
    if not p.imports_name(source, "nn"):
        return
    for node in source.walk():
        if (
            isinstance(node, cst.Assign)
            and isinstance(node.value, cst.Call)
            and p.callee(node.value) == "Sequential"
        ):
            target = node.targets[0].target
            name = p.self_attribute(target) or (
                target.value if isinstance(target, cst.Name) else ""
            )
            if name and p.SHORTCUT_ATTR.search(name) and node.value.args:
                at, text = p.insert_argument(source, node.value, "nn.ReLU(inplace=True)")
                yield Mutation((Edit(at, at, text),), source.lines(node))


STRIDED_CALLEES = {
    "Conv1d",
    "Conv2d",
    "Conv3d",
    "build_conv_layer",
    "create_conv2d",
    "conv1x1_block",
    "conv3x3_block",
}


def accepts_stride(source: Source) -> set[str]:
    """Callables that take a `stride` argument: the known builders and the file's own helpers."""
    names = set(STRIDED_CALLEES)
    for node in source.walk():
        if isinstance(node, cst.FunctionDef) and any(
            param.name.value == "stride" for param in node.params.params
        ):
            names.add(node.name.value)
    for cls in p.classes(source):
        init = p.method(cls, "__init__")
        if init and any(param.name.value == "stride" for param in init.params.params):
            names.add(cls.name.value)
    return names


def strided(call: cst.Call) -> bool:
    return any(
        (arg.keyword and arg.keyword.value == "stride" and not isinstance(arg.value, cst.Integer))
        or (not arg.keyword and isinstance(arg.value, cst.Name) and "stride" in arg.value.value)
        for arg in call.args
    )


def constant_stride(call: cst.Call) -> int | None:
    """The stride a call writes as a number (`stride=2`), None where it writes none."""
    for arg in call.args:
        if arg.keyword and arg.keyword.value == "stride" and isinstance(arg.value, cst.Integer):
            return int(arg.value.value, 0)
    return None


def stride_on_second_conv(source: Source) -> Iterator[Mutation]:
    """A second conv of a block given `stride=stride`, so the block downsamples twice."""
    takes_stride = accepts_stride(source)
    for cls in p.classes(source):
        init = p.method(cls, "__init__")
        if init is None or not any(param.name.value == "stride" for param in init.params.params):
            continue
        # A conv that forward applies to a globally pooled 1x1 map (the attention convs of SK and
        # split-attention blocks) keeps it 1x1 at any stride: a stride there is no bug.
        pooled = pooled_map_layers(source, cls)
        convs = [
            c
            for c in p.inside(source, init, cst.Call)
            if p.callee(c) in takes_stride
            and "conv" in p.callee(c).lower()
            and assigned_attribute(source, init, c) not in pooled
        ]
        first = [c for c in convs if strided(c)]
        if not first:
            continue
        for call in convs:
            if strided(call) or constant_stride(call) not in (None, 1):
                continue  # a conv that downsamples already (`stride=2`) is not a second one
            literal = next(
                (a for a in call.args if a.keyword and a.keyword.value == "stride"), None
            )
            if literal is not None:
                edit = replace(source, literal.value, "stride")
            else:
                at, text = p.insert_argument(source, call, "stride=stride")
                edit = Edit(at, at, text)
            expected = source.lines(call) + tuple(line for c in first for line in source.lines(c))
            yield Mutation((edit,), expected)


GLOBAL_POOL_LAYER = re.compile(r"Adaptive(Avg|Max)Pool[123]d\((output_size\s*=\s*)?(1|\(1, 1\))\)")
GLOBAL_POOL_FUNCTION = re.compile(r"adaptive_(avg|max)_pool[123]d$")


def pooled_map_layers(source: Source, cls: cst.ClassDef) -> set[str]:
    """The `self.X` layers forward applies to a globally pooled map (`gap = F.adaptive_avg_pool2d(x,
    1)`, `s = self.pool(u)` with an `AdaptiveAvgPool2d(1)`, `x.mean((2, 3), keepdim=True)`), or to the
    output of such a layer (`gap = self.fc1(gap)` then `self.fc2(gap)`), in source order."""
    pooled: set[str] = set()  # variables that hold a pooled map
    layers: set[str] = set()
    for function in p.forwards(cls):
        for statement in p.inside(source, function, cst.SimpleStatementLine):
            assigned = p.single_target(statement)
            if assigned is None:
                continue
            variable, value = assigned
            call = value if isinstance(value, cst.Call) else None
            attribute = p.self_attribute(call.func) if call else ""
            if call and _global_pool(source, cls, call):
                pooled.add(variable)
            elif attribute and _first_input(call) in pooled:
                layers.add(attribute)
                pooled.add(variable)
            else:
                pooled.discard(variable)
    return layers


def _first_input(node: cst.BaseExpression | None) -> str:
    """The variable a chain of calls starts from: `w` in `self.up(F.relu(w))`, or ''."""
    while isinstance(node, cst.Call) and node.args:
        node = node.args[0].value
    return node.value if isinstance(node, cst.Name) else ""


def _global_pool(source: Source, cls: cst.ClassDef, call: cst.Call) -> bool:
    """A call that pools its input to 1x1: the functional adaptive pools with output size 1, a
    `self.X` built as an adaptive pool of size 1, a mean over the spatial axes kept as a map."""
    name = p.dotted(call.func)
    if GLOBAL_POOL_FUNCTION.search(name):
        size = [a.value for a in call.args if not a.keyword or a.keyword.value == "output_size"]
        return len(size) > 1 and source.code(size[1]) in ("1", "(1, 1)")
    if name.endswith(".mean"):
        return any(
            a.keyword and a.keyword.value == "keepdim" and source.code(a.value) == "True"
            for a in call.args
        )
    attribute = p.self_attribute(call.func)
    built = p.assignments_to_self(source, cls, attribute) if attribute else []
    return bool(built) and all(GLOBAL_POOL_LAYER.search(source.code(s)) for s in built)


def assigned_attribute(source: Source, function: cst.FunctionDef, call: cst.Call) -> str:
    """The `self.X` a statement of `function` assigns `call` to directly, or ''."""
    for statement in p.inside(source, function, cst.Assign):
        if statement.value is call:
            return next(
                (name for t in statement.targets if (name := p.self_attribute(t.target))), ""
            )
    return ""


def padding_on_pointwise_conv(source: Source) -> Iterator[Mutation]:
    """`padding=1` given to a block's own `nn.Conv2d(..., kernel_size=1)` (not its shortcut's): the
    branch grows by 2 pixels and no longer matches what it is added to."""
    for cls in p.classes(source):
        init = p.method(cls, "__init__")
        if init is None or not any(p.has_addition(source, f) for f in p.forwards(cls)):
            continue
        for call in p.inside(source, init, cst.Call):
            if p.dotted(call.func) not in ("nn.Conv2d", "torch.nn.Conv2d") or not _pointwise(call):
                continue
            if any(arg.star for arg in call.args) or _in_shortcut(source, init, call):
                continue
            padding = next(
                (a for a in call.args if a.keyword and a.keyword.value == "padding"), None
            )
            if padding is not None:
                if not (isinstance(padding.value, cst.Integer) and padding.value.value == "0"):
                    continue
                edit = replace(source, padding.value, "1")
            elif len([a for a in call.args if a.keyword is None]) > 4:
                continue  # padding written positionally
            else:
                at, text = p.insert_argument(source, call, "padding=1")
                edit = Edit(at, at, text)
            yield Mutation((edit,), source.lines(call))


def _pointwise(call: cst.Call) -> bool:
    """A literal 1x1 kernel, positional (third) or `kernel_size=1`."""
    positional = [a for a in call.args if a.keyword is None]
    kernel = next((a for a in call.args if a.keyword and a.keyword.value == "kernel_size"), None)
    if kernel is None and len(positional) > 2:
        kernel = positional[2]
    return (
        kernel is not None and isinstance(kernel.value, cst.Integer) and kernel.value.value == "1"
    )


def _in_shortcut(source: Source, init: cst.FunctionDef, call: cst.Call) -> bool:
    """Whether the call is part of a statement that builds the shortcut (`self.downsample = ...`)."""
    for statement in p.inside(source, init, cst.Assign):
        if any(node is call for node in p.inside(source, statement, cst.Call)):
            return any(
                re.search(r"short|down|proj|skip|identity|residual", p.dotted(t.target), re.I)
                for t in statement.targets
            )
    return True  # built elsewhere than in a plain assignment: unknown which side


def activation_before_addition(source: Source) -> Iterator[Mutation]:
    """`out = self.relu(out)` inserted right before `out += identity`."""
    for cls in p.classes(source):
        for function in p.forwards(cls):
            activation = activation_call(source, function)
            if not activation:
                continue
            for block in p.blocks(source, function):
                for statement in block:
                    variable = p.addition(statement)
                    lines = source.whole_lines(statement)
                    # `x = self.proj(x) + self.f(x)`: an activation there runs on the block's
                    # input, which both sides read, not on the branch the sum adds to the shortcut.
                    if variable and lines and not reads_on_both_sides(source, statement, variable):
                        text = f"{source.indent(statement)}{variable} = {activation}({variable})\n"
                        yield Mutation(
                            (Edit(lines[0], lines[0], text, marked=True),),
                            (source.line(statement),),
                        )


def reads_on_both_sides(source: Source, statement: cst.CSTNode, variable: str) -> bool:
    """Whether both operands of the statement's `a + b` read `variable`."""
    assigned = p.single_target(statement)
    value = assigned[1] if assigned else None
    if not isinstance(value, cst.BinaryOperation):
        return False
    return all(
        any(isinstance(n, cst.Name) and n.value == variable for n in source.walk(side))
        for side in (value.left, value.right)
    )


def activation_call(source: Source, function: cst.FunctionDef) -> str:
    """How this forward spells its activation (`self.relu`, `self.act3`, `F.relu`), or ''."""
    for call in p.inside(source, function, cst.Call):
        attribute = p.self_attribute(call.func)
        if attribute and p.ACTIVATION_ATTR.search(attribute):
            return f"self.{attribute}"
        if p.dotted(call.func) in {"F.relu", "torch.relu", "nn.functional.relu"}:
            return p.dotted(call.func)
    return ""


def projection_without_channels(source: Source) -> Iterator[Mutation]:
    """`if stride != 1 or inplanes != planes * 4:` reduced to its stride test (and the `and` form)."""
    for node in source.walk():
        if not isinstance(node, cst.BooleanOperation):
            continue
        operands = flatten_boolean(node)
        mentions = [("stride" in source.code(operand)) for operand in operands]
        if all(mentions) or not any(mentions):
            continue
        # Only a shortcut's test: stride comparisons kept, a channel comparison dropped (not
        # `not self.with_dcn or fallback_on_stride`, nor `stage_type == 'stage' and stride != 1`).
        pairs = list(zip(operands, mentions, strict=True))
        tests = (cst.Comparison, cst.BooleanOperation)
        if not all(isinstance(o, tests) for o, mention in pairs if mention) or not any(
            isinstance(o, cst.Comparison) and p.CHANNEL_WORD.search(source.code(o))
            for o, mention in pairs
            if not mention
        ):
            continue
        kept = [source.code(o) for o, m in zip(operands, mentions, strict=True) if m]
        joiner = " or " if isinstance(node.operator, cst.Or) else " and "
        yield Mutation((replace(source, node, joiner.join(kept)),), source.lines(node))


def flatten_boolean(node: cst.BooleanOperation) -> list[cst.BaseExpression]:
    operands: list[cst.BaseExpression] = []
    for side in (node.left, node.right):
        if (
            isinstance(side, cst.BooleanOperation)
            and type(side.operator) is type(node.operator)
            and not side.lpar
        ):
            operands.extend(flatten_boolean(side))
        else:
            operands.append(side)
    return operands


def inplanes_not_updated(source: Source) -> Iterator[Mutation]:
    """`self.inplanes = planes * block.expansion` (or `in_channels = out_channels` in a loop) deleted."""
    for function in (node for node in source.walk() if isinstance(node, cst.FunctionDef)):
        loops = [loop for loop in p.inside(source, function, cst.For)]
        for block in p.blocks(source, function):
            for statement in block:
                node = p.small(statement)
                if not isinstance(node, cst.Assign) or len(node.targets) != 1:
                    continue
                target = node.targets[0].target
                in_loop = [
                    loop
                    for loop in loops
                    if source.line(loop) < source.line(statement) <= source.end_line(loop)
                ]
                attribute = p.self_attribute(target)
                local = target.value if isinstance(target, cst.Name) and in_loop else ""
                if not p.IN_CHANNELS.match(attribute or local):
                    continue
                if attribute and function.name.value == "__init__" and not in_loop:
                    continue
                edit = p.removal(source, statement, block)
                if edit:
                    anchors = (source.line(function),) + tuple(
                        source.line(loop) for loop in in_loop[-1:]
                    )
                    stale = _stale_reads(
                        source, function, statement, in_loop[-1:], attribute, local
                    )
                    yield Mutation((Edit(*edit),), (source.line(statement), *anchors, *stale))


def _stale_reads(
    source: Source,
    function: cst.FunctionDef,
    statement: cst.CSTNode,
    loop: list[cst.For],
    attribute: str,
    local: str,
) -> tuple[int, ...]:
    """The lines that read the stale width once the update is gone (`block(self.inplanes, ...)`):
    after the deleted statement, or anywhere in its loop (the next iteration reads it). That is
    where the block built with the wrong input channels stands."""
    after = source.end_line(statement)
    start, end = (source.line(loop[0]), source.end_line(loop[0])) if loop else (after, after)
    reads = (
        [a for a in p.inside(source, function, cst.Attribute) if p.self_attribute(a) == attribute]
        if attribute
        else p.reads_in_scope(source, function, local)
    )
    lines = {source.line(read) for read in reads}
    return tuple(sorted(line for line in lines if line > after or start <= line <= end))


def classifier_without_expansion(source: Source) -> Iterator[Mutation]:
    """`nn.Linear(512 * block.expansion, n)` written `nn.Linear(512, n)`."""
    for call in (node for node in source.walk() if isinstance(node, cst.Call)):
        if p.callee(call) != "Linear" or not call.args or _never_used(source, call):
            continue
        first = call.args[0].value
        if isinstance(first, cst.BinaryOperation) and isinstance(first.operator, cst.Multiply):
            sides = (first.left, first.right)
            expansion = ["expansion" in source.code(side) for side in sides]
            if any(expansion) and not all(expansion):
                kept = sides[expansion.index(False)]
                yield Mutation((replace(source, first, source.code(kept)),), source.lines(call))


def _never_used(source: Source, call: cst.Call) -> bool:
    """A layer assigned to `self.X` that nothing in the file reads (`self.fc` of a feature
    extractor whose forward stops at the pooling): its width changes no computation."""
    for statement in (n for n in source.walk() if isinstance(n, cst.Assign)):
        if statement.value is call:
            names = [name for t in statement.targets if (name := p.self_attribute(t.target))]
            return bool(names) and all(
                len(re.findall(rf"\.{re.escape(name)}\b", source.text)) == 1 for name in names
            )
    return False


def uncalled_submodule(source: Source) -> Iterator[Mutation]:
    """The only call of a submodule deleted from forward; report where it is built."""
    for cls in p.classes(source):
        for function in p.forwards(cls):
            for block in p.blocks(source, function):
                for statement in block:
                    node = p.small(statement)
                    value = node.value if isinstance(node, (cst.Assign, cst.Expr)) else None
                    attribute = p.self_attribute(value.func) if isinstance(value, cst.Call) else ""
                    if not attribute or source.code(cls).count(f"self.{attribute}(") != 1:
                        continue
                    built = p.assignments_to_self(source, cls, attribute)
                    edit = p.removal(source, statement, block)
                    if built and edit:
                        yield Mutation(
                            (Edit(*edit),), tuple(line for s in built for line in source.lines(s))
                        )


# ---- issue 7 ----------------------------------------------------------------------------------------

LAYERS_WITH_WEIGHTS = {
    "BatchNorm1d",
    "BatchNorm2d",
    "BatchNorm3d",
    "Conv1d",
    "Conv2d",
    "Conv3d",
    "Linear",
}


def module_built_in_forward(source: Source) -> Iterator[Mutation]:
    """`self.bn1(out)` in forward replaced by `nn.BatchNorm2d(out.shape[1])(out)`: fresh weights each call."""
    if not p.imports_name(source, "nn"):
        return
    for cls in p.classes(source):
        init = p.method(cls, "__init__")
        if init is None:
            continue
        for function in p.forwards(cls):
            for call in p.inside(source, function, cst.Call):
                attribute = p.self_attribute(call.func)
                if (
                    not attribute
                    or len(call.args) != 1
                    or not isinstance(call.args[0].value, cst.Name)
                ):
                    continue
                built = layer_built_as(source, cls, attribute)
                if built is None:
                    continue
                if not built.args or built.args[0].keyword:
                    continue
                argument = call.args[0].value.value
                rest = [source.code(arg) for arg in built.args[1:]]
                if any(re.search(r"\b(?!self\b)[a-z_]\w*\b(?!\s*=)", text) for text in rest):
                    continue  # it reads a local of __init__, which forward cannot see
                arguments = ", ".join([f"{argument}.shape[1]", *rest])
                text = f"nn.{p.callee(built)}({arguments})"
                yield Mutation((replace(source, call.func, text, marked=True),))


def layer_built_as(source: Source, cls: cst.ClassDef, attribute: str) -> cst.Call | None:
    """The `nn.Layer(...)` call that `self.attribute = nn.Layer(...)` builds, when there is exactly one."""
    built = p.assignments_to_self(source, cls, attribute)
    if len(built) != 1:
        return None
    node = p.small(built[0])
    value = node.value if isinstance(node, cst.Assign) else None
    if (
        isinstance(value, cst.Call)
        and p.dotted(value.func).startswith("nn.")
        and p.callee(value) in LAYERS_WITH_WEIGHTS
    ):
        return value
    return None


STATELESS = re.compile(
    r"relu|act|pool|drop|identity|sigmoid|gelu|silu|flatten|quant|add", re.IGNORECASE
)


def module_called_twice(source: Source) -> Iterator[Mutation]:
    """`self.bn2(out)` written `self.bn1(out)`: one module (and its weights) used at two places."""
    for cls in p.classes(source):
        for function in p.forwards(cls):
            seen: dict[str, str] = {}
            for call in p.inside(source, function, cst.Call):
                attribute = p.self_attribute(call.func)
                match = re.fullmatch(r"(.*?)(\d+)", attribute)
                if not match:
                    continue
                stem = match.group(1)
                if STATELESS.search(stem):
                    continue  # calling one ReLU or pool twice shares no weights: not this bug
                if stem in seen and seen[stem] != attribute:
                    built = p.assignments_to_self(source, cls, attribute)
                    expected = (source.line(call),) + tuple(
                        line for s in built for line in source.lines(s)
                    )
                    yield Mutation((replace(source, call.func.attr, seen[stem]),), expected)
                seen.setdefault(stem, attribute)


def activation_removed(source: Source, in_block: bool) -> Iterator[Mutation]:
    """`out = self.relu(out)` right after a norm deleted: in a stem (no addition) or inside a residual
    branch. Where that call was the activation's only one, the line that builds it is named too: "built
    but never applied" reports the same missing activation (as for uncalled-submodule)."""
    for cls in p.classes(source):
        for function in p.forwards(cls):
            if p.has_addition(source, function) != in_block:
                continue
            for block in p.blocks(source, function):
                additions = [i for i, s in enumerate(block) if p.addition(s)]
                for index, statement in enumerate(block[1:], start=1):
                    if not is_activation(statement) or not p.self_call_on(
                        block[index - 1], p.NORM_ATTR
                    ):
                        continue
                    if in_block and not (additions and index < additions[0]):
                        continue
                    edit = p.removal(source, statement, block)
                    if edit:
                        lines = (source.line(block[index - 1]), source.line(statement))
                        yield Mutation(
                            (Edit(*edit),), (*lines, *_only_use_built(source, cls, statement))
                        )


def _only_use_built(source: Source, cls: cst.ClassDef, statement: cst.CSTNode) -> tuple[int, ...]:
    """The lines building `self.act` when `statement` is its only call in the class."""
    called = p.self_call_on(statement, p.ACTIVATION_ATTR)
    if called is None or source.code(cls).count(f"self.{called[1]}(") != 1:
        return ()
    built = p.assignments_to_self(source, cls, called[1])
    return tuple(line for s in built for line in source.lines(s))


def is_activation(statement: cst.CSTNode) -> bool:
    if p.self_call_on(statement, p.ACTIVATION_ATTR):
        return True
    assigned = p.single_target(statement)
    return bool(
        assigned
        and isinstance(assigned[1], cst.Call)
        and p.dotted(assigned[1].func) in {"F.relu", "torch.relu"}
    )


def stem_activation_removed(source: Source) -> Iterator[Mutation]:
    return activation_removed(source, in_block=False)


def branch_activation_removed(source: Source) -> Iterator[Mutation]:
    return activation_removed(source, in_block=True)


def residual_never_added(source: Source) -> Iterator[Mutation]:
    """The residual addition dropped: `out += identity` deleted, or `f(x) + shortcut` reduced to `f(x)`."""
    for cls in p.classes(source):
        for function in p.forwards(cls):
            returns = tuple(source.line(r) for r in p.inside(source, function, cst.Return))
            for block in p.blocks(source, function):
                for statement in block:
                    node = p.small(statement)
                    if isinstance(node, cst.AugAssign) and p.addition(statement):
                        edit = p.removal(source, statement, block)
                        if edit:
                            yield Mutation((Edit(*edit),), (source.line(statement), *returns))
            for operation in p.inside(source, function, cst.BinaryOperation):
                if not isinstance(operation.operator, cst.Add):
                    continue
                sides = (operation.left, operation.right)
                residual = [p.is_residual_operand(side) for side in sides]
                if any(residual) and not all(residual):
                    kept = source.code(sides[residual.index(False)])
                    yield Mutation(
                        (replace(source, operation, kept),), (source.line(operation), *returns)
                    )


def output_dropped(source: Source) -> Iterator[Mutation]:
    """`out = self.conv2(x)` after `out = self.conv1(x)`: the first layer's output is thrown away."""
    for cls in p.classes(source):
        for function in p.forwards(cls):
            params = [param.name.value for param in function.params.params]
            if len(params) < 2:
                continue
            given = params[1]
            saved = saved_input(function, given)
            last_binding: dict[str, cst.CSTNode] = {}
            for statement in p.inside(source, function, cst.SimpleStatementLine):
                assigned = p.single_target(statement)
                call = assigned[1] if assigned and isinstance(assigned[1], cst.Call) else None
                if (
                    call
                    and p.self_attribute(call.func)
                    and call.args
                    and isinstance(call.args[0].value, cst.Name)
                ):
                    variable = call.args[0].value.value
                    previous = last_binding.get(variable)
                    replacement = given if variable != given else saved
                    if previous is not None and variable == assigned[0] and replacement:
                        edit = replace(source, call.args[0].value, replacement)
                        yield Mutation((edit,), (source.line(statement), source.line(previous)))
                if assigned:
                    last_binding[assigned[0]] = statement


def saved_input(function: cst.FunctionDef, given: str) -> str:
    """The identity variable a forward copies its input into (`shortcut = x`), or ''."""
    for statement in function.body.body:
        assigned = p.single_target(statement)
        if (
            assigned
            and isinstance(assigned[1], cst.Name)
            and assigned[1].value == given
            and p.IDENTITY.match(assigned[0])
        ):
            return assigned[0]
    return ""


def self_attribute_never_set(source: Source) -> Iterator[Mutation]:
    """A `self.X` read in forward renamed to a near miss that nothing assigns."""
    for cls in p.classes(source):
        for function in p.forwards(cls):
            for node in p.inside(source, function, cst.Attribute):
                attribute = p.self_attribute(node)
                if not attribute or not p.assignments_to_self(source, cls, attribute):
                    continue
                wrong = p.misspelt(attribute, source.text)
                if wrong:
                    yield Mutation((replace(source, node.attr, wrong),), (source.line(node),))


INVALID_LITERALS = {"mode": "fan out", "nonlinearity": "Relu", "padding_mode": "zero"}


def invalid_literal(source: Source) -> Iterator[Mutation]:
    """`mode="fan_out"` written `mode="fan out"`, `nonlinearity="relu"` as `"Relu"`, `padding_mode="zero"`."""
    for arg in (node for node in source.walk() if isinstance(node, cst.Arg)):
        if (
            arg.keyword
            and arg.keyword.value in INVALID_LITERALS
            and isinstance(arg.value, cst.SimpleString)
        ):
            quote = arg.value.quote
            wrong = INVALID_LITERALS[arg.keyword.value]
            if arg.value.evaluated_value != wrong:
                yield Mutation(
                    (replace(source, arg.value, f"{quote}{wrong}{quote}"),), (source.line(arg),)
                )


# How many leading arguments each layer requires, and the keyword of the last required one.
REQUIRED_ARGUMENTS = {
    "Conv1d": (3, "kernel_size"),
    "Conv2d": (3, "kernel_size"),
    "Conv3d": (3, "kernel_size"),
    "Linear": (2, "out_features"),
    "BatchNorm1d": (1, "num_features"),
    "BatchNorm2d": (1, "num_features"),
    "BatchNorm3d": (1, "num_features"),
    "GroupNorm": (2, "num_channels"),
    "AdaptiveAvgPool2d": (1, "output_size"),
    "AdaptiveMaxPool2d": (1, "output_size"),
    "AvgPool2d": (1, "kernel_size"),
    "MaxPool2d": (1, "kernel_size"),
}


def layer_arity(source: Source) -> Iterator[Mutation]:
    """A torch.nn layer built without its last required argument: `nn.AdaptiveAvgPool2d()`."""
    for call in (node for node in source.walk() if isinstance(node, cst.Call)):
        name = p.dotted(call.func)
        if (
            not (name.startswith("nn.") or name.startswith("torch.nn."))
            or p.callee(call) not in REQUIRED_ARGUMENTS
        ):
            continue
        count, keyword = REQUIRED_ARGUMENTS[p.callee(call)]
        positional = [arg for arg in call.args if not arg.keyword and not arg.star]
        named = [arg for arg in call.args if arg.keyword and arg.keyword.value == keyword]
        dropped = named[0] if named else positional[count - 1] if len(positional) >= count else None
        if dropped is None or any(arg.star for arg in call.args):
            continue
        kept = [argument_text(source, arg) for arg in call.args if arg is not dropped]
        yield Mutation(
            (replace(source, call, f"{source.code(call.func)}({', '.join(kept)})"),),
            source.lines(call),
        )


def argument_text(source: Source, arg: cst.Arg) -> str:
    return (
        f"{arg.keyword.value}={source.code(arg.value)}" if arg.keyword else source.code(arg.value)
    )


def cuda_in_init(source: Source) -> Iterator[Mutation]:
    """`.cuda()` appended to a layer built in `__init__`."""
    for cls in p.classes(source):
        init = p.method(cls, "__init__")
        for statement in p.inside(source, init, cst.SimpleStatementLine) if init else ():
            node = p.small(statement)
            if isinstance(node, cst.Assign) and isinstance(node.value, cst.Call):
                if p.self_attribute(node.targets[0].target) and p.dotted(
                    node.value.func
                ).startswith("nn."):
                    edit = replace(source, node.value, f"{source.code(node.value)}.cuda()")
                    yield Mutation((edit,), source.lines(statement))


def forward_without_input(source: Source) -> Iterator[Mutation]:
    """`def forward(self):` for `def forward(self, x):`."""
    for cls in p.classes(source):
        function = p.method(cls, "forward")
        if (
            function is None
            or len(function.params.params) < 2
            or function.params.star_arg != cst.MaybeSentinel.DEFAULT
        ):
            continue
        dropped = function.params.params[1]
        kept = tuple(param for param in function.params.params if param is not dropped)
        changed = function.params.with_changes(params=kept)
        text = source.module.code_for_node(changed).rstrip().rstrip(",")
        reads = p.reads_in_scope(source, function, dropped.name.value)
        expected = (source.line(function),) + tuple(source.line(n) for n in reads[:1])
        yield Mutation((replace(source, function.params, text),), expected)


def undefined_name(source: Source) -> Iterator[Mutation]:
    """A call of the file's own helper or class misspelt (`conv3x3` as `conv3xx3`): NameError when run."""
    own = p.top_level_names(source)
    for call in (node for node in source.walk() if isinstance(node, cst.Call)):
        if isinstance(call.func, cst.Name) and call.func.value in own:
            wrong = p.misspelt(call.func.value, source.text)
            if wrong:
                yield Mutation((replace(source, call.func, wrong),), (source.line(call),))


def num_classes_dropped(source: Source) -> Iterator[Mutation]:
    """`num_classes` passed on replaced by the literal 1000: the parameter never reaches the classifier."""
    for arg in (node for node in source.walk() if isinstance(node, cst.Arg)):
        value = arg.value
        if (isinstance(value, cst.Name) and value.value == "num_classes") or p.self_attribute(
            value
        ) == "num_classes":
            yield Mutation((replace(source, value, "1000"),), (source.line(arg),))


def identical_branches(source: Source) -> Iterator[Mutation]:
    """The `else` branch of a layer-building `if` made a copy of the `if` branch."""
    for node in source.walk():
        if not isinstance(node, cst.If) or not isinstance(node.orelse, cst.Else):
            continue
        body, other = node.body, node.orelse.body
        if not isinstance(body, cst.IndentedBlock) or not isinstance(other, cst.IndentedBlock):
            continue
        if not any(isinstance(n, cst.Call) for n in source.walk(body)) or source.code(
            body
        ) == source.code(other):
            continue
        first, last = body.body[0], body.body[-1]
        start = source.whole_lines(first)
        end = source.whole_lines(last)
        target_start = source.whole_lines(other.body[0])
        target_end = source.whole_lines(other.body[-1])
        if None in (start, end, target_start, target_end) or source.indent(first) != source.indent(
            other.body[0]
        ):
            continue
        copy = source.text[start[0] : end[1]]
        edit = Edit(target_start[0], target_end[1], copy)
        yield Mutation(
            (edit,), (source.line(node), source.line(node.orelse), source.line(other.body[0]))
        )


KINDS: tuple[Kind, ...] = (
    Kind("super-wrong-class", 6, ("RN101",), "super() names another class", super_wrong_class),
    Kind(
        "bare-downsample", 6, ("RN102", "RN117"), "`downsample(x)` without `self.`", bare_downsample
    ),
    Kind(
        "shortcut-on-branch",
        6,
        ("RN316", "RN202", "RN309"),
        "the shortcut applied to the branch output",
        shortcut_on_branch,
    ),
    Kind(
        "misspelt-identity",
        6,
        ("RN103", "RN117", "RN124"),
        "identity variable misspelt",
        misspelt_identity,
    ),
    Kind(
        "conv3-wrong-out", 6, ("RN201", "RN202", "RN309"), "conv3 does not expand", conv3_wrong_out
    ),
    Kind(
        "norm-after-addition",
        6,
        ("RN301",),
        "BatchNorm moved after the addition",
        norm_after_addition,
    ),
    Kind("relu-in-shortcut", 6, ("RN303",), "ReLU inside the shortcut", activation_in_shortcut),
    Kind(
        "stride-on-second-conv",
        6,
        ("RN304", "RN305", "RN309"),
        "two strided convs",
        stride_on_second_conv,
    ),
    Kind(
        "relu-before-addition",
        6,
        ("RN306",),
        "ReLU right before the addition",
        activation_before_addition,
    ),
    Kind(
        "projection-no-channels",
        6,
        ("RN307", "RN309"),
        "shortcut test without channels",
        projection_without_channels,
    ),
    Kind(
        "inplanes-not-updated",
        6,
        ("RN205", "RN202", "RN309"),
        "`self.inplanes` update removed",
        inplanes_not_updated,
    ),
    Kind(
        "padding-on-1x1",
        7,
        ("RN318",),
        "`padding=1` on a block's 1x1 conv",
        padding_on_pointwise_conv,
    ),
    Kind(
        "classifier-512",
        6,
        ("RN204",),
        "Linear(512, n) on a bottleneck net",
        classifier_without_expansion,
    ),
    Kind(
        "uncalled-submodule",
        6,
        ("RN107",),
        "a submodule's call removed from forward",
        uncalled_submodule,
    ),
    Kind(
        "module-in-forward", 7, ("RN112",), "layer constructed in forward", module_built_in_forward
    ),
    Kind(
        "module-called-twice",
        7,
        ("RN302", "RN113", "RN107"),
        "one module called twice",
        module_called_twice,
    ),
    Kind(
        "stem-activation-removed",
        7,
        ("RN31",),
        "stem conv+norm without activation",
        stem_activation_removed,
    ),
    Kind(
        "branch-activation-removed",
        7,
        ("RN31",),
        "no activation between branch convs",
        branch_activation_removed,
    ),
    Kind("residual-never-added", 7, ("RN31",), "the residual is never added", residual_never_added),
    Kind("output-dropped", 7, ("RN31", "RN107"), "a layer's output dropped", output_dropped),
    Kind(
        "self-attr-never-set",
        7,
        ("RN116",),
        "`self.X` read but never assigned",
        self_attribute_never_set,
    ),
    Kind("invalid-literal", 7, ("RN114",), "invalid string argument", invalid_literal),
    Kind("layer-arity", 7, ("RN115",), "torch.nn layer missing a required argument", layer_arity),
    Kind("cuda-in-init", 7, ("RN121",), "`.cuda()` in `__init__`", cuda_in_init),
    Kind(
        "forward-without-input",
        7,
        ("RN118", "RN117"),
        "forward takes no input",
        forward_without_input,
    ),
    Kind("undefined-name", 7, ("RN117", "RN106"), "a helper call misspelt", undefined_name),
    Kind(
        "num-classes-dropped",
        7,
        ("RN206", "RN204"),
        "`num_classes` not passed on",
        num_classes_dropped,
    ),
    Kind("identical-branches", 7, ("RN123",), "if/else build identical layers", identical_branches),
)
