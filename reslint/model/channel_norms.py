"""A file's own per-channel norm: the channels-first LayerNorm that ConvNeXt made common.

    class LayerNorm2d(nn.Module):
        def __init__(self, num_channels, eps=1e-6):
            self.weight = nn.Parameter(torch.ones(num_channels))
            ...
        def forward(self, x):
            ...
            return self.weight[:, None, None] * x + self.bias[:, None, None]

The weight holds one value per channel and forward lines it up with the channel axis of an NCHW map,
so the map must have as many channels as the constructor was given: a norm of that many channels.
"""

from __future__ import annotations

import libcst as cst

from reslint.knowledge.layers import PARAMETER_CONSTRUCTORS
from reslint.model.call_binding import called_name, self_name
from reslint.model.walk import descendants

# What builds a weight of one value per channel: `torch.ones(n)`, `torch.zeros(n)`.
FILLED_TENSORS = frozenset({"ones", "zeros"})


def channel_norm_parameter(init: cst.FunctionDef, forward: cst.FunctionDef) -> str | None:
    """The parameter of `init` that gives the channel count, when `init` makes a weight of that
    many values (`nn.Parameter(torch.ones(channels))`) and `forward` broadcasts it over the channel
    axis (`self.weight[:, None, None]`); None otherwise."""
    sizes = _per_channel_weights(init)
    for node in descendants(forward):
        if isinstance(node, cst.Subscript) and _channel_broadcast(node):
            attribute = _own_attribute(node.value, self_name(forward))
            if attribute in sizes:
                return sizes[attribute]
    return None


def _per_channel_weights(init: cst.FunctionDef) -> dict[str, str]:
    """`self.<weight> = nn.Parameter(torch.ones(<parameter>))`: each weight to the parameter of
    `init` that sizes it."""
    receiver = self_name(init)
    parameters = {param.name.value for param in init.params.params}
    found: dict[str, str] = {}
    for node in descendants(init.body):
        if not (isinstance(node, cst.Assign) and len(node.targets) == 1):
            continue
        attribute = _own_attribute(node.targets[0].target, receiver)
        size = _filled_parameter_size(node.value)
        if attribute is not None and size in parameters and size != receiver:
            found[attribute] = size
    return found


def _filled_parameter_size(value: cst.BaseExpression) -> str | None:
    """`nn.Parameter(torch.ones(n))` -> "n" (the one positional size, a plain name)."""
    if not (isinstance(value, cst.Call) and called_name(value) in PARAMETER_CONSTRUCTORS):
        return None
    filled = value.args[0].value if value.args else None
    if not (isinstance(filled, cst.Call) and called_name(filled) in FILLED_TENSORS):
        return None
    sizes = [arg for arg in filled.args if arg.keyword is None]
    if len(sizes) != 1 or sizes[0].star or not isinstance(sizes[0].value, cst.Name):
        return None
    return sizes[0].value.value


def _channel_broadcast(node: cst.Subscript) -> bool:
    """`w[:, None, None]`: a 1-D tensor laid along the channel axis of an NCHW map."""
    parts = [element.slice for element in node.slice]
    first, rest = parts[0], parts[1:]
    return (
        isinstance(first, cst.Slice)
        and first.lower is None
        and first.upper is None
        and first.step is None
        and len(rest) >= 2
        and all(
            isinstance(part, cst.Index)
            and isinstance(part.value, cst.Name)
            and part.value.value == "None"
            for part in rest
        )
    )


def _own_attribute(node: cst.BaseExpression, self_name: str) -> str | None:
    """`self.weight` -> "weight"."""
    if (
        isinstance(node, cst.Attribute)
        and isinstance(node.value, cst.Name)
        and node.value.value == self_name
    ):
        return node.attr.value
    return None
