"""RN305 shortcut-stride-mismatch."""

from __future__ import annotations

from collections.abc import Iterator

from reslint.model import ModuleModel
from reslint.model.queries import (
    Chain,
    Element,
    Layer,
    Residual,
    anchor_of,
    convs_of,
    describe,
    kind_of,
    layer_of,
    residuals,
)
from reslint.model.spatial import STRIDE_ONE
from reslint.model.symbolic import (
    Assumptions,
    Expr,
    Relation,
    combine,
    const,
    differ_when_strided,
    equal_at_block_strides,
    reads_a_stride,
    relation,
)
from reslint.model.values import compatible
from reslint.rule import Rule, Violation
from reslint.rules_support import quoted, unique


class ShortcutStrideMismatch(Rule):
    """## What it does
    Checks that a projection shortcut downsamples by the same total stride as the block's main branch.

    ## Why is this bad?
    When the main branch halves the feature map but the 1x1 projection keeps stride 1, the two
    tensors no longer have the same height and width and `out += identity` fails with
    `The size of tensor a (28) must match the size of tensor b (56)` — in the first block of every
    downsampling stage.

    ## Example
    ```python
    downsample = nn.Sequential(
        conv1x1(self.inplanes, planes * block.expansion),
        norm_layer(planes * block.expansion),
    )
    ```

    Use instead:
    ```python
    downsample = nn.Sequential(
        conv1x1(self.inplanes, planes * block.expansion, stride),
        norm_layer(planes * block.expansion),
    )
    ```
    """

    code = "RN305"
    defers_to = ("RN304",)
    name = "shortcut-stride-mismatch"

    def check(self, module: ModuleModel) -> Iterator[Violation]:
        yield from unique(self._check(module))

    def _check(self, module: ModuleModel) -> Iterator[Violation]:
        for instance in module.instances():
            for residual in residuals(instance):
                if residual.main_after_sum or _total_stride(residual.main) is None:
                    continue
                # Several strided convs in the main branch: RN304's finding on one of them is the cause.
                strided = _strided_convs(residual.main)
                # RN304 reports a conv inside a helper class where the block built it.
                causes = (
                    tuple(("RN304", anchor_of(residual.main.holder(conv))) for conv in strided)
                    if len(strided) > 1
                    else ()
                )
                # An alternative that follows the block's stride (`pool(x) if self.downsample else x`)
                # shows the block handles it: a fixed-stride alternative is then for another path.
                handled = any(
                    stride is not None and stride.constant is None
                    for stride in map(_total_stride, residual.shortcuts)
                )
                # The identity and a stride-2 projection, picked by a flag of the block's own
                # (`if self.downsample: x = self.conv1x1(x)`): the flag stands for the stride, and
                # the builder that sets both decides.
                fixed = {
                    stride.constant
                    for stride in map(_total_stride, residual.shortcuts)
                    if stride is not None and stride.constant is not None
                }
                flagged = fixed >= {1, 2}
                for shortcut in residual.shortcuts:
                    convs = convs_of(shortcut)
                    short_stride = _total_stride(shortcut)
                    if not convs or short_stride is None:
                        continue
                    # The main branch this shortcut is added to: its layers built in the same
                    # branches of __init__'s `if`s (`if is_first: conv2 = ...(stride=1)` goes with
                    # that branch's projection, not with the strided one of the `else`).
                    main = _main_with(residual, convs)
                    main_stride = _total_stride(main) if main is not None else None
                    if (
                        main is None
                        or main_stride is None
                        or _another_main_agrees(residual, main, shortcut, short_stride)
                    ):
                        continue
                    # The shortcut exists only where its construction's conditions hold
                    # (`if stride == 2: self.shortcut = Sequential(AvgPool2d(2), conv)`).
                    # So does the path of forward it is computed on (`... if self.downsample else x`).
                    # So do the convs of a helper block built there (`self.shortcut =
                    # PoolConv(...)` under `if stride == 2:`): the block's guards hold for them.
                    assume = shortcut.assuming([*convs, *map(shortcut.holder, convs)])
                    by_flag = flagged and not assume  # no size test decides which one runs
                    if not _provably_different(
                        main_stride, short_stride, assume, handled or by_flag
                    ):
                        continue
                    yield Violation(
                        convs[0].anchor,
                        f"the projection `{describe(convs[0])}` downsamples by {quoted(short_stride)} but the "
                        f"main branch by {quoted(main_stride)}: the two tensors cannot be added",
                        f"make the shortcut downsample by {quoted(main_stride)} too, as the main "
                        "branch does",
                        defers_to=causes,
                    )


