"""Questions rules ask about interpreted classes: layer sequences, residual additions, branches."""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from typing import Any

import libcst as cst

from reslint.knowledge.layers import (
    CHANNEL_PRESERVING,
    LINEAR_KINDS,
    LINEAR_TENSOR_METHODS,
    NORMS,
    LayerKind,
)
from reslint.knowledge.names import names_in
from reslint.knowledge.naming import RUNNING_CHANNELS, SHORTCUT_NAME, names_stride
from reslint.model.call_binding import is_super_call
from reslint.model.classes import ForwardModel, Instance, built_alike
from reslint.model.container_use import applied_side_by_side
from reslint.model.symbolic import Assumptions, Comparison, Condition, Expr, Relation, relation
from reslint.model.values import (
    AddSite,
    Flow,
    Guard,
    Layer,
    ListValue,
    Step,
    changes_channels,
    compatible,
    options,
)
from reslint.model.walk import descendants

# A sequence element: a Step (an operation in forward, `step.layer` set for module calls) or a Layer
# (a child of a container, which forward reaches only through the container's call).
Element = Layer | Step


def layer_of(element: Element) -> Layer | None:
    return element if isinstance(element, Layer) else element.layer


def kind_of(element: Element) -> str:
    layer = layer_of(element)
    return layer.kind if layer is not None else element.kind


def anchor_of(element: Element) -> cst.CSTNode:
    """Where to point: the call in forward for a step, the construction for a container's child."""
    return element.node if isinstance(element, Step) else element.anchor


def describe(element: Element) -> str:
    """How the user refers to a layer: `conv3`, `self.relu`, `downsample[2]`, or `nn.ReLU`."""
    if isinstance(element, Step):
        return element.text or kind_of(element)
    if element.label:
        return element.label
    # A class of the project (`Conv2dAuto(nn.Conv2d)`) or of a framework is named as written.
    torch_nn = names_in("torch.nn")
    if element.kind == "block" or (torch_nn is not None and element.type_name not in torch_nn):
        return element.type_name
    return f"nn.{element.type_name}"


def expand(
    steps: tuple[Element, ...] | list[Element], holders: dict[int, Layer] | None = None
) -> list[Element]:
    """Forward steps with containers opened up: `self.layer1(x)` becomes its blocks, and a block that
    is only a chain of layers (pytorchcv's `ResBlock` body, a ConvBNReLU class) its own steps.
    `holders` receives, for each element inside a helper block (one conv with its norm and
    activation, a `ConvNormLayer` class), the block as this class built it."""
    return _expand(steps, 0, {}, holders)


# A block met many times (the same instance in every stage, or a block reachable from itself) is
# opened once per depth: without the memo a 66-line file took 15 s. Each entry keeps the block's
# chain and the holders of the helpers inside it.
ChainMemo = dict[tuple[int, int], "tuple[list[Element] | None, dict[int, Layer]]"]


def _expand(
    steps: tuple[Element, ...] | list[Element],
    depth: int,
    memo: ChainMemo,
    holders: dict[int, Layer] | None = None,
) -> list[Element]:
    out: list[Element] = []
    for step in steps:
        layer = layer_of(step)
        blocks = layer.flat() if layer is not None and layer.kind == "sequential" else [layer]
        for block in blocks:
            inside, inner = _chain_inside(block, depth, memo) if block is not None else (None, {})
            if inside is None:
                out.append(step if block is layer else block)  # type: ignore[arg-type]
                continue
            out.extend(inside)
            if holders is None:
                continue
            # a helper inside a block (WRN's `conv2 = wrn_conv3x3(...)`) is where that block built it
            holders.update(inner)
            if _is_helper(inside):
                # keyed by the step and by its layer: rules ask with either
                for element in inside:
                    holders[id(element)] = holders[id(layer_of(element))] = block  # type: ignore[assignment]
    return out


# Steps whose effect on channels or values reslint does not follow.
OPAQUE = {"call", "unknown", "module", "object", "concat", "subsample", "flatten", "linear"}


def _is_helper(chain: list[Element]) -> bool:
    """A block that wraps one channel-setting layer: its caller's arguments are what decide it."""
    return sum(kind_of(element) not in CHANNEL_PRESERVING for element in chain) == 1


def _chain_inside(
    layer: Layer, depth: int, memo: ChainMemo
) -> tuple[list[Element] | None, dict[int, Layer]]:
    """The steps of a block whose forward is one straight chain from its input (no addition), and
    the helper blocks its elements sit in."""
    if layer.kind != "block" or depth >= 3 or layer.instance is None:
        return None, {}
    key = (id(layer), depth)
    if key not in memo:
        memo[key] = _chain_of_block(layer.instance, depth, memo)
    return memo[key]


def _chain_of_block(
    instance: Instance, depth: int, memo: ChainMemo
) -> tuple[list[Element] | None, dict[int, Layer]]:
    chain = _straight_chain(instance)
    if not chain:
        return None, {}
    holders: dict[int, Layer] = {}
    inside = _expand(chain, depth + 1, memo, holders)
    if any(kind_of(element) in OPAQUE for element in inside):
        return None, {}  # a reshaping or unknown step inside: keep the block whole
    return inside, holders


def _straight_chain(instance: Instance) -> list[Element] | tuple[Step, ...] | None:
    """What a block runs when that is one straight chain from its input: its forward's steps, or
    the modules of an nn.Sequential subclass in order."""
    forward = instance.forward
    if forward is None:
        return instance.sequential_children
    if forward.adds:
        return None
    flows = [o for value in forward.returns for o in options(value) if isinstance(o, Flow)]
    if len(flows) != 1 or flows[0].origin != "input":
        return None
    return flows[0].steps


