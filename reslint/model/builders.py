"""Framework calls as layers: `conv3x3_block(c, c, stride=2)` becomes conv -> BatchNorm -> ReLU.

The facts (which call builds what) are in reslint.knowledge.frameworks; this module turns one call,
with the arguments the interpreter worked out, into the model's values.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Any

import libcst as cst

from reslint.knowledge.frameworks import (
    BATCHNORM,
    MMCV_BATCHNORM_TYPES,
    TIMM_POOL_TYPES,
    Builder,
    Part,
)
from reslint.knowledge.layers import LAYER_KINDS, UNNAMED_ACTIVATION, LayerKind
from reslint.model import symbolic
from reslint.model.values import (
    OPEN_KWARGS,
    UNKNOWN,
    DictValue,
    Layer,
    ListValue,
    Param,
    Partial,
    TorchRef,
)

# A part whose presence reslint cannot decide (`activation=act` with `act` unknown): it keeps the
# channel count, and no rule may count it as an activation or as its absence.
UNDECIDED = "undecided"


@dataclass(frozen=True, eq=False)
class LayerClass:
    """A layer class a framework call returned (`get_norm_act_layer(...)`, `lambda_relu()`), built
    when called."""

    builder: Builder
    name: str


def build(
    builder: Builder,
    name: str,
    args: list[Any],
    kwargs: dict[str, Any],
    node: cst.CSTNode,
    guards: tuple,
) -> Any:
    """What calling `name` (a framework builder) with these arguments gives."""
    bound = dict(zip(builder.params, args))
    bound.update(kwargs)
    if any(bound.get(name) not in (None, False) for name in builder.unread):
        return UNKNOWN  # a transposed conv, another order of the parts: not what the table says
    if builder.returns == "class":
        return LayerClass(builder.makes or builder, name)
    if builder.returns == "same":
        first = bound.get(builder.params[0], UNKNOWN) if builder.params else UNKNOWN
        if not isinstance(first, str):
            return first
        return LayerClass(_named_norm(builder.makes or builder, first), name)
    layers = _parts(builder, name, bound, node, guards)
    preact = builder.preact is not None and bound.get(builder.preact) is True
    if builder.returns == "named":  # mmcv: (name, layer); the name is what add_module will use
        postfix = bound.get("postfix")
        suffix = _text(postfix) if postfix is not None else ""
        return ListValue([f"bn{suffix}", layers[0]])
    if builder.returns == "optional":  # timm's create_attn: its one part, or None when off
        return layers[0] if layers else None
    if builder.returns == "classifier":  # timm: (global pool, fc)
        return ListValue(list(layers))
    if len(layers) == 1:
        layers[0].returns_preact = preact
        return layers[0]
    for layer in layers:
        layer.label = f"{name}(...)'s {part_name(layer)}"
    built = Layer("sequential", name, node, {}, list(layers), guards=guards, built_by=name)
    built.returns_preact = preact
    return built


def _named_norm(makes: Builder, chosen: str) -> Builder:
    """timm's `get_norm_layer("layernorm2d")`: the name says which norm the class builds; only a
    batch norm's name keeps the table's BatchNorm."""
    if makes.parts[:1] != (BATCHNORM,) or "batch" in chosen.lower():
        return makes
    return replace(makes, parts=(Part(LayerKind.NORM, chosen),))


def part_name(layer: Layer) -> str:
    """What a part of a framework block is called in messages: `conv2`'s activation."""
    return {"conv": "convolution", "batchnorm": "norm", "act": "activation"}.get(
        layer.kind, layer.type_name
    )


def _parts(
    builder: Builder, name: str, bound: dict[str, Any], node: cst.CSTNode, guards: tuple
) -> list[Layer]:
    channels_in = bound.get(builder.in_channels, UNKNOWN) if builder.in_channels else UNKNOWN
    channels_out = bound.get(builder.out_channels, UNKNOWN) if builder.out_channels else UNKNOWN
    stride = bound.get(builder.stride, symbolic.const(1)) if builder.stride else UNKNOWN
    open_kwargs = bool(bound.get(OPEN_KWARGS))
    layers: list[Layer] = []
    seen_conv = False
    conv_only = _present(Part("conv", "", builder.conv_only, False), bound, open_kwargs)
    for part in builder.parts:
        present = _present(part, bound, open_kwargs)
        if part.kind != "conv" and builder.conv_only and present is not False:
            present = False if conv_only is True else None if conv_only is None else present
        if present is False:
            continue
        if present is None:
            layers.append(Layer(UNDECIDED, part.type_name, node, {}, guards=guards, built_by=name))
            continue
        channels = channels_out if seen_conv else channels_in
        args = _arguments(part, bound, channels_in, channels_out, stride, channels)
        if part.kind == "conv" and _flag(bound, builder.depthwise):
            args["groups"] = channels_in
        type_name = _chosen_type(part, bound) or part.type_name
        chosen = bound.get(part.chosen_by or part.switch or "")
        kind = (
            (_chosen_norm_kind(chosen) if part.kind == LayerKind.BATCHNORM else None)
            or (LAYER_KINDS.get(type_name) if part.kind == LayerKind.POOL else None)
            or part.kind
        )
        layer = Layer(kind, type_name, node, args, guards=guards, built_by=name)
        layer.default_of = chosen.name if isinstance(chosen, Param) else ""
        layers.append(layer)
        seen_conv |= part.kind == "conv"
    return layers


