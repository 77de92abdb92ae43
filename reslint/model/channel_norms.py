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
The same holds for a frozen BatchNorm's buffers (`self.register_buffer("weight", torch.ones(n))`,
read as `self.weight.reshape(1, -1, 1, 1)`).
"""

from __future__ import annotations

import libcst as cst

from reslint.knowledge.layers import TENSOR_CLASSES
from reslint.model.call_binding import called_name, self_name
from reslint.model.walk import descendants

# What builds a weight of one value per channel: `torch.ones(n)`, `torch.zeros(n)`.
FILLED_TENSORS = frozenset({"ones", "zeros"})
# Tensor methods that lay a 1-D weight out anew: `w.reshape(1, -1, 1, 1)`.
RESHAPES = frozenset({"reshape", "view"})
# Tensor methods that move or regroup a map's axes: after them, dim 1 is no longer its channels.
REGROUPINGS = RESHAPES | frozenset(
    {"flatten", "unflatten", "permute", "transpose", "movedim", "chunk", "split"}
)


def channel_norm_parameter(init: cst.FunctionDef, forward: cst.FunctionDef) -> str | None:
    """The parameter of `init` that gives the channel count, when `init` makes a weight of that
    many values (`nn.Parameter(torch.ones(channels))`) and `forward` broadcasts it over the channel
    axis (`self.weight[:, None, None]`); None otherwise."""
    receiver = self_name(forward)
    if not _takes_one_tensor(forward) or _reshapes_a_tensor(forward, receiver):
        return None  # a weight per head of a map it made (attention), not per channel of its input
    sizes = _per_channel_weights(init)
    for node in descendants(forward):
        broadcast = _channel_broadcast(node)
        attribute = _own_attribute(broadcast, receiver) if broadcast is not None else None
        if attribute in sizes:
            return sizes[attribute]
    return None


def _takes_one_tensor(forward: cst.FunctionDef) -> bool:
    """`forward(self, x)`: the module transforms one input."""
    params = forward.params
    return (
        len(params.posonly_params) + len(params.params) == 2
        and not params.kwonly_params
        and not isinstance(params.star_arg, cst.Param)
        and params.star_kwarg is None
    )


def _reshapes_a_tensor(forward: cst.FunctionDef, receiver: str) -> bool:
    """Whether forward regroups the axes of a tensor other than one of the module's own weights."""
    return any(
        isinstance(node, cst.Call)
        and isinstance(node.func, cst.Attribute)
        and node.func.attr.value in REGROUPINGS
        and _own_attribute(node.func.value, receiver) is None
        for node in descendants(forward)
    )


def _per_channel_weights(init: cst.FunctionDef) -> dict[str, str]:
    """`self.<weight> = nn.Parameter(torch.ones(<parameter>))`: each weight to the parameter of
    `init` that sizes it."""
    receiver = self_name(init)
    parameters = {param.name.value for param in init.params.params}
    found: dict[str, str] = {}
    for node in descendants(init.body):
        attribute, size = _stored_weight(node, receiver)
        if attribute is not None and size in parameters and size != receiver:
            found[attribute] = size
    return found


def _stored_weight(node: cst.CSTNode, receiver: str) -> tuple[str | None, str | None]:
    """`self.w = nn.Parameter(torch.ones(n))` (or `nn.Buffer(...)`) and
    `self.register_buffer("w", torch.ones(n))`: the attribute and the name that sizes it."""
    if isinstance(node, cst.Assign) and len(node.targets) == 1:
        value, target = node.value, node.targets[0].target
        if isinstance(value, cst.Call) and called_name(value) in TENSOR_CLASSES and value.args:
            return _own_attribute(target, receiver), _filled_size(value.args[0].value)
    if (
        isinstance(node, cst.Call)
        and called_name(node) == "register_buffer"
        and isinstance(node.func, cst.Attribute)
        and _is_name(node.func.value, receiver)
        and len(node.args) >= 2
        and isinstance(node.args[0].value, cst.SimpleString)
    ):
        name = node.args[0].value.evaluated_value
        return (name if isinstance(name, str) else None), _filled_size(node.args[1].value)
    return None, None


def _filled_size(filled: cst.BaseExpression) -> str | None:
    """`torch.ones(n)` -> "n" (the one positional size, a plain name)."""
    if not (isinstance(filled, cst.Call) and called_name(filled) in FILLED_TENSORS):
        return None
    sizes = [arg for arg in filled.args if arg.keyword is None]
    if len(sizes) != 1 or sizes[0].star or not isinstance(sizes[0].value, cst.Name):
        return None
    return sizes[0].value.value


def _channel_broadcast(node: cst.CSTNode) -> cst.BaseExpression | None:
    """What a 1-D tensor laid along the channel axis of an NCHW map is read from: `w` of
    `w[:, None, None]`, `w[None, :, None, None]`, `w.reshape(1, -1, 1, 1)`; None for anything else."""
    if isinstance(node, cst.Subscript):
        parts = [_index_text(element.slice) for element in node.slice]
        if parts in ([":", "None", "None"], ["None", ":", "None", "None"]):
            return node.value
    if (
        isinstance(node, cst.Call)
        and isinstance(node.func, cst.Attribute)
        and node.func.attr.value in RESHAPES
        and [_number(arg.value) for arg in node.args] == [1, -1, 1, 1]
    ):
        return node.func.value
    return None


def _index_text(part: cst.BaseSlice) -> str | None:
    """`:` for a bare slice, `None` for a None index, else None."""
    if isinstance(part, cst.Slice):
        bare = part.lower is None and part.upper is None and part.step is None
        return ":" if bare else None
    if isinstance(part, cst.Index) and _is_name(part.value, "None"):
        return "None"
    return None


def _number(node: cst.BaseExpression) -> int | None:
    """`1` -> 1, `-1` -> -1."""
    if isinstance(node, cst.Integer):
        return int(node.value)
    if (
        isinstance(node, cst.UnaryOperation)
        and isinstance(node.operator, cst.Minus)
        and isinstance(node.expression, cst.Integer)
    ):
        return -int(node.expression.value)
    return None


def _is_name(node: cst.BaseExpression, name: str) -> bool:
    return isinstance(node, cst.Name) and node.value == name


def _own_attribute(node: cst.BaseExpression, receiver: str) -> str | None:
    """`self.weight` -> "weight" (`receiver` is what the method calls its instance)."""
    if isinstance(node, cst.Attribute) and _is_name(node.value, receiver):
        return node.attr.value
    return None