class Chain(list):
    """A run of layers in data order, with what is known of the path it runs on: the undecided `if`
    conditions it went through (`if self.radix > 1:` taken the other way), as sizes are compared."""

    def __init__(
        self,
        elements: Iterable[Element] = (),
        assume: Assumptions = (),
        holders: dict[int, Layer] | None = None,
    ) -> None:
        super().__init__(elements)
        self.assume = assume
        self.holders = holders or {}

    def holder(self, element: Element) -> Element:
        """Where the user wrote an element: the block this class built (`ResNetConvLayer(c, c,
        stride=stride)`) for a layer inside one of the project's helper classes, else the element."""
        return self.holders.get(id(element), element)

    def differ(self, left: Expr, right: Expr, among: Iterable[Element] = ()) -> bool:
        """Whether two sizes are different on every sample where this chain's path can run (and
        the elements `among` exist)."""
        return relation(left, right, self.assuming(among)) is Relation.DIFFERENT

    def pair_differs(self, left: Expr, right: Expr, first: Element, second: Element) -> bool:
        """Whether a size of `first` and one of `second`, the element right after it, differ
        wherever the two run together. When forward applies `second` to what `first` returns
        whichever way its undecided tests went (`out = self.bn3(self.conv3(out))` after an if/elif
        that merged), the path this chain took to them says nothing about their sizes: only the
        conditions the two run and are built under count."""
        if not follows_on_every_path(first, second):
            return self.differ(left, right, (first, second))
        return relation(left, right, Chain().assuming((first, second))) is Relation.DIFFERENT

    def differ_where_tested(
        self, left: Expr, right: Expr, tests: Iterable[Comparison], among: Iterable[Element] = ()
    ) -> tuple[Comparison, bool] | None:
        """A comparison of these two sizes' own symbols that the code itself tests (`in_channel !=
        out_channel`), and the way it goes, under which they differ on every sample of this chain's
        path: a configuration the author expects, in which this chain breaks."""
        sides = left.symbols(), right.symbols()
        known = self.assuming(among)
        for test in tests:
            symbols = test.symbols()
            if not (symbols <= sides[0] | sides[1] and symbols & sides[0] and symbols & sides[1]):
                continue  # a test of other sizes (`stride != 1`) says nothing about these two
            for way in (True, False):
                assume = (*known, (test, way))
                if relation(left, right, assume) is Relation.DIFFERENT:
                    return test, way
        return None

    def assuming(self, elements: Iterable[Element]) -> Assumptions:
        """The path's conditions and those the elements were built under: a `Conv2d(in_channels,
        out_channels)` built only `if in_channels == out_channels` exists only where they are equal."""
        built_under = tuple(
            (guard.condition, guard.branch)
            for element in elements
            for guard in guards_of(element)
            if isinstance(guard, Guard) and isinstance(guard.condition, Condition)
        )
        return (*self.assume, *built_under)


def follows_on_every_path(first: Element, second: Element) -> bool:
    """Whether forward applies the step `second` to what the step `first` returned, and to nothing
    else, on every path that reaches `second`."""
    return (
        isinstance(first, Step)
        and isinstance(second, Step)
        and bool(second.inputs)
        and all(flow.steps and flow.steps[-1] is first for flow in second.inputs)
    )


def layer_sequences(instance: Instance, open_containers: bool = True) -> list[Chain]:
    """Every run of layers in data order: the tensors of forward, and every Sequential's children.
    Worked out once per instance and way (nine rules ask), and anew when its forward changed, an
    addition's later steps grew or attributes were added."""
    forward = instance.forward
    state = (
        forward,
        tuple(len(site.after) for site in forward.adds) if forward is not None else (),
        len(instance.attrs),
    )
    known = instance.sequences_known.get(open_containers)
    if known is None or known[0][0] is not state[0] or known[0][1:] != state[1:]:
        known = instance.sequences_known[open_containers] = (
            state,
            _sequences(instance, open_containers),
        )
    return list(known[1])


def _sequences(instance: Instance, open_containers: bool) -> list[Chain]:
    sequences: list[Chain] = []
    forward = instance.forward
    if forward is not None:
        for flow in _all_flows(forward.adds, forward.returns):
            steps = expand(flow.steps) if open_containers else flow.steps
            sequences.append(Chain(steps, _assumptions(flow)))
        for site in forward.adds:
            if site.after:
                sequences.append(Chain(expand(site.after) if open_containers else site.after))
    if forward is None:
        sequences.extend(_numbered_pairs(instance))
    if forward is None and instance.sequential_children:
        held = instance.sequential_children
        sequences.append(
            Chain([leaf for layer in held for leaf in layer.flat()] if open_containers else held)
        )
    for layer in instance.layers().values():
        for inner in layer.walk():
            if inner.kind == "sequential" and inner.children and not inner.indexed:
                sequences.append(Chain(inner.flat() if open_containers else inner.children))
    return sequences


NUMBERED = re.compile(r"^(conv|bn|norm|gn)(\d+)$")


def _numbered_pairs(instance: Instance) -> list[Chain]:
    """Without a forward to read (it is inherited from a class reslint cannot see), `conv3` feeds
    `bn3` / `norm3`: the naming every ResNet follows."""
    convs: dict[str, Layer] = {}
    norms: dict[str, Layer] = {}
    for name, layer in instance.layers().items():
        match = NUMBERED.match(name)
        if match is None:
            continue
        if match.group(1) == "conv" and layer.kind == "conv":
            convs[match.group(2)] = layer
        elif match.group(1) != "conv" and layer.kind in NORMS:
            norms[match.group(2)] = layer
    return [Chain([convs[k], norms[k]]) for k in sorted(convs) if k in norms]


def _all_flows(adds: list[AddSite], returns: list[Any]) -> Iterator[Flow]:
    for site in adds:
        for option in (*site.left, *site.right):
            if isinstance(option, Flow):
                yield option
    for value in returns:
        for option in _returned(value):
            if isinstance(option, Flow):
                yield option


def _returned(value: Any) -> Iterator[Any]:
    """The values forward returns: each output of a backbone's `tuple(outs)` or `(x, features)`."""
    for option in options(value):
        if isinstance(option, ListValue):
            yield from (inner for item in option.items for inner in options(item))
        else:
            yield option


def channel_neighbours(sequence: list[Element]) -> Iterator[tuple[Layer, Layer]]:
    """Consecutive channel-changing layers, skipping the ones that keep the channel count (BN, ReLU, pools).
    An unknown operation in between breaks the chain."""
    previous: Layer | None = None
    for element in sequence:
        kind = kind_of(element)
        if kind == "flatten":
            previous = None  # channels become features: a different count
            continue
        if kind in CHANNEL_PRESERVING or kind == "subsample":
            continue
        layer = layer_of(element)
        if layer is None or kind in ("unknown", "module", "object", "modulelist", "moduledict"):
            previous = None
            continue
        if previous is not None and can_coexist(previous, layer):
            yield previous, layer
        previous = layer


def guards_of(element: Element) -> tuple:
    layer = layer_of(element)
    return (layer.guards if layer is not None else ()) + (
        element.guards if isinstance(element, Step) else ()
    )


def can_coexist(*elements: Element) -> bool:
    """False for layers built (or steps run) in two exclusive branches of one `if`."""
    return compatible(*(guards_of(e) for e in elements))


def reaching(flows: Iterable[Flow], guards: tuple) -> list[Flow]:
    """The flows that can arrive where code runs under `guards`: not one through a layer built in the
    other branch of a test forward repeats (`if self.down_sample:` building a widening conv, and
    `if not self.down_sample: out = self.model(x) + x` in forward)."""
    return [
        flow
        for flow in flows
        if compatible(guards, flow.path, *(guards_of(step) for step in flow.steps))
    ]


