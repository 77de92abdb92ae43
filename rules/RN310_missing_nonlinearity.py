"""RN310 missing-nonlinearity."""

from __future__ import annotations

from collections.abc import Iterator

from reslint.knowledge.layers import NORMS, LayerKind
from reslint.model import ModuleModel
from reslint.model.classes import Instance
from reslint.model.constructions import built_inside_modules
from reslint.model.queries import (
    Element,
    anchor_of,
    describe,
    entry_conv,
    is_linear_map,
    is_max_pool,
    kind_of,
    layer_of,
    layer_sequences,
    may_start_nonlinear,
    residual_blocks,
    residuals,
    stem,
)
from reslint.model.symbolic import Expr, at_defaults
from reslint.model.values import Layer, compatible
from reslint.rule import Rule, Violation
from reslint.rules_support import unique


class MissingNonlinearity(Rule):
    """## What it does
    Checks for a convolution followed by its norm with no activation where one belongs: between the
    convolutions of a residual branch, and in the stem before the first stage (conv, BN, then straight
    into the max-pool).

    ## Why is this bad?
    Two convolutions with nothing but BatchNorm between them compose into one linear map: the branch
    has the depth and the cost of two layers and the expressive power of one. A stem without its ReLU
    feeds negative values into the max-pool and the first block. The network still trains, a few
    points worse, and nothing fails.

    ## Example
    ```python
    out = self.bn1(self.conv1(x))
    out = self.bn2(self.conv2(out))
    ```

    Use instead:
    ```python
    out = self.relu(self.bn1(self.conv1(x)))
    out = self.bn2(self.conv2(out))
    ```
    """

    code = "RN310"
    name = "missing-nonlinearity"

    def check(self, module: ModuleModel) -> Iterator[Violation]:
        yield from unique(self._check(module))

    def _check(self, module: ModuleModel) -> Iterator[Violation]:
        for instance in module.instances():
            for residual in residuals(instance):
                for main in residual.mains:
                    yield from _between_convs(main)
            leading = stem(instance)
            if (
                leading
                and not _first_block_may_start_nonlinear(instance)
                and not built_inside_modules(instance.cls)
            ):
                # a network: its stem ends at the first residual block. A stage another module
                # builds starts from the previous stage's output: its leading conv and norm are a
                # transition (a patch embedding), not the network's first layer.
                yield from _in_stem(leading, network=True)
            for chain in layer_sequences(instance):  # conv -> BN -> max-pool on any path
                yield from _in_stem(chain, network=False)
            # conv -> BN -> conv that the module writes out itself, in a branch that is no
            # residual (an attention gate's fc1 -> bn -> fc2); a helper block or container is
            # left whole, since one built without its activation (a linear bottleneck) is chosen.
            for chain in layer_sequences(instance, open_containers=False):
                yield from _between_convs(chain)


def _first_block_may_start_nonlinear(network: Instance) -> bool:
    """The first residual block may start every path from its input with an activation or a
    max-pool (NASNet's and PNASNet's cells): then no conv of it composes linearly with the stem's."""
    blocks = residual_blocks(network)
    first = blocks[0].instance if blocks else None
    return first is not None and may_start_nonlinear(first)


def _between_convs(branch: list[Element]) -> Iterator[Violation]:
    """Two plain convolutions with only a norm, and operations that are linear maps (a reshape,
    an average pooling, a sum), between them."""
    previous: Element | None = None
    last_norm: Element | None = None
    reshaped: list[Element] = []  # the linear operations since `previous`, named in the message
    for element in branch:
        kind = kind_of(element)
        layer = layer_of(element)
        conv = entry_conv(layer) if layer is not None else None
        if conv is not None:
            # conv -> norm -> conv. Two convs back to back are often meant (a factorised or
            # separable pair); a norm between them says the first was meant to be a full layer.
            # The second may be a block of the project that starts with its conv (ResNeSt's
            # split-attention conv).
            if (
                previous is not None
                and last_norm is not None
                and _plain(layer_of(previous))
                and _plain(conv)
                and _together(previous, last_norm, element)
            ):
                also = "".join(f", `{describe(step)}`" for step in reshaped)
                yield Violation(
                    anchor_of(last_norm),
                    f"nothing but `{describe(last_norm)}`{also} between `{describe(previous)}` "
                    f"and `{describe(element)}`: the two convolutions compose into one linear map",
                    f"apply the activation after `{describe(last_norm)}`",
                )
            # What a block ends with is its own forward's business.
            previous, last_norm, reshaped = (element if kind == "conv" else None), None, []
        elif _linear_norm(element) and previous is not None:
            last_norm = element
        elif is_linear_map(element):
            if kind not in ("dropout", "identity"):
                reshaped.append(element)
        else:
            previous = None  # an activation, or something reslint cannot read


