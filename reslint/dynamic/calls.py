"""What a traced forward pass leaves behind, as plain data (no torch), so it can cross the process
boundary as JSON and be aligned, staged and diagnosed by pure functions."""

from __future__ import annotations

from dataclasses import dataclass, field

Shape = tuple[int, ...]


@dataclass(frozen=True)
class LayerCall:
    """One call of a module during forward, in call order."""

    name: str  # qualified name, e.g. "layer1.0.conv1" ("" for the model itself)
    type: str  # class name, e.g. "Conv2d"
    shape: (
        Shape | None
    )  # shape of the (first tensor) output; None when the call raised or returned no tensor
    params: int  # parameters first used by this call (a module called twice counts them once)
    detail: str = ""  # extra_repr(), e.g. "64, 256, kernel_size=(1, 1), stride=(1, 1), bias=False"
    leaf: bool = True
    bias_params: int = (
        0  # of `params`, how many are conv/linear biases (explains +N parameter diffs)
    )
    input_shape: Shape | None = None  # shape of the first tensor argument
    raised: bool = False  # the call raised (the failing layer of a forward that did not finish)


@dataclass
class Trace:
    """A model's forward pass on one input: its leaf calls, block calls, and how it ended."""

    input_shape: Shape
    calls: list[LayerCall] = field(default_factory=list)  # leaf modules, call order
    blocks: list[LayerCall] = field(
        default_factory=list
    )  # non-leaf modules, in order of completion
    output_shape: Shape | None = None
    error: str | None = None  # "ExceptionType: message" when forward raised
    failed_in: str | None = None  # qualified name of the module that raised (innermost), if any
    after: str | None = None  # last leaf that completed before a failure outside any leaf module
    error_site: tuple[str, int] | None = None  # innermost frame of the user's code in the traceback
    output_kind: str = "tensor"  # what forward returned: tensor, tuple, list, dict...
    outputs: list[tuple[str, Shape | None]] = field(
        default_factory=list
    )  # every tensor in it, by path

    @property
    def ok(self) -> bool:
        return self.error is None