def direct_pairs(sequence: list[Element]) -> Iterator[tuple[Element, Element]]:
    return ((a, b) for a, b in zip(sequence, sequence[1:]) if can_coexist(a, b))


def first_leaf(layer: Layer) -> Layer:
    if layer.kind == "sequential":
        changing = [c for c in layer.children if c.kind not in CHANNEL_PRESERVING]
        return first_leaf(changing[0]) if changing else layer
    return layer


def last_leaf(layer: Layer) -> Layer:
    if layer.kind == "sequential":
        changing = [c for c in layer.children if c.kind not in CHANNEL_PRESERVING]
        return last_leaf(changing[-1]) if changing else layer
    return layer


@dataclass(frozen=True)
class Projection:
    """What a projection shortcut does to the shape: the channels it maps and its stride."""

    channels_in: Expr
    channels_out: Expr
    stride: Any


def projection(layer: Layer) -> Projection | None:
    """The shape change of a shortcut that projects: its first convolution's, or for one of the
    project's own classes (transformers' `ResNetShortCut`) the class's channels with the stride of
    its first convolution. None when it has no convolution or reslint cannot tell."""
    conv = first_conv(layer)
    if conv is None:
        return None
    if conv is layer or layer.kind == "sequential" and conv in layer.flat():
        channels_in, channels_out = conv.channels_in, conv.channels_out
    else:
        channels_in, channels_out = layer.channels_in, layer.channels_out
    if channels_in is None or channels_out is None:
        return None
    return Projection(channels_in, channels_out, conv.arg("stride"))


def first_conv(layer: Layer, depth: int = 0) -> Layer | None:
    """The first convolution of a layer: itself, in a container, or inside one of the project's own
    classes, built with the caller's sizes."""
    for leaf in layer.flat():
        if leaf.kind == "conv":
            return leaf
        if leaf.kind == "block" and depth < 2 and leaf.instance is not None:
            for inner in leaf.instance.layers().values():
                found = first_conv(inner, depth + 1)
                if found is not None:
                    return found
    return None


def entry_conv(layer: Layer) -> Layer | None:
    """The convolution a layer applies first to its input: itself, or the first operation of the
    forward of one of the project's blocks (ResNeSt's split-attention conv starts with its conv)."""
    if layer.kind == "conv":
        return layer
    instance = layer.instance if layer.kind == "block" else None
    forward = instance.forward if instance is not None else None
    if forward is None or not forward.steps:
        return None
    first = forward.steps[0]
    on_input = all(flow.origin == "input" and not flow.steps for flow in first.inputs)
    return (
        first.layer if on_input and first.layer is not None and first.layer.kind == "conv" else None
    )


@dataclass
class Residual:
    """A residual addition seen as its two branches: main (the convs) and shortcut (identity or projection).
    Each side lists its alternatives (an `if` in forward can make several)."""

    site: AddSite
    mains: list[Chain]  # each with the path it runs on
    shortcuts: list[Chain]  # identity is an empty list
    shortcut_steps: list[tuple[Step, ...]]
    after: list[Element]
    # The main branch starts at an earlier sum that the shortcut does not (`out = u1 + u2` of a
    # selective-kernel unit, then `conv3(out) + x`): what ran before that sum is not in `mains`.
    main_after_sum: bool = False

    @property
    def main(self) -> Chain:
        return max(self.mains, key=lambda elements: _weight_of(elements, ()))


def split_in_two(residual: Residual, shortcut: Chain, instance: Instance) -> bool:
    """Whether the "shortcut" is one module (a helper block, or a framework's conv-norm-act) built
    exactly as the module every main branch starts with: the input projected twice alike, one half
    worked on and summed back with the other (a cross-stage-partial layer), not a skip path."""
    side = _one_module(list(shortcut), shortcut, instance)
    if side is None:
        return False
    starts = [
        _one_module(main[: len(shortcut)], main, instance) if len(main) > len(shortcut) else None
        for main in residual.mains
    ]
    return bool(starts) and all(
        start is not None and start is not side and built_alike(start, side) for start in starts
    )


def _one_module(elements: list[Element], chain: Chain, instance: Instance) -> Layer | None:
    """The one module that holds every element: the helper block the class built, or the layer a
    framework call built with these as its parts (`ConvModule`'s conv, norm and activation)."""
    parts = {
        id(part): built
        for built in instance.layers().values()
        if built.built_by
        for part in built.children
    }
    module: Layer | None = None
    for element in elements:
        held = chain.holder(element)
        if held is element:
            held = parts.get(id(layer_of(element)))
        if not isinstance(held, Layer) or (module is not None and held is not module):
            return None
        module = held
    return module


def residuals(instance: Instance) -> list[Residual]:
    """The additions of the instance's forward that are residual blocks, each seen as its branches.
    Worked out once per instance (a dozen rules ask), and anew when its forward changed or an
    addition's later steps grew."""
    forward = instance.forward
    if forward is None:
        return []
    grown = tuple(len(site.after) for site in forward.adds)
    known = instance.residuals_known
    if known is None or known[0] is not forward or known[1] != grown:
        known = instance.residuals_known = (forward, grown, _residuals_of(forward))
    return list(known[2])


def _residuals_of(forward: ForwardModel) -> list[Residual]:
    found = []
    for site in forward.adds:
        summed = _summed(site)
        if summed is None:
            continue
        left, right, left_own, right_own = summed
        if _upsamples(left_own) != _upsamples(right_own):
            # A feature-pyramid or U-Net merge of two resolutions, not a residual block. Resampled on
            # both sides (a diffusion U-Net's up/down residual block), the two match again.
            continue
        if _pooled(left_own + right_own):
            continue  # attention branches summed after global pooling (CBAM), not a residual block
        if _parallel(left_own, right_own):
            continue  # selective-kernel branches or a cross-gate: neither side is the shortcut
        if _split_apart(left_own + right_own, left + right):
            continue  # two slices of one tensor, each through its own path: neither carries the input
        if _one_module_on_every_stream(left_own + right_own, left + right):
            continue  # streams gated by one module (`gate(a) + gate(b)`): a mix, not a shortcut
        if _weight(right_own) > _weight(left_own):
            left, right, left_own, right_own = right, left, right_own, left_own
        if not _weight(left_own)[1]:
            continue  # no layer with weights on either side (`w[:, 0:1] * a + w[:, 1:2] * b`): a mix
        if not _surely_shortcut(right_own, left_own):
            continue  # the lighter side holds modules reslint cannot see: which side is which is unknown
        found.append(
            Residual(
                site,
                _chains(left, left_own),
                _chains(right, right_own),
                right_own,
                expand(site.after),
                _starts_at_another_sum(left, right),
            )
        )
    return found