def _in_stem(elements: list[Element], network: bool) -> Iterator[Violation]:
    """The stem's first conv and its norm reach the max-pool (or, in a network, the first block)
    with no activation."""
    kinds = [kind_of(e) for e in elements]
    weighted = [i for i, kind in enumerate(kinds) if kind in ("conv", "linear", "block")]
    if not weighted or kinds[weighted[0]] != "conv":
        return
    first_conv = weighted[0]
    if "act" in kinds[:first_conv]:
        return  # ReLU -> conv -> BN (NASNet's units): the activation comes first, not a stem
    if _patch_embedding(elements[first_conv]):
        return  # ConvNeXt's "patchify" stem: a linear embedding of non-overlapping patches by design
    end = first_conv + 1
    while end < len(kinds) and kinds[end] in (*NORMS, "dropout"):
        end += 1
    norms = [e for e in elements[first_conv + 1 : end] if kind_of(e) in NORMS]
    if not norms:
        return  # a bare conv: pre-activation blocks normalise and rectify it themselves
    if not all(map(_linear_norm, norms)):
        return
    reaches_pool = end < len(kinds) and is_max_pool(elements[end])
    if not reaches_pool and not (network and end == len(kinds)):
        return  # an activation next, or something reslint cannot read
    if reaches_pool and end + 1 < len(kinds) and kinds[end + 1] == "act":
        return  # conv -> BN -> max-pool -> ReLU: max-pooling commutes with ReLU, the same stem
    yield Violation(
        anchor_of(norms[-1]),
        f"the stem goes from `{describe(norms[-1])}` to "
        f"{'the max-pool' if reaches_pool else 'the first stage'} with no activation: the stem "
        "conv and what follows act as one linear map on its output",
        f"apply ReLU after `{describe(norms[-1])}` (conv -> BN -> ReLU -> max-pool)",
    )


def _linear_norm(element: Element) -> bool:
    """A BatchNorm: at inference a fixed affine map per channel, so it composes linearly with the
    convs around it. A LayerNorm, GroupNorm or InstanceNorm divides each sample by its own
    statistics, which is not linear; a norm reslint cannot identify may be either."""
    return kind_of(element) == LayerKind.BATCHNORM


def _patch_embedding(element: Element) -> bool:
    """A conv whose kernel equals its stride (4x4, stride 4): it cuts the image into patches and
    embeds each linearly, as ConvNeXt, Swin and FasterNet stems do, and the norm after it is the
    embedding's; the blocks bring the nonlinearity."""
    layer = layer_of(element)
    if layer is None:
        return False
    kernel, stride = layer.arg("kernel_size"), layer.arg("stride")
    if not isinstance(kernel, Expr) or not isinstance(stride, Expr) or stride.constant == 1:
        return False
    # The same number, or the same value passed twice (`nn.Conv2d(c, 2 * c, patch_size, patch_size)`).
    return (kernel.constant is not None and kernel.constant == stride.constant) or (
        kernel.op == "var" and kernel.formula == stride.formula
    )


def _together(*elements: Element) -> bool:
    """Layers built in exclusive branches (`if expand != 1` twice, a ModuleList filled by
    `if kind == 'small' / else`) never run one after the other."""
    layers = [layer_of(e) for e in elements]
    return compatible(*(layer.guards for layer in layers if layer is not None))


