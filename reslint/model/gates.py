"""Gates: tensors of weights in [0, 1] (a sigmoid or softmax map) that forward multiplies onto features.

`self.sa(out) * out` or `w[:, 0:1] * img` is the features rescaled: the product has the features'
channels and sign, and broadcasting hides the gate's own width (often 1 or 2 channels)."""

from __future__ import annotations

from typing import Any

import libcst as cst

from reslint.knowledge.layers import GATE_ACTIVATIONS, activation_name
from reslint.model.symbolic import Expr, at_defaults
from reslint.model.values import Flow, Layer, Step, options

# Steps that reshape or pick from a gate but keep its values weights: `w[:, 0:1]`, `.view(b, c, 1, 1)`.
VALUE_KEEPING = {"subsample", "flatten", "identity", "dropout", "upsample"}
VALUE_KEEPING_METHODS = {"expand", "expand_as", "unsqueeze", "repeat", "contiguous", "chunk"}
MAX_DEPTH = 3


def is_gate(value: Any, depth: int = 0) -> bool:
    """Whether every tensor `value` can be ends with a gate activation, looking inside the blocks and
    containers that produce it."""
    flows = [option for option in options(value) if isinstance(option, Flow)]
    return bool(flows) and all(_flow_is_gate(flow, depth) for flow in flows)


def _flow_is_gate(flow: Flow, depth: int) -> bool:
    for step in reversed(flow.steps):
        if step.kind in VALUE_KEEPING or (
            step.kind == "call" and step.text in VALUE_KEEPING_METHODS
        ):
            continue
        if step.layer is not None:
            return _layer_is_gate(step.layer, depth)
        return step.kind == "act" and activation_name(step.text) in GATE_ACTIVATIONS
    return False


def _layer_is_gate(layer: Layer, depth: int) -> bool:
    if layer.kind == "act":
        return activation_name(layer.type_name) in GATE_ACTIVATIONS
    if layer.kind == "sequential":
        last = next(
            (child for child in reversed(layer.flat()) if child.kind not in VALUE_KEEPING), None
        )
        return last is not None and _layer_is_gate(last, depth)
    if layer.kind == "block" and depth < MAX_DEPTH and layer.instance is not None:
        forward = layer.instance.forward
        return (
            forward is not None
            and bool(forward.returns)
            and all(is_gate(value, depth + 1) for value in forward.returns)
        )
    return False


def keeps_sign(step: Step) -> bool:
    """Whether forward's arithmetic on features (`w * x`, `x / 2`, `x * self.gamma + self.beta`, a
    `mul` step) surely keeps their sign: a product with a gate or a non-negative number, a sum with
    a non-negative number. A learnable scale or bias (LayerScale's `gamma`) may turn negative."""
    if step.kind != "mul" or not step.args:
        return False
    operator = (
        type(step.node.operator).__name__ if isinstance(step.node, cst.BinaryOperation) else ""
    )
    factor = step.args[0]
    if operator in ("", "Multiply") and is_gate(factor):
        return True
    if operator not in ("", "Multiply", "Divide", "Add") or not isinstance(factor, Expr):
        return False
    values = at_defaults(factor)
    return values is not None and all(value >= 0 for value in values)