def _starts_at_another_sum(main: list[Flow], shortcut: list[Flow]) -> bool:
    origins = [flow.origin for flow in shortcut]
    return any(
        isinstance(flow.origin, AddSite) and all(flow.origin is not o for o in origins)
        for flow in main
    )


@dataclass(frozen=True)
class ShortcutOnBranch:
    """An addition of a tensor and the shortcut applied to that same tensor: `site` adds `branch`
    (the steps the block input went through) and `shortcut` applied after them."""

    site: AddSite
    shortcut: Step
    branch: tuple[Step, ...]


def shortcuts_on_branch(instance: Instance) -> list[ShortcutOnBranch]:
    """Additions whose shortcut (`self.downsample`, named so) runs on the branch's output and is added
    to that output (`identity = x; x = bn3(conv3(...)); identity = self.downsample(x); x += identity`):
    the block's input never reaches the sum, except through the convolutions."""
    forward = instance.forward
    found: list[ShortcutOnBranch] = []
    for site in forward.adds if forward is not None else ():
        pairs = [(a, b) for a in site.left for b in site.right] + [
            (b, a) for a in site.left for b in site.right
        ]
        for plain, projected in pairs:
            if not (isinstance(plain, Flow) and isinstance(projected, Flow)):
                continue
            branch = projected.steps[:-1]
            if plain.origin is not projected.origin or not _gated_continuation(plain.steps, branch):
                continue
            last = projected.steps[-1] if projected.steps else None
            if last is None or not SHORTCUT_NAME.search(last.text or ""):
                continue
            if any(kind_of(element) == "conv" for element in expand(branch)):
                found.append(ShortcutOnBranch(site, last, branch))
    return found


def _gated_continuation(steps: tuple[Step, ...], branch: tuple[Step, ...]) -> bool:
    """`steps` are `branch` itself, or `branch` followed only by steps that keep its channels (an SE
    gate, `self.se_module(out) + residual`): the shortcut took the same tensor the sum adds. A
    branch that goes on through convolutions after the shortcut was taken is a design of its own."""
    if steps[: len(branch)] != branch:
        return False
    rest = steps[len(branch) :]
    return all(step.layer is not None and not changes_channels(step.layer) for step in rest)


def _assumptions(flow: Flow) -> Assumptions:
    return tuple((guard.condition, guard.branch) for guard in flow.path if guard.condition)


def _chains(flows: list[Flow], sides: list[tuple[Step, ...]]) -> list[Chain]:
    """Each side's layers, with the path of forward its flow runs on."""
    chains = []
    for flow, steps in zip(flows, sides):
        holders: dict[int, Layer] = {}
        chains.append(Chain(expand(steps, holders), _assumptions(flow), holders))
    return chains


def _surely_shortcut(sides: list[tuple[Step, ...]], others: list[tuple[Step, ...]]) -> bool:
    """A side taken for the shortcut is one when it is named so, or holds no module reslint cannot see
    (an unknown `self.body(x)` may be the whole main branch) but those the other side runs too (a
    generator block's `self.upsample(x)` resamples the input and the branch alike)."""
    shared = {step.text for steps in others for step in steps if step.text}
    for steps in sides:
        if any(SHORTCUT_NAME.search(step.text or "") for step in steps):
            continue
        if not all(identified(e) or _text_of(e) in shared for e in expand(steps)):
            return False
    return True


def _text_of(element: Element) -> str:
    return element.text if isinstance(element, Step) else ""


def _pooled(sides: list[tuple[Step, ...]]) -> bool:
    return any(kind_of(element) == "globalpool" for steps in sides for element in expand(steps))


# Layers that raise the resolution besides `nn.Upsample`: an encoder-decoder's way up.
UPSAMPLING_LAYERS = {"PixelShuffle", "ConvTranspose1d", "ConvTranspose2d", "ConvTranspose3d"}


def _upsamples(sides: list[tuple[Step, ...]]) -> bool:
    return any(_upsampling(element) for steps in sides for element in expand(steps))


def _upsampling(element: Element) -> bool:
    layer = layer_of(element)
    return kind_of(element) == "upsample" or (layer is not None and _builds_upsampling(layer, 0))


def _builds_upsampling(layer: Layer, depth: int) -> bool:
    """A layer that raises the resolution, or a block holding one (an `Up` block of a decoder)."""
    for inner in layer.walk():
        if inner.type_name in UPSAMPLING_LAYERS:
            return True
        if inner.kind == "block" and depth < 3 and inner.instance is not None:
            built = inner.instance.layers().values()
            if any(_builds_upsampling(child, depth + 1) for child in built):
                return True
    return False


def _own_steps(flow: Flow, others: list[Flow]) -> tuple[Step, ...]:
    """The steps of one side after what it shares with the other side (the stem before a block when
    forward is a whole network; the pre-activation both branches of a pre-act block read)."""
    shared = max(_common_prefix(flow, other) for other in others)
    return flow.steps[shared:]


def _common_prefix(a: Flow, b: Flow) -> int:
    if a.origin is not b.origin:
        return 0
    length = 0
    for first, second in zip(a.steps, b.steps):
        if first is not second:
            break
        length += 1
    return length


def _parallel(left: list[tuple[Step, ...]], right: list[tuple[Step, ...]]) -> bool:
    """Two sides with as many layers with weights, neither named like a shortcut, that are not a branch
    and its projection: both apply an activation (the `u1 + u2` of a selective-kernel unit), or
    neither has the 1x1 convolution of a projection (`fa + sigmoid(fb)` of two 3x3 maps)."""
    named, weights = _weight(left)[:2]
    if not named or not weights or _weight(right)[:2] != (named, weights):
        return False
    if all(len(steps) == 1 and kind_of(steps[0]) == "conv" for steps in left + right):
        return True  # two bare convs of one input (RepVGG's training form): one conv, no shortcut
    elements = [expand(steps) for steps in left + right]
    if all(any(kind_of(e) == "act" for e in side) for side in elements):
        return True
    return not any(_may_be_pointwise(e) for side in elements for e in side)


def _split_apart(sides: list[tuple[Step, ...]], flows: list[Flow], depth: int = 0) -> bool:
    """Every side starts by taking its own slice of the shared tensor (`x[:, 1::2]` into attention,
    `x[:, 0::2]` into a gate), or goes on from an earlier sum that mixed such slices (a Res2Net unit's
    `sp = sp + spx[i]` over a loop, its second round adding the first round's sum): the sum mixes
    parts, and no side is the block's input."""
    return all(
        (steps and isinstance(steps[0].node, cst.Subscript)) or _mixes_slices(flow.origin, depth)
        for steps, flow in zip(sides, flows)
    )


