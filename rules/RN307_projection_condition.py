"""RN307 projection-condition."""

from __future__ import annotations

from collections.abc import Iterator

from reslint.knowledge.naming import SHORTCUT_NAME
from reslint.model import ModuleModel
from reslint.model.constructions import built_by_networks
from reslint.model.queries import (
    Projection,
    branch_output,
    convs_of,
    first_conv,
    projection,
    residuals,
)
from reslint.model.symbolic import (
    Assumptions,
    Condition,
    Expr,
    Lookup,
    Relation,
    choices,
    reads_a_stride,
    relation,
    samples,
)
from reslint.model.values import Flow, Layer, options
from reslint.model.widening import WideningIdentity, widening_identities
from reslint.rule import Rule, Violation
from reslint.rules_support import quoted, unique

SAMPLES = 16  # sample points searched for a size the condition gets wrong


class ProjectionCondition(Rule):
    """## What it does
    Checks the condition that chooses between an identity shortcut and a projection: it must test
    both the stride and the channel change (`stride != 1 or inplanes != planes * expansion`).

    ## Why is this bad?
    Testing only the stride forgets the first block of a Bottleneck network, which keeps stride 1 but
    expands 64 -> 256 channels: the identity shortcut then has the wrong channel count. Testing only
    the channels forgets a stage whose width stays the same while the stride is 2: the identity then
    has twice the height and width of the main branch.

    ## Example
    ```python
    if stride != 1:
        downsample = nn.Sequential(conv1x1(self.inplanes, planes * block.expansion, stride),
                                   norm_layer(planes * block.expansion))
    ```

    Use instead:
    ```python
    if stride != 1 or self.inplanes != planes * block.expansion:
        downsample = nn.Sequential(conv1x1(self.inplanes, planes * block.expansion, stride),
                                   norm_layer(planes * block.expansion))
    ```
    """

    code = "RN307"
    name = "projection-condition"

    def check(self, module: ModuleModel) -> Iterator[Violation]:
        yield from unique(self._check(module))

    def _check(self, module: ModuleModel) -> Iterator[Violation]:
        module.instances()  # runs the classes and their builders, which records the shortcuts
        shortcuts = [s for s in module.interpreter.conditional_shortcuts if s.module is module]
        for shortcut in shortcuts:
            shape = projection(shortcut.layer)
            if (
                shape is None
                or _applied_in_sequence(shortcut)
                or not _a_shortcut(shortcut)
                or _misfits_branch(shortcut, shape)
            ):
                continue
            additions = _additions_using(shortcut)
            chosen_stride = _stride_chosen_alongside(shortcut) or _main_branch_unseen(shortcut)
            built = (
                built_by_networks(shortcut.instance.cls, module)
                if shortcut.instance is not None
                else None
            )
            for guard in shortcut.guards:
                if guard.condition is None or _projects_both_ways(shortcut, guard, shortcuts):
                    continue
                subsampled = _subsamples_other_way(shortcut, guard, shortcuts)
                violation = _uncovered(
                    guard.condition,
                    guard.branch,
                    shape,
                    module,
                    additions,
                    subsampled,
                    chosen_stride,
                    built,
                )
                if violation is not None:
                    yield violation
        for built in widening_identities(module):
            if built.declined is not None:
                yield _decided_identity(built, module)


def _decided_identity(built: WideningIdentity, module: ModuleModel) -> Violation:
    """The test went the way without a projection for a block the file builds (the first stage
    of a stage loop: stride 1, 64 -> 256 channels), whose identity shortcut then has the wrong
    width: a test that knows only the stride, in the configuration the file makes."""
    test = built.declined.test
    left, right = built.widths
    return Violation(
        test,
        f"`{module.code(test)}` builds no projection for "
        f"`{module.code(built.call.func)}(...)` (line {module.line_of(built.call)}), a "
        f"`{built.instance.cls.name}` whose `{module.code(built.residual.site.node)}` then adds "
        f"{quoted(left)} and {quoted(right)} channels: the identity shortcut has the wrong width",
        "project whenever the shape changes: test the channels as well as the stride "
        "(`stride != 1 or inplanes != planes * expansion`)",
    )


def _additions_using(shortcut) -> list[Assumptions]:
    """For a `self.shortcut` attribute, the conditions under which each addition that uses it runs
    (kuangliu's MobileNetV2 adds only `if self.stride == 1`); empty when always, or unknown."""
    if shortcut.instance is None:
        return []
    forward = shortcut.instance.forward
    if forward is None:
        return []
    found = []
    for site in forward.adds:  # the configuration that built this shortcut
        guards = tuple((g.condition, g.branch) for g in site.guards if g.condition is not None)
        flows = [f for f in (*site.left, *site.right) if isinstance(f, Flow)]
        using = [f for f in flows if _through(f, shortcut.name)]
        if using and any(f.origin == "input" and not f.steps for f in flows):
            using = [Flow("input")]  # the input itself is added where the shortcut is not applied
        for flow in using:
            # and the path its tensor came through: `self.shortcut(x) if self.stride == 1 else out`
            needed = guards + tuple((g.condition, g.branch) for g in flow.path if g.condition)
            if not needed:
                return []  # an addition that always runs
            found.append(needed)
    return found