def _plain(layer: Layer | None) -> bool:
    """An ordinary convolution: not depthwise or grouped (a separable pair has no activation
    between its halves by design). A block's `groups=1` parameter counts as plain: ResNeXt widths
    reuse the block, and its activations with it. So does a cardinality the block is given without
    a default (`groups` of an SE-ResNeXt bottleneck): a separable pair ties its groups to the
    channels instead. So does a formula of the block's parameters that, at their defaults, makes
    fewer groups than channels (ResNeSt's `groups * radix` = 2): a separable pair has one group
    per channel."""
    if layer is None or not isinstance(groups := layer.arg("groups"), Expr):
        return False
    return (
        groups.constant == 1
        or (groups.op == "var" and groups.domain == (1,))
        or (groups.op == "var" and not groups.domain and groups != layer.channels_in)
        or _fewer_groups_than_channels(groups, layer.channels_in)
    )


def _fewer_groups_than_channels(groups: Expr, channels: object) -> bool:
    """Groups written as a formula other than the channel count's, fewer than the channels at the
    defaults (in some configuration the block allows: its input width may have alternatives)."""
    if groups.op in ("var", "const") or not isinstance(channels, Expr) or groups == channels:
        return False
    counts, widths = at_defaults(groups), at_defaults(channels)
    return bool(counts and widths) and max(counts or ()) < max(widths or ())


MissingNonlinearity.INVALID = [
    """
import torch.nn as nn
class Block(nn.Module):
    def __init__(self, c):
        super().__init__()
        self.conv1 = nn.Conv2d(c, c, 3, padding=1, bias=False)
        self.bn1 = nn.BatchNorm2d(c)
        self.conv2 = nn.Conv2d(c, c, 3, padding=1, bias=False)
        self.bn2 = nn.BatchNorm2d(c)
        self.relu = nn.ReLU()
    def forward(self, x):
        out = self.bn1(self.conv1(x))
        out = self.bn2(self.conv2(out))
        return self.relu(out + x)
""",
    """
import torch.nn as nn
class Block(nn.Module):
    def __init__(self, c):
        super().__init__()
        self.conv = nn.Conv2d(c, c, 3, padding=1, bias=False)
        self.bn = nn.BatchNorm2d(c)
    def forward(self, x):
        return x + self.bn(self.conv(x))
class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.conv1 = nn.Conv2d(3, 64, 7, 2, 3, bias=False)
        self.bn1 = nn.BatchNorm2d(64)
        self.maxpool = nn.MaxPool2d(3, 2, 1)
        self.layer1 = nn.Sequential(Block(64), Block(64))
    def forward(self, x):
        return self.layer1(self.maxpool(self.bn1(self.conv1(x))))
""",
]
MissingNonlinearity.VALID = [
    """
import torch.nn as nn
import torch.nn.functional as F
class Block(nn.Module):
    def __init__(self, c):
        super().__init__()
        self.conv1 = nn.Conv2d(c, c, 3, padding=1, bias=False)
        self.bn1 = nn.BatchNorm2d(c)
        self.conv2 = nn.Conv2d(c, c, 3, padding=1, bias=False)
        self.bn2 = nn.BatchNorm2d(c)
    def forward(self, x):
        out = F.relu(self.bn1(self.conv1(x)))
        return F.relu(x + self.bn2(self.conv2(out)))
""",
    """
import torch.nn as nn
class SeparableBlock(nn.Module):
    def __init__(self, c):
        super().__init__()
        self.dw = nn.Conv2d(c, c, 3, padding=1, groups=c, bias=False)
        self.pw = nn.Conv2d(c, c, 1, bias=False)
        self.bn = nn.BatchNorm2d(c)
    def forward(self, x):
        return x + self.bn(self.pw(self.dw(x)))
""",
]
# conv -> BN -> max-pool -> ReLU: the pool commutes with ReLU, so the stem is rectified.
MissingNonlinearity.VALID.append(
    MissingNonlinearity.INVALID[1].replace(
        "self.layer1(self.maxpool(self.bn1(self.conv1(x))))",
        "self.layer1(nn.functional.relu(self.maxpool(self.bn1(self.conv1(x)))))",
    )
)