def _summed(
    site: Any,
) -> tuple[list[Flow], list[Flow], list[tuple[Step, ...]], list[tuple[Step, ...]]] | None:
    """A sum's left and right tensors and the steps each took on its own (not shared with the
    other side); None when a side is no tensor reslint follows, or `site` is no sum."""
    if not isinstance(site, AddSite):
        return None
    left = [f for f in site.left if isinstance(f, Flow)]
    right = [f for f in site.right if isinstance(f, Flow)]
    if not left or not right:
        return None
    return left, right, [_own_steps(f, right) for f in left], [_own_steps(f, left) for f in right]


def _mixes_slices(origin: Any, depth: int) -> bool:
    """Whether `origin` is a sum of slices (see `_split_apart`); a chain of such sums is followed
    back a few rounds at most."""
    summed = _summed(origin) if depth <= 8 else None
    if summed is None:
        return False
    left, right, left_own, right_own = summed
    return _split_apart(left_own + right_own, left + right, depth + 1)


def _one_module_on_every_stream(sides: list[tuple[Step, ...]], flows: list[Flow]) -> bool:
    """Every stream summed ends in one and the same module with weights (`self.gate(x2a) +
    self.gate(x2b) + self.gate(x2c)`, an omni-scale unit's streams): its weights are shared by all
    the streams, which a residual's main branch and shortcut never do."""
    ends = _stream_ends(sides, flows, 0)
    first = ends[0] if ends else None
    return (
        first is not None
        and first.layer is not None
        and may_have_weights(first)
        and all(end is not None and end.layer is first.layer for end in ends)
    )


def _stream_ends(sides: list[tuple[Step, ...]], flows: list[Flow], depth: int) -> list[Step | None]:
    """The last step of each stream summed. A side that is an earlier sum, untouched since (the sum
    so far in `a + b + c`), gives the ends of that sum's streams, a few sums back at most."""
    ends: list[Step | None] = []
    for steps, flow in zip(sides, flows):
        earlier = _summed(flow.origin) if not steps and depth < 8 else None
        if steps or earlier is None:
            ends.append(steps[-1] if steps else None)
            continue
        left, right, left_own, right_own = earlier
        ends += _stream_ends(left_own + right_own, left + right, depth + 1)
    return ends


def _may_be_pointwise(element: Element) -> bool:
    layer = layer_of(element)
    if kind_of(element) != "conv" or layer is None:
        return kind_of(element) in ("block", "unknown", "module")
    kernel = layer.args.get("kernel_size")
    sizes = kernel.items if isinstance(kernel, ListValue) else list(_tuple_or_one(kernel))
    return any(not isinstance(size, Expr) or size.constant in (None, 1) for size in sizes)


def _tuple_or_one(value: Any) -> tuple:
    return value if isinstance(value, tuple) else (value,)


def _weight(sides: list[tuple[Step, ...]]) -> tuple[int, int, int, int]:
    return max(_weight_of(expand(steps), steps) for steps in sides)


def _weight_of(elements: list[Element], steps: tuple[Step, ...]) -> tuple[int, int, int, int]:
    """How much a side looks like the main branch: not named like a shortcut (`downsample`; also
    after a step both sides take their own way, a diffusion block's `self.skip_connection` after
    its input's resampling `self.x_upd`), more layers with weights (a layer built by an unknown
    callable may be a convolution), more operations."""
    weights = sum(1 for e in elements if may_have_weights(e))
    named_shortcut = any(SHORTCUT_NAME.search(step.text or "") for step in steps)
    return not named_shortcut, weights, len(steps), len(elements)


# A call of a submodule by its attribute (`self.body`), not of a container's item or a method's result.
SUBMODULE_CALL = re.compile(r"self\.\w+")


def identified(element: Element) -> bool:
    """Whether reslint knows what an element computes: not a layer built by a callable it cannot see
    (`build_block(cfg)`), nor a call it cannot read (`self.body(x)` of a unit built from another
    file's block, `conv_block(x)`, `x.permute(...)`)."""
    return kind_of(element) not in ("unknown", "module", "call")


def may_have_weights(element: Element) -> bool:
    """A layer with weights, or what may be one: a layer reslint cannot identify, or a submodule
    call it cannot read (`self.body(x)`; not a function or tensor method it cannot read)."""
    kind = kind_of(element)
    if kind in ("conv", "block") or (kind != "call" and not identified(element)):
        return True
    return (
        isinstance(element, Step)
        and element.kind == "call"
        and SUBMODULE_CALL.fullmatch(element.text) is not None
    )


def branch_output(chain: list[Element]) -> tuple[Element, Expr] | None:
    """The last element of a branch that sets its channels, with the channels it outputs; None when
    that is unknown (a module reslint cannot see, a reshaping step, a size it cannot work out)."""
    normalized: list[Expr | None] = []  # what the norms after it expect
    for element in reversed(chain):
        layer = layer_of(element)
        if kind_of(element) in CHANNEL_PRESERVING:
            if layer is not None and layer.kind in NORMS:
                normalized.append(layer.channels_in)
            continue
        channels = (
            layer.channels_out if layer is not None and kind_of(element) not in OPAQUE else None
        )
        if channels is None or any(
            norm is None or relation(channels, norm) is not Relation.EQUAL for norm in normalized
        ):
            return None  # a conv and its norm that disagree: the branch is wrong inside (RN201)
        return element, channels
    return None


def convs_of(elements: list[Element]) -> list[Layer]:
    return [layer_of(e) for e in elements if kind_of(e) == "conv" and layer_of(e) is not None]


# The block class a stage builder is given first (`make_res_layer(self.block, self.inplanes, ...)`).
BLOCK_ARGUMENT = re.compile(r"^_?(block|block_?(fn|cls|class|type))$", re.IGNORECASE)


