"""The height (or width) of a feature map along a run of layers, for one input size and one stride.

Convolutions and poolings change it by `(size + 2 * padding - dilation * (kernel - 1) - 1) // stride
+ 1`; norms, activations and the like keep it. A branch's size is known only when every layer on it
is one of these with constant kernel, padding and dilation; a stride may be a size symbol
(`stride`), which the caller sets for each configuration it tries."""

from __future__ import annotations

from collections.abc import Iterable

from reslint.model.queries import Element, Layer, kind_of, layer_of
from reslint.model.symbolic import Expr, Lookup, with_stride

# Layers that never change the spatial size.
STRIDE_ONE = {"batchnorm", "norm", "act", "dropout", "identity", "mul", "undecided"}


def size_after(elements: Iterable[Element], size: int, lookup: Lookup) -> int | None:
    """The map size after the elements, starting from `size`; None when a layer's effect is unknown."""
    for element in elements:
        layer = layer_of(element)
        kind = kind_of(element)
        if kind in STRIDE_ONE:
            continue
        if layer is None or kind not in ("conv", "pool", "avgpool"):
            return None
        window = _window(layer, kind, lookup)
        if window is None:
            return None
        kernel, stride, padding, dilation = window
        size = (size + 2 * padding - dilation * (kernel - 1) - 1) // stride + 1
        if size < 1:
            return None
    return size


def strided(stride: int) -> Lookup:
    """Every stride symbol at `stride`; other sizes stay unknown (a stride that depends on them)."""
    return with_stride(lambda _name, _domain: None, stride)


def downsample_alike(main: Iterable[Element], shortcut: Iterable[Element]) -> bool:
    """Whether a projection shortcut shrinks the map exactly as the branch does, for every input
    size and stride tried (XFeat's two stride-2 layers beside an `AvgPool2d(4)` skip)."""
    main, shortcut = list(main), list(shortcut)
    if not shortcut:
        return False
    for lookup in map(strided, (1, 2)):
        for size in (32, 56, 64):
            mine, theirs = size_after(main, size, lookup), size_after(shortcut, size, lookup)
            if mine is None or mine != theirs:
                return False
    return True


def growth(layer: Layer) -> int | None:
    """How many pixels a stride-1 convolution adds to each side pair of the map (negative: removes);
    None when its kernel, padding or dilation is not a constant."""
    kernel, padding, dilation = (
        _constant(layer.arg(name)) for name in ("kernel_size", "padding", "dilation")
    )
    if kernel is None or padding is None or dilation is None:
        return None
    return 2 * padding - dilation * (kernel - 1)


def _window(layer: Layer, kind: str, lookup: Lookup) -> tuple[int, int, int, int] | None:
    """(kernel, stride, padding, dilation) of a convolution or pooling, or None when one is unknown
    or the pooling may round up (`ceil_mode`, another formula)."""
    if kind != "conv" and layer.args.get("ceil_mode", False) is not False:
        if _constant(layer.arg("ceil_mode")) != 0:
            return None
    stride_value = layer.arg("stride")
    if kind != "conv" and not isinstance(stride_value, Expr):
        stride_value = layer.arg("kernel_size")  # a pooling's stride defaults to its kernel
    kernel = _constant(layer.arg("kernel_size"))
    stride = _evaluated(stride_value, lookup)
    # A pooling left at torch's default pads nothing (a conv's defaults are filled in already).
    padding = (
        0 if kind != "conv" and "padding" not in layer.args else _constant(layer.arg("padding"))
    )
    dilation = _constant(layer.arg("dilation")) if kind == "conv" else 1
    if kernel is None or stride is None or padding is None or dilation is None or stride < 1:
        return None
    return kernel, stride, padding, dilation


def _constant(value: object) -> int | None:
    if not isinstance(value, Expr) or value.constant is None:
        return None
    number = value.constant
    return int(number) if number == int(number) else None


def _evaluated(value: object, lookup: Lookup) -> int | None:
    if not isinstance(value, Expr):
        return None
    number = value.evaluate(lookup)
    return int(number) if number is not None and number == int(number) else None