def _a_shortcut(shortcut) -> bool:
    """Named a shortcut (`downsample`), or named a projection (`proj`) and added as a shortcut is:
    applied straight to the block's input, beside a branch that does not go through it
    (`self.proj(x) + self.f(x)`, not `y = self.proj(x); y + self.mix(y)`)."""
    if SHORTCUT_NAME.search(shortcut.name):
        return True
    forward = shortcut.instance.forward if shortcut.instance is not None else None
    if forward is None:
        return False
    for site in forward.adds:
        for side, other in ((site.left, site.right), (site.right, site.left)):
            if any(_applied_to_input(flow, shortcut.name) for flow in side) and not _passes(
                other, shortcut.name
            ):
                return True
    return False


def _applied_to_input(flow, name: str) -> bool:
    """`self.proj(x)`: the attribute `name` applied to the input, and nothing else."""
    return (
        isinstance(flow, Flow)
        and flow.origin == "input"
        and len(flow.steps) == 1
        and _through(flow, name)
    )


def _applied_in_sequence(shortcut) -> bool:
    """`x = self.downsample(x)`, then the stage's blocks: a transition layer that the class's own
    forward applies on the way through and no addition of it uses is no shortcut, whatever
    condition chooses it (timm's MetaFormer stage downsamples only where the width changes)."""
    forward = shortcut.instance.forward if shortcut.instance is not None else None
    if forward is None:
        return False
    added = (flow for site in forward.adds for flow in (*site.left, *site.right))
    returned = (option for value in forward.returns for option in options(value))
    return not _passes(added, shortcut.name) and _passes(returned, shortcut.name)


def _passes(values, name: str) -> bool:
    """Whether one of the tensors went through the attribute `name`."""
    return any(isinstance(flow, Flow) and _through(flow, name) for flow in values)


def _through(flow: Flow, name: str) -> bool:
    """`self.shortcut(x)`: the tensor went through the attribute `name`."""
    return any(step.text.endswith(name) for step in flow.steps)


def _misfits_branch(shortcut, shape: Projection) -> bool:
    """A projection whose width differs from what the main branch outputs (`2 * out_channels`
    against `out_channels`, RN309's finding): it is the projection that is wrong, and its widths
    say nothing of when the block changes channels."""
    if shortcut.instance is None or not isinstance(shape.channels_out, Expr):
        return False
    for residual in residuals(shortcut.instance):
        if not _passes((*residual.site.left, *residual.site.right), shortcut.name):
            continue  # an addition of its own (a network whose builder makes the block's projection)
        ending = branch_output(residual.main)
        if ending is not None and relation(ending[1], shape.channels_out) is Relation.DIFFERENT:
            return True
    return False


def _stride_chosen_alongside(shortcut) -> bool:
    """`stride = 1; if cin != cout: stride = 2; skip = conv1x1(cin, cout, stride=2)`: a conv of the
    main branch takes a stride that is 1 or not depending on an `if`, so the block's own stride
    follows a test of its own, which may be the very test that picks the projection. A fixed stride
    of the projection then tells nothing of the stride of a block that keeps the identity."""
    if shortcut.instance is None:
        return False
    return any(
        len(values := _stride_values(conv)) > 1
        and any(isinstance(value, Expr) and value.constant == 1 for value in values)
        for residual in residuals(shortcut.instance)
        for conv in convs_of(residual.main)
    )


def _main_branch_unseen(shortcut) -> bool:
    """No convolution of the block's main branch is known (built by a factory reslint cannot
    follow): a fixed stride of the projection then says nothing of the block's own stride."""
    if shortcut.instance is None:
        return False
    found = residuals(shortcut.instance)
    return bool(found) and not any(convs_of(residual.main) for residual in found)


def _stride_values(conv) -> list:
    """Each value a conv's stride may take: its alternatives, and either way of a size an `if` on
    sizes picks (`stride = 2` under `if in_channels != out_channels`)."""
    return [
        choice
        for value in options(conv.arg("stride"))
        for choice in (choices(value) if isinstance(value, Expr) else (value,))
    ]


def _projects_both_ways(shortcut, guard, shortcuts: list) -> bool:
    """`if avg_down: downsample = Seq(pool, conv) else: downsample = Seq(conv)`: no identity."""
    return any(
        other.name == shortcut.name
        and any(g.node == guard.node and g.branch != guard.branch for g in other.guards)
        and first_conv(other.layer) is not None
        for other in shortcuts
    )


def _subsamples_other_way(shortcut, guard, shortcuts: list) -> bool:
    """`if in_channel == depth: shortcut = MaxPool2d(1, stride) else: shortcut = Seq(conv, bn)`:
    the other way is a pooling, which strides as the block does: no identity of the wrong size."""
    return any(
        other.name == shortcut.name
        and any(g.node == guard.node and g.branch != guard.branch for g in other.guards)
        and any(layer.kind in ("pool", "avgpool") for layer in other.layer.walk())
        for other in shortcuts
    )