def stale_running_channels(cls, module) -> dict[str, cst.FunctionDef]:
    """Builder methods that build blocks from a running channel count (`self.inplanes`) they never
    update: attribute name -> the method. Only where the blocks follow one another: more than one
    build from the count (two calls, a call in a loop, or a method the class calls more than once);
    a single head built from the input width (`MaskHead(in_channels=self.in_channels, ...)`) and a
    block that keeps the width (`Pool(self.in_channels, out_channels=self.in_channels)`) need no
    update."""
    stale: dict[str, cst.FunctionDef] = {}
    for name, method in cls.methods.items():
        if name in ("__init__", "forward"):
            continue
        block_makers = {p.name.value for p in method.params.params} | module.class_names
        builds: dict[str, list[cst.Call]] = {}
        for call in module.calls_in(method):
            if not (isinstance(call.func, cst.Name) and call.func.value in block_makers):
                continue  # only calls that build blocks: a local class, or one passed in (`block`)
            for arg in call.args:
                value = arg.value
                if (
                    isinstance(value, cst.Attribute)
                    and _is_self_name(value.value)
                    and RUNNING_CHANNELS.match(value.attr.value)
                    and _sets_output_channels(call, arg)
                    and not _assigns_self_attribute(method, value.attr.value, module)
                    and not _built_side_by_side(call, method, module)
                ):
                    builds.setdefault(value.attr.value, []).append(call)
        for attribute, calls in builds.items():
            if _repeated(calls, method, cls, module):
                stale.setdefault(attribute, method)
    return stale


def stale_running_reads(module) -> dict[str, cst.FunctionDef]:
    """`stale_running_channels` of every module class of the file, by the text that reads the count
    (`"self.inplanes"` -> the builder method that never updates it). Worked out once per file."""
    cache = module.__dict__
    if "_stale_running_reads" not in cache:
        cache["_stale_running_reads"] = {
            f"self.{name}": method
            for cls in module.module_classes
            for name, method in stale_running_channels(cls, module).items()
        }
    return cache["_stale_running_reads"]


def _repeated(calls: list[cst.Call], method: cst.FunctionDef, cls, module) -> bool:
    """Whether the builds run more than once: two of them, one in a loop or comprehension, or a
    method the class calls more than once (one stage per call)."""
    if len(calls) > 1 or any(_in_loop(call, module) for call in calls):
        return True
    name = method.name.value
    return (
        sum(
            isinstance(call.func, cst.Attribute)
            and _is_self_name(call.func.value)
            and call.func.attr.value == name
            for other in cls.methods.values()
            for call in module.calls_in(other)
        )
        > 1
    )


@dataclass(frozen=True)
class StaleLoop:
    """A loop that builds strided blocks of changing output channels from a running channel count it
    never updates (`in_channels = out_channels` missing): every block is built for the first input."""

    loop: cst.For
    running: str  # as written: `in_channels`, `self.inplanes`


def stale_loop_channels(module) -> list[StaleLoop]:
    """Loops whose block calls read a running channel count the loop never rebinds, while their
    output channels follow the loop (its target or a name it assigns) and they take a stride."""
    found: dict[int, StaleLoop] = {}
    for call, function in module.names.calls:
        running = _running_argument(call)
        loops = _enclosing_loops(call, module) if running is not None else []
        if running is None or not loops or id(loops[0]) in found:
            continue
        loop = loops[0]
        # A stage's width may come from an outer loop (timm's `for planes in channels:` around
        # `for block_idx in range(num_blocks):`); the count is stale when no enclosing loop rebinds it.
        bound = set().union(*(_bound_in(enclosing) for enclosing in loops))
        text = module.code(_running_count(running))
        if (
            text in bound
            or not _has_stride(call)
            or _updated_elsewhere(text, function, loop, module)
        ):
            continue
        output = _output_argument(call, running)
        if (
            output is not None
            and mentioned_names(output.value) & bound
            and not _fills_side_by_side(loop, function, module)
        ):
            found[id(loop)] = StaleLoop(loop, text)
    return list(found.values())


def _built_side_by_side(call: cst.Call, function: cst.FunctionDef, module) -> bool:
    """Whether `call` runs in a loop that fills containers applied side by side."""
    current = module.names.parents.get(id(call))
    while current is not None and current is not function:
        if isinstance(current, cst.For):
            return _fills_side_by_side(current, function, module)
        current = module.names.parents.get(id(current))
    return False


def _fills_side_by_side(loop: cst.For, function: cst.FunctionDef | None, module) -> bool:
    """Whether the loop only appends to containers of the class whose modules are applied side by
    side, each to its own input (one head per task or per pyramid level): each rightly takes the same
    input channels."""
    appended = [
        node.func.value
        for node in descendants(loop.body)
        if isinstance(node, cst.Call)
        and isinstance(node.func, cst.Attribute)
        and node.func.attr.value in ("append", "extend")
    ]
    cls = module.class_of(function)
    return (
        cls is not None
        and bool(appended)
        and all(
            isinstance(target, cst.Attribute)
            and _is_self_name(target.value)
            and applied_side_by_side(cls, target.attr.value, module)
            for target in appended
        )
    )


def _running_argument(call: cst.Call) -> cst.Arg | None:
    """The argument giving a block its input channels from a running count: the first positional
    one (the second after the block class a stage builder takes, `make_res_layer(self.block,
    self.inplanes, planes, ...)`) or `in_channels=`/`inplanes=`, written as a name or `self.<name>`."""
    first = _first_channel_position(call)
    for index, arg in enumerate(call.args):
        if arg.star or (arg.keyword is None and index != first):
            continue
        if arg.keyword is not None and not RUNNING_CHANNELS.match(arg.keyword.value):
            continue
        value = _running_count(arg)
        if isinstance(value, cst.Attribute) and _is_self_name(value.value):
            value = value.attr
        if isinstance(value, cst.Name) and RUNNING_CHANNELS.match(value.value):
            return arg
    return None


def _running_count(arg: cst.Arg) -> cst.BaseExpression:
    """What an argument reads the running count from: itself, or the count a sum widens by a
    lateral input joined to each stage (`self.inplanes + lateral_inplanes[i]`)."""
    value = arg.value
    if isinstance(value, cst.BinaryOperation) and isinstance(value.operator, cst.Add):
        return value.left
    return value


def _first_channel_position(call: cst.Call) -> int:
    """1 when the call's first argument is the block class it builds with (`block`, `self.block`),
    else 0."""
    if not call.args or call.args[0].keyword is not None or call.args[0].star:
        return 0
    value = call.args[0].value
    if isinstance(value, cst.Attribute) and _is_self_name(value.value):
        value = value.attr
    return 1 if isinstance(value, cst.Name) and BLOCK_ARGUMENT.match(value.value) else 0


def _output_argument(call: cst.Call, running: cst.Arg) -> cst.Arg | None:
    output_position = _first_channel_position(call) + 1
    for index, arg in enumerate(call.args):
        if arg is running or arg.star:
            continue
        if arg.keyword is None and index == output_position and not _names_stride(arg.value):
            return arg
        if (
            arg.keyword is not None
            and OUTPUT_CHANNELS.search(arg.keyword.value)
            and not RUNNING_CHANNELS.match(arg.keyword.value)
            and not names_stride(arg.keyword.value)
        ):
            return arg
    return None