def _chosen_type(part: Part, bound: dict[str, Any]) -> str | None:
    """The torch class the call passes for a part (`activation_layer=nn.SiLU`): its name, where the
    table only knows the default (ReLU)."""
    chooser = part.chosen_by or part.switch
    value = bound.get(chooser) if chooser else None
    if isinstance(value, Param):
        value = value.default
    if part.kind == LayerKind.ACT and part.chosen_by is not None:
        # monai's get_act_layer(("elu", {...})), timm's create_act_layer("silu") or
        # ConvNormAct(..., act_layer=nn.SiLU): the name or class says which; one left out is the
        # table's default, and one reslint cannot read leaves the activation unnamed.
        if part.chosen_by not in bound:
            return UNNAMED_ACTIVATION if bound.get(OPEN_KWARGS) else None
        if isinstance(value, ListValue) and value.items:
            value = value.items[0]
        if isinstance(value, TorchRef):
            return value.short
        return value if isinstance(value, str) else UNNAMED_ACTIVATION
    if part.kind == LayerKind.POOL and isinstance(value, str):
        return TIMM_POOL_TYPES.get(value)
    if isinstance(value, DictValue) and part.kind == "act":
        # mmcv's act_cfg=dict(type='LeakyReLU', negative_slope=0.1): the registry name is the class's.
        chosen = value.items.get("type")
        return chosen if isinstance(chosen, str) else None
    return value.short if isinstance(value, TorchRef) else None


def _chosen_norm_kind(value: Any) -> str | None:
    """What kind of norm the call asks for (`norm_layer=partial(LayerNorm2d, eps=1e-6)`,
    `norm_cfg=dict(type="GN")`): None where the table's default stands (no choice made, or a batch
    norm chosen), "norm" for any other normalisation; only a batch norm subtracts a mean per channel
    over the batch."""
    while isinstance(value, Param | Partial):
        value = value.default if isinstance(value, Param) else value.func
    if value is None or value is True or value is UNKNOWN or value is False:
        return None
    if isinstance(value, DictValue):
        chosen = value.items.get("type")
        batch = isinstance(chosen, str) and (
            chosen in MMCV_BATCHNORM_TYPES or LAYER_KINDS.get(chosen) == LayerKind.BATCHNORM
        )
        return None if batch else LayerKind.NORM
    if isinstance(value, TorchRef):
        return None if LAYER_KINDS.get(value.short) == LayerKind.BATCHNORM else LayerKind.NORM
    if isinstance(value, LayerClass):
        return None if value.builder.parts[:1] == (BATCHNORM,) else LayerKind.NORM
    return LayerKind.NORM


def _present(part: Part, bound: dict[str, Any], open_kwargs: bool) -> bool | None:
    """Whether a part is built: None when it depends on something reslint cannot see."""
    if part.kind == LayerKind.ACT and part.chosen_by in bound and _is_none(bound[part.chosen_by]):
        # `ConvNormAct(..., act_layer=None)`: no activation class, no activation (timm's
        # create_act gives an Identity), whatever the switch says.
        return False
    if part.switch is None:
        return True
    if part.switch not in bound:
        return None if open_kwargs else part.on_by_default
    value = bound[part.switch]
    if isinstance(value, Param):
        value = value.default
    if value is None or value is False:
        return False
    if value is UNKNOWN:
        return None
    return True


def _is_none(value: Any) -> bool:
    """None, or a parameter whose default is None (the configuration that leaves it out)."""
    return (value.default if isinstance(value, Param) else value) is None


def _arguments(
    part: Part,
    bound: dict[str, Any],
    channels_in: Any,
    channels_out: Any,
    stride: Any,
    channels: Any,
) -> dict[str, Any]:
    if part.kind == "conv":
        return {
            "in_channels": channels_in,
            "out_channels": channels_out,
            "stride": stride,
            "kernel_size": bound.get("kernel_size", UNKNOWN),
            "groups": bound.get("groups", symbolic.const(1)),
            "dilation": bound.get("dilation", symbolic.const(1)),
            # Libraries choose the bias themselves (mmcv's bias="auto"): only an explicit one counts.
            "bias": bound.get("bias", UNKNOWN),
        }
    if part.kind == "linear":
        return {"in_features": channels_in, "out_features": channels_out}
    if part.kind in ("batchnorm", "norm"):
        return {"num_features": channels}
    if part.kind == "pool":
        kernel = bound.get("kernel_size", UNKNOWN)
        return {"kernel_size": kernel, "stride": stride if "stride" in bound else kernel}
    return {}


def _flag(bound: dict[str, Any], name: str | None) -> bool:
    """Whether the call surely sets a flag (`depthwise=True`)."""
    value = bound.get(name) if name else None
    return isinstance(value, bool) and value


def _text(value: Any) -> str:
    constant = getattr(value, "constant", None)
    if constant is not None:
        return str(int(constant)) if float(constant).is_integer() else str(constant)
    return value if isinstance(value, str) else ""