def _main_with(residual: Residual, convs: list[Layer]) -> list[Element] | None:
    """The heaviest main branch that can exist together with the shortcut's convs."""
    if _exists_with(residual.main, convs):
        return residual.main
    return next((main for main in residual.mains if _exists_with(main, convs)), None)


def _another_main_agrees(
    residual: Residual, main: list[Element], shortcut: Chain, stride: Expr
) -> bool:
    """Whether another main branch that can exist with the shortcut's convs downsamples by the
    shortcut's stride. Forward's flags (`if self.down: h = pool(h); x = pool(x)`) choose the main
    branch and the shortcut together, and reslint does not pair them: the one the shortcut is
    added to may be that other branch."""
    convs = convs_of(shortcut)
    return any(
        other is not main
        and _exists_with(other, convs)
        and (total := _total_stride(other)) is not None
        and relation(total, stride, shortcut.assuming(convs)) is Relation.EQUAL
        for other in residual.mains
    )


def _exists_with(main: list[Element], convs: list[Layer]) -> bool:
    layers = [layer for layer in map(layer_of, main) if layer is not None]
    return compatible(*(layer.guards for layer in (*layers, *convs)))


def _strided_convs(elements: list[Element]) -> list[Layer]:
    return [
        conv
        for conv in convs_of(elements)
        if isinstance(stride := conv.arg("stride"), Expr)
        and (stride.constant is None or stride.constant > 1)
    ]


def _provably_different(
    main: Expr, shortcut: Expr, assume: Assumptions, stride_handled: bool
) -> bool:
    """Different for every sample where the shortcut exists, or a block meant to take a stride
    (`stride`) whose projection's stride is fixed, so that a stride of 2 breaks the addition (unless
    another shortcut alternative follows the stride, or the projection exists only where the stride
    cannot be 2)."""
    if relation(main, shortcut, assume) is Relation.DIFFERENT:
        # Unless the samples' unusual strides made it so: at strides of 1 and 2 they agree.
        return not equal_at_block_strides(main, shortcut, assume)
    if stride_handled:
        return False
    strided_by_parameter = main.constant is None and reads_a_stride(main)
    return (
        strided_by_parameter
        and shortcut.constant is not None
        and differ_when_strided(main, shortcut, assume)
    )


def _total_stride(elements: list[Element]) -> Expr | None:
    """The product of the strides along a branch; None as soon as an element's stride is unknown,
    or when the branch joins layers built in exclusive branches of an `if` (a 'small' and a 'big'
    variant appended to one ModuleList that forward runs in a loop): no call runs them all."""
    layers = [layer for layer in map(layer_of, elements) if layer is not None]
    if not compatible(*(layer.guards for layer in layers)):
        return None
    total = const(1)
    for item in elements:
        element = layer_of(item)
        kind = kind_of(item)
        if element is None and kind in STRIDE_ONE:
            continue
        if element is None:
            return None  # a functional pool, a slice, a call: stride unknown
        if kind in ("conv", "avgpool", "pool"):
            stride = element.arg("stride")
            if kind != "conv" and (stride is None or not isinstance(stride, Expr)):
                stride = element.arg("kernel_size")
            if not isinstance(stride, Expr):
                return None
            if stride.constant != 1:  # keep the user's words: `stride`, not `1 * stride * 1`
                total = stride if total.constant == 1 else combine("*", [total, stride])
        elif kind not in STRIDE_ONE:
            return None  # a block, an unknown module: reslint cannot see its stride
    return total


ShortcutStrideMismatch.INVALID = [
    """
import torch.nn as nn
class Block(nn.Module):
    def __init__(self, cin, cout):
        super().__init__()
        self.conv = nn.Conv2d(cin, cout, 3, stride=2, padding=1, bias=False)
        self.bn = nn.BatchNorm2d(cout)
        self.shortcut = nn.Sequential(nn.Conv2d(cin, cout, 1, bias=False), nn.BatchNorm2d(cout))
    def forward(self, x):
        return self.bn(self.conv(x)) + self.shortcut(x)
"""
]
ShortcutStrideMismatch.VALID = [
    """
import torch.nn as nn
class Block(nn.Module):
    def __init__(self, cin, cout, stride=1):
        super().__init__()
        self.conv = nn.Conv2d(cin, cout, 3, stride=stride, padding=1, bias=False)
        self.bn = nn.BatchNorm2d(cout)
        self.shortcut = nn.Sequential(
            nn.AvgPool2d(stride, stride), nn.Conv2d(cin, cout, 1, bias=False), nn.BatchNorm2d(cout)
        )
    def forward(self, x):
        return self.bn(self.conv(x)) + self.shortcut(x)
"""
]