def _has_stride(call: cst.Call) -> bool:
    return any(
        (arg.keyword is not None and names_stride(arg.keyword.value))
        or (arg.keyword is None and _names_stride(arg.value))
        for arg in call.args
    )


def _enclosing_loops(node: cst.CSTNode, module) -> list[cst.For]:
    """The `for` loops around `node` in its function, innermost first; none when a condition stands
    between it and the innermost one (`if i == 0: ConvModule(in_channels, ...)` reads the count on
    the first iteration only)."""
    loops: list[cst.For] = []
    current = module.names.parents.get(id(node))
    while current is not None and not isinstance(current, (cst.FunctionDef, cst.ClassDef)):
        conditional = (cst.If, cst.IfExp, cst.While, cst.Try, cst.BooleanOperation)
        if not loops and isinstance(current, conditional):
            return []
        if isinstance(current, cst.For) and not module.within(current.iter)(node):
            loops.append(current)
        current = module.names.parents.get(id(current))
    return loops


# Statements and clauses that bind their `target`.
_BINDING_TARGETS = (
    cst.AssignTarget,
    cst.AnnAssign,
    cst.AugAssign,
    cst.For,
    cst.NamedExpr,
    cst.CompFor,
)


def _bound_in(loop: cst.For) -> set[str]:
    """Names (and `self.<name>`s) the loop binds: its target and whatever its body assigns."""
    names: set[str] = set()
    for node in descendants(loop):
        if isinstance(node, _BINDING_TARGETS):
            names |= _target_names(node.target)
        elif isinstance(node, (cst.Global, cst.Nonlocal)):
            names.update(item.name.value for item in node.names)
    return names


def _target_names(target: cst.BaseExpression) -> set[str]:
    if isinstance(target, (cst.Tuple, cst.List)):
        return set().union(*(_target_names(element.value) for element in target.elements))
    if isinstance(target, cst.StarredElement):
        return _target_names(target.value)
    if isinstance(target, cst.Name):
        return {target.value}
    if isinstance(target, cst.Attribute) and _is_self_name(target.value):
        return {f"self.{target.attr.value}"}
    return set()


def mentioned_names(node: cst.CSTNode) -> set[str]:
    """Every name written in `node` (attribute and keyword names too), and each `self.<name>` it
    reads as `self.<name>`."""
    names: set[str] = set()
    for inner in descendants(node):
        if isinstance(inner, cst.Name):
            names.add(inner.value)
        elif isinstance(inner, cst.Attribute) and _is_self_name(inner.value):
            names.add(f"self.{inner.attr.value}")
    return names


def _updated_elsewhere(
    running: str, function: cst.FunctionDef | None, loop: cst.For, module
) -> bool:
    """A `self.<count>` another method may set (`_make_layer` updating `self.inplanes` when called):
    one of the class's or its ancestors' methods, or one of an unseen base that the loop calls."""
    if not running.startswith("self."):
        return False
    cls = module.class_of(function)
    if cls is None:
        return True
    attr = running.removeprefix("self.")
    # A base's version of the method the loop is in (the `__init__` that `super().__init__()` ran
    # before the loop, or that the subclass replaces) cannot set the count between two iterations.
    replaced = (
        function.name.value if function is not None and not _calls_super(loop, module) else None
    )
    if any(
        method is not function
        and method.name.value != replaced
        and _assigns_self_attribute(method, attr, owner.module)
        for owner in [cls, *cls.ancestors()]
        for method in owner.methods.values()
    ):
        return True
    called = {
        call.func.attr.value
        for call, _ in module.names.calls
        if isinstance(call.func, cst.Attribute)
        and _is_self_name(call.func.value)
        and module.within(loop)(call)
    }
    module_methods = names_in("torch.nn.Module") or frozenset()
    return cls.has_unresolved_bases and any(
        cls.method(name) is None and name not in module_methods for name in called
    )


def _is_self_name(node: cst.BaseExpression) -> bool:
    return isinstance(node, cst.Name) and node.value == "self"


OUTPUT_CHANNELS = re.compile(r"(plane|channel|out|dim|width|feature|filters)", re.IGNORECASE)


def _in_loop(node: cst.CSTNode, module) -> bool:
    """Whether `node` runs once per iteration of a loop or comprehension of its function."""
    current = module.names.parents.get(id(node))
    while current is not None and not isinstance(current, (cst.FunctionDef, cst.ClassDef)):
        if isinstance(current, (cst.For, cst.While, cst.CompFor)):
            return True
        if isinstance(current, (cst.ListComp, cst.SetComp, cst.GeneratorExp, cst.DictComp)):
            return True
        current = module.names.parents.get(id(current))
    return False


def _sets_output_channels(call: cst.Call, running: cst.Arg) -> bool:
    """Whether a block call also says its output channels (`block(self.inplanes, planes)`,
    `block(depth, self.inplanes, planes)`: the positional argument after the running count); a block
    given the running count alone (`Weighting(self.in_channels, stride=2)`), or given it again as its
    output (`Pool(self.in_channels, out_channels=self.in_channels)`), keeps it."""
    named = [
        arg
        for arg in call.args
        if arg is not running
        and arg.keyword is not None
        and OUTPUT_CHANNELS.search(arg.keyword.value)
        and not names_stride(arg.keyword.value)
    ]
    if named:
        return any(not arg.value.deep_equals(running.value) for arg in named)
    positional = [arg for arg in call.args if arg.keyword is None and not arg.star]
    index = next((i for i, arg in enumerate(positional) if arg is running), None)
    after = index + 1 if index is not None else 1
    return (
        len(positional) > after
        and not _names_stride(positional[after].value)
        and not positional[after].value.deep_equals(running.value)
    )


def _names_stride(node: cst.BaseExpression) -> bool:
    return isinstance(node, cst.Name) and names_stride(node.value)


def _calls_super(loop: cst.For, module) -> bool:
    """Whether `super()` is called inside the loop."""
    inside = module.within(loop)
    return any(is_super_call(call) and inside(call) for call, _ in module.names.calls)


def _assigns_self_attribute(method: cst.FunctionDef, attr: str, module) -> bool:
    stores = {id(target) for target in module.attribute_stores_in_method(method)}
    return any(
        id(target) in stores and target.attr.value == attr and _is_self_name(target.value)
        for target in module.attributes_in(method)
    )


# ----- what input size a network is built for ---------------------------------------------------

STATED_IMAGENET_SIZE = re.compile(r"\b(224|299)\b")


