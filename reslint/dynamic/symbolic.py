"""Symbolic input sizes: on which heights and widths is the model provably valid?

The model runs once on a fake input whose H and W are symbols (torch's FakeTensorMode + ShapeEnv, the
machinery under torch.export's dynamic shapes, without graph capture, so it costs about one slow forward).
Every shape decision the model makes is recorded as a guard on H and W; the set of sizes satisfying all
guards is where the same computation, with the same output shape expression, is valid. That is a proof
for the sizes inside; outside, the model may take another path, so the boundaries are checked concretely.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass, field

import torch
from torch import nn

from reslint.dynamic import tracing

Shape = tuple[int, ...]


class SymbolicUnavailable(Exception):
    """The model cannot be traced with symbolic sizes (data-dependent code, unsupported ops...)."""


@dataclass
class SymbolicTrace:
    guards: list[Callable[[int, int], bool]]
    output: list[Callable[[int, int], int]] | None  # one function per output dimension
    guard_text: list[str] = field(default_factory=list)


def trace_symbolic(
    model: nn.Module, shape: Shape, mode: str, output: tracing.OutputPicker = None
) -> SymbolicTrace:
    """Run `model` on an N x C x H x W input with symbolic H and W; collect guards and the output shape."""
    from torch._subclasses.fake_tensor import FakeTensorMode
    from torch.fx.experimental.symbolic_shapes import DimDynamic, ShapeEnv, StatelessSymbolicContext
    from torch.utils._sympy.printers import PythonPrinter

    shape_env = ShapeEnv()
    fake_mode = FakeTensorMode(shape_env=shape_env, allow_non_fake_inputs=True)
    dynamic = [DimDynamic.STATIC, DimDynamic.STATIC, DimDynamic.DYNAMIC, DimDynamic.DYNAMIC]
    context = StatelessSymbolicContext(dynamic_sizes=dynamic)
    real = torch.empty(shape, device=tracing.device_of(mode))
    try:
        with fake_mode, torch.no_grad(), tracing.fast_meta_batch_norm(everywhere=True):
            fake = fake_mode.from_tensor(real, symbolic_context=context)
            symbols = [fake.shape[2].node.expr, fake.shape[3].node.expr]
            output = tracing.pick_output(model(fake), output)
    except (MemoryError, KeyboardInterrupt):
        raise
    except Exception as error:  # any failure means: no symbolic answer, fall back to sampling
        raise SymbolicUnavailable(tracing.describe_error(error)) from error
    printer = PythonPrinter()
    names = [str(symbol) for symbol in symbols]
    guard_text = [printer.doprint(guard.expr) for guard in shape_env.guards]
    guards = [_compile(text, names) for text in guard_text]
    dims = None
    if output is not None:
        dims = [
            _compile(
                printer.doprint(size.node.expr)
                if isinstance(size, torch.SymInt)
                else str(int(size)),
                names,
            )
            for size in output.shape
        ]
    return SymbolicTrace(guards, dims, guard_text)


def _compile(code: str, names: list[str]) -> Callable[[int, int], object]:
    namespace = {
        "math": math,
        "__builtins__": {
            "max": max,
            "min": min,
            "abs": abs,
            "int": int,
            "float": float,
            "bool": bool,
            "round": round,
        },
    }
    try:
        return eval(f"lambda {names[0]}, {names[1]}: ({code})", namespace)  # noqa: S307 - torch's own printer
    except SyntaxError as error:
        raise SymbolicUnavailable(f"cannot evaluate guard {code!r}") from error


@dataclass(frozen=True)
class Interval:
    low: int
    high: int | None  # None: valid up to the horizon that was checked

    def to_list(self) -> list[int | None]:
        return [self.low, self.high]


def holds(trace: SymbolicTrace, height: int, width: int) -> bool:
    try:
        return all(bool(guard(height, width)) for guard in trace.guards)
    except (ZeroDivisionError, ValueError, OverflowError, TypeError):
        return False


def output_shape(trace: SymbolicTrace, height: int, width: int) -> Shape | None:
    if trace.output is None:
        return None
    return tuple(int(dim(height, width)) for dim in trace.output)


def proven_interval(
    trace: SymbolicTrace, design: int, other: int, axis: int, horizon: int
) -> Interval:
    """The run of sizes around `design` along H (axis 2) or W (axis 3) where every guard holds.

    Symbolic sizes start at 2: torch specialises sizes 0 and 1, which sampling covers instead."""

    def ok(size: int) -> bool:
        return holds(trace, size, other) if axis == 2 else holds(trace, other, size)

    low = design
    while low - 1 >= 2 and ok(low - 1):
        low -= 1
    high = design
    while high + 1 <= horizon and ok(high + 1):
        high += 1
    return Interval(low, None if high >= horizon else high)