def _uncovered(
    condition: Condition,
    way: bool,
    shape: Projection,
    module: ModuleModel,
    additions: list[Assumptions],
    subsampled: bool = False,
    chosen_stride: bool = False,
    built: list[Layer] | None = None,
) -> Violation | None:
    """A violation when the condition can send a block that changes channels (or strides) to the
    identity shortcut: a sample where it does not choose the projection while the projection would
    change the shape. `subsampled`: the other way pools, so only a change of channels is missed.
    `chosen_stride`: the block's own stride is chosen by an `if` (_stride_chosen_alongside).
    `built`: the blocks the file's networks build (constructions.built_by_networks), None when
    unknown; a missed stride needs one of them to be strided with equal widths."""
    channels_in, channels_out, stride = shape.channels_in, shape.channels_out, shape.stride
    sizes = {
        name
        for size in (channels_in, channels_out, stride)
        for option in options(size)
        if isinstance(option, Expr)
        for name in option.symbols()
    }
    if condition.symbols() and not condition.symbols() & sizes and not reads_a_stride(condition):
        return None  # a flag its builder sets from the shape (`opt = inplanes if ... else 0`)
    if (
        isinstance(stride, Expr)
        and stride.constant is not None
        and (reads_a_stride(condition) or chosen_stride)
    ):
        # A fixed projection stride tells nothing of the block's own, which the test reads.
        stride = None
    misses: set[str] = set()
    for lookup in samples(SAMPLES):
        if condition.may_be(way, lookup):
            continue  # the projection is built here, or reslint cannot tell
        if additions and not any(
            all(c.holds(lookup) is branch for c, branch in needed) for needed in additions
        ):
            continue  # no addition runs here (the block only adds at stride 1)
        cin, cout = channels_in.evaluate(lookup), channels_out.evaluate(lookup)
        if cin is not None and cout is not None and cin != cout:
            misses.add("channels")
        step = stride.evaluate(lookup) if isinstance(stride, Expr) else None
        if step is not None and step != 1 and not subsampled:
            misses.add("stride")
    test = module.code(condition.node)
    if "channels" in misses:
        return Violation(
            condition.node,
            f"`{test}` can choose the identity shortcut while the projection maps `{channels_in}` "
            f"to `{channels_out}` channels: a block that changes channels without striding gets an "
            "identity shortcut of the wrong width",
            f"project whenever the shape changes: `stride != 1 or {channels_in} != {channels_out}`",
        )
    if "stride" in misses and (
        built is None
        or any(_strided_keeping_width(layer, condition, way, shape) for layer in built)
    ):
        return Violation(
            condition.node,
            f"`{test}` can choose the identity shortcut while the block downsamples by `{stride}`: a "
            "strided block with equal channels gets an identity shortcut of the wrong size",
            f"project whenever the shape changes: `{stride} != 1 or {channels_in} != {channels_out}`",
        )
    return None


def _strided_keeping_width(
    layer: Layer, condition: Condition, way: bool, shape: Projection
) -> bool:
    """Whether the block built as `layer` may stride while keeping its width and take the identity
    (`_Block(2 * w, 2 * w, 2)`), or reslint cannot tell: its arguments at the sample points."""

    def given(lookup: Lookup) -> Lookup:
        def value(name: str, domain: tuple) -> float | None:
            argument = layer.args.get(name)
            return argument.evaluate(lookup) if isinstance(argument, Expr) else None

        return value

    for lookup in samples(SAMPLES):
        inside = given(lookup)
        if condition.may_be(way, inside):
            continue  # the projection is built here
        sizes = [
            size.evaluate(inside) if isinstance(size, Expr) else None
            for size in (shape.channels_in, shape.channels_out, shape.stride)
        ]
        if None in sizes:
            return True
        channels_in, channels_out, stride = sizes
        if stride != 1 and channels_in == channels_out:
            return True
    return False


ProjectionCondition.INVALID = [
    """
import torch.nn as nn
class ResNet(nn.Module):
    def __init__(self, block):
        super().__init__()
        self.inplanes = 64
        self.layer2 = self._make_layer(block, 128, 2, stride=2)
    def _make_layer(self, block, planes, blocks, stride=1):
        downsample = None
        if stride != 1:
            downsample = nn.Sequential(nn.Conv2d(self.inplanes, planes * block.expansion, 1, stride, bias=False),
                                       nn.BatchNorm2d(planes * block.expansion))
        return nn.Sequential(block(self.inplanes, planes, stride, downsample))
"""
]
ProjectionCondition.VALID = [
    """
import torch.nn as nn
class ResNet(nn.Module):
    def _make_layer(self, block, planes, blocks, stride=1):
        downsample = None
        if stride != 1 or self.inplanes != planes * block.expansion:
            downsample = nn.Sequential(nn.Conv2d(self.inplanes, planes * block.expansion, 1, stride, bias=False),
                                       nn.BatchNorm2d(planes * block.expansion))
        return nn.Sequential(block(self.inplanes, planes, stride, downsample))
"""
]