def built_for_imagenet(instance: Instance) -> bool | None:
    """True for a network built for ImageNet-size inputs (a stride-2 or max-pooling stem before the
    first residual block, or a stated 224/299 input), False for a CIFAR-style stem (3x3, stride 1, no
    max-pool), None when reslint cannot tell."""
    if STATED_IMAGENET_SIZE.search(instance.cls.module.code(instance.cls.node)):
        return True
    layers = [layer_of(e) or e for e in stem(instance, whole=True) or []]
    if not any(kind_of(e) == "conv" for e in layers):
        return None
    for element in layers:
        if kind_of(element) == "pool" and "max" in describe(element).lower():
            return True
        layer = layer_of(element)
        stride = layer.arg("stride") if layer is not None and layer.kind == "conv" else None
        if isinstance(stride, Expr) and (stride.constant is None or stride.constant > 1):
            return True if stride.constant else None
    return False


def stem(instance: Instance, whole: bool = False) -> list[Element] | None:
    """What forward applies before its first residual block, in order (containers and plain blocks
    opened; forward's own calls kept as steps, so that a finding points at them). None when forward
    reaches no residual block (not a network), unless `whole`: then all of forward."""
    elements, reached = _stem_part(instance, 0, {})
    return elements if reached or whole else None


StemMemo = dict[tuple[int, int], "tuple[list[Element], bool]"]


def _stem_part(instance: Instance, depth: int, memo: StemMemo) -> tuple[list[Element], bool]:
    """The elements forward applies before its first residual block, and whether it reaches one.
    Each instance is opened once per depth (see ChainMemo)."""
    key = (id(instance), depth)
    if key not in memo:
        memo[key] = _collect_stem(instance, depth, memo)
    return memo[key]


def _collect_stem(instance: Instance, depth: int, memo: StemMemo) -> tuple[list[Element], bool]:
    elements: list[Element] = []
    forward = instance.forward
    if forward is None or depth > 4:
        return elements, False
    by_step: list[tuple[Step, list[Element]]] = []
    for step in forward.steps:
        mine: list[Element] = []
        by_step.append((step, mine))
        layer = step.layer
        if layer is None or layer.kind not in ("sequential", "block"):
            mine.append(step)
            continue
        for leaf in layer.flat():
            inner = leaf.instance if leaf.kind == "block" else None
            if inner is not None and residuals(inner):
                return _feeding(step, by_step), True  # the first residual block: the stem is over
            if inner is not None:
                part, reached = _stem_part(inner, depth + 1, memo)
                mine.extend(part)
                if reached:
                    return _feeding(step, by_step), True
            else:
                mine.append(step if leaf is layer else leaf)
    return [element for _, mine in by_step for element in mine], False


def _feeding(step: Step, by_step: list[tuple[Step, list[Element]]]) -> list[Element]:
    """The elements of the steps that made the tensor `step` runs on, in order, and `step`'s own: a
    layer whose output goes elsewhere (DLA's projection passed as `tree1(x, shortcut)`) is not stem."""
    if not step.inputs or any(flow.origin != "input" for flow in step.inputs):
        return [element for _, mine in by_step for element in mine]  # not followed: all of them
    feeding = {id(s) for flow in step.inputs for s in flow.steps} | {id(step)}
    return [element for s, mine in by_step if id(s) in feeding for element in mine]


def residual_blocks(instance: Instance) -> list[Layer]:
    """The residual blocks a network's forward runs, in order (opening containers): blocks whose
    forward adds a branch to its shortcut, not any module that sums two tensors (a gated fusion)."""
    forward = instance.forward
    if forward is None:
        return []
    found: list[Layer] = []
    for step in forward.steps:
        if step.layer is None:
            continue
        for leaf in step.layer.flat():
            inner = leaf.instance if leaf.kind == "block" else None
            if inner is not None and residuals(inner):
                if leaf not in found:
                    found.append(leaf)
    return found


def may_start_nonlinear(instance: Instance, depth: int = 0) -> bool:
    """Whether every path forward takes from its input may start with a nonlinearity, looking into
    the blocks that start a path: an activation (NASNet's cells: ReLU -> conv -> BN on each input), a
    max-pool (PNASNet's first cell pools its raw input before a conv on one path), or a block of the
    file that reslint could not build in this configuration."""
    forward = instance.forward
    if forward is None or depth > 3:
        return False
    paths = [
        expand(flow.steps)
        for flow in _all_flows(forward.adds, forward.returns)
        if flow.origin == "input"
    ]
    return bool(paths) and all(_may_start_nonlinear(path, depth) for path in paths)


def _may_start_nonlinear(path: list[Element], depth: int) -> bool:
    if not path:
        return False  # the input itself reaches the output
    first = path[0]
    if kind_of(first) == LayerKind.ACT or is_max_pool(first):
        return True
    layer = layer_of(first)
    if layer is None or layer.kind != "block":
        return False
    return layer.instance is None or may_start_nonlinear(layer.instance, depth + 1)


MAX_POOL = re.compile(r"max_?pool", re.IGNORECASE)
AVERAGE = re.compile(r"avg|average|mean", re.IGNORECASE)


def is_linear_map(element: Element) -> bool:
    """An operation whose output is a linear map of its input: a reshape, an average pooling (a
    global one only when its type or function names an average: timm's SelectAdaptivePool2d may
    take a maximum), a sum over a dimension, the identity or dropout. Two convolutions with only
    these and a BatchNorm between them compose into one linear map."""
    kind = kind_of(element)
    if kind in LINEAR_KINDS:
        return True
    layer = layer_of(element)
    name = layer.type_name if layer is not None else describe(element)
    if kind == LayerKind.GLOBALPOOL:
        return bool(AVERAGE.search(name)) and not MAX_POOL.search(name)
    return kind == "call" and layer is None and name in LINEAR_TENSOR_METHODS


def is_max_pool(element: Element) -> bool:
    """A max-pool by its layer type (pytorchcv's `self.pool = nn.MaxPool2d(...)`), or by the name
    every ResNet gives it when reslint cannot see its type (timm's `self.maxpool`, chosen among
    several poolings)."""
    kind = kind_of(element)
    layer = layer_of(element)
    if kind == "pool" and layer is not None and MAX_POOL.search(layer.type_name):
        return True
    return kind in ("pool", "unknown", "call") and bool(MAX_POOL.search(describe(element)))


def forward_chains(instance: Instance) -> list[tuple[Step, ...]]:
    """The steps along every tensor forward produces (what it adds and what it returns), as called:
    containers are not opened, so a step is one call in forward's code."""
    forward = instance.forward
    if forward is None:
        return []
    chains = [flow.steps for flow in _all_flows(forward.adds, forward.returns)]
    chains += [tuple(site.after) for site in forward.adds if site.after]
    return chains
