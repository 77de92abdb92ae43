"""A model under comparison and its execution-mode ladder (meta -> lite -> real), worker side."""

from __future__ import annotations

import copy
from collections.abc import Callable

from torch import nn

from reslint.dynamic import tracing
from reslint.dynamic.calls import Shape, Trace

# The meta device costs a one-off ~0.5 s of CPU (its shape functions import sympy), then ~20 ms per
# ResNet-50 forward at any size; the CPU with weightless "lite" parameters costs nothing up front but grows
# with the input. Measured (CPU seconds of the comparison, one thread): resnet20 0.45 lite vs 1.08 meta,
# resnet56 0.81 vs 1.53, resnet18 1.53 vs 1.03, resnet50 2.53 vs 1.26. So CPU for CIFAR-sized models, meta
# above; a CPU forward at the design size slower than LITE_TRACE_BUDGET sends the sampling to meta too.
LITE_MAX_PARAMS = 2_000_000
LITE_TRACE_BUDGET = 0.25
REAL_MAX_PARAMS = 60_000_000  # above this, never materialise the user's weights (memory)


def choose_mode(device: str, user_params: int, ref_params: int, on_meta: bool) -> str:
    if not on_meta:
        return "real"
    if device == "meta":
        return "meta"
    if device == "cpu":
        return "lite"
    return "lite" if max(user_params, ref_params) <= LITE_MAX_PARAMS else "meta"


class Subject:
    """A model that can be re-materialised in a more faithful mode when a cheap mode misbehaves."""

    def __init__(
        self,
        model: nn.Module,
        mode: str,
        rebuild: Callable[[], nn.Module] | None,
        params: int,
        known: Callable[[Shape], tracing.Outcome | None] | None = None,
        output: tracing.OutputPicker | None = None,
    ) -> None:
        self.model, self.mode, self.rebuild, self.params = model, mode, rebuild, params
        self.known = known  # outcomes known without running (the reference's, see catalogue)
        self.output = output  # which tensor of a tuple/dict output is compared
        self.meta_model = model if mode == "meta" else None
        self.cache: dict[tuple[str, Shape], tracing.Outcome] = {}

    @property
    def faithful_mode(self) -> str:
        if self.rebuild is not None and self.params <= REAL_MAX_PARAMS:
            return "real"
        return "lite" if self.mode == "meta" else self.mode

    def switch(self, mode: str) -> None:
        """Run in `mode` from now on. A model built on meta keeps its meta copy, so it can go back."""
        if mode == self.mode:
            return
        if self.mode == "meta":
            self.meta_model = self.model
        if mode == "real":
            assert self.rebuild is not None
            self.model = self.rebuild().eval()
        elif mode == "lite":
            self.model = tracing.to_lite(copy.deepcopy(self.meta_model))
        elif mode == "meta":
            self.model = self.meta_model
        self.mode = mode

    def outcome(self, shape: Shape) -> tracing.Outcome:
        key = (self.mode, shape)
        if key not in self.cache:
            known = self.known(shape) if self.known is not None else None
            self.cache[key] = (
                known
                if known is not None
                else tracing.run(self.model, shape, self.mode, self.output)
            )
        return self.cache[key]

    def trace(self, shape: Shape) -> Trace:
        return tracing.trace(self.model, shape, self.mode, self.output)

    def readable_trace(self, shape: Shape) -> Trace:
        """A trace whose error messages are the CPU kernels' (meta's are terser): a lite copy on the CPU."""
        if self.mode != "meta":
            return self.trace(shape)
        try:
            lite = tracing.to_lite(copy.deepcopy(self.model))
        except Exception:  # a model that cannot be copied keeps the meta messages
            return self.trace(shape)
        readable = tracing.trace(lite, shape, "lite", self.output)
        return readable if not readable.ok else self.trace(shape)

    def faithful_outcome(self, shape: Shape) -> tracing.Outcome:
        """The outcome in the faithful mode, without switching this subject."""
        target = self.faithful_mode
        if target == self.mode:
            return self.outcome(shape)
        if target == "real":
            assert self.rebuild is not None
            return tracing.run(self.rebuild().eval(), shape, "real", self.output)
        lite = tracing.to_lite(copy.deepcopy(self.model))  # meta -> lite, no weights
        return tracing.run(lite, shape, "lite", self.output)


def differs(user: tracing.Outcome, ref: tracing.Outcome) -> bool:
    return user.ok != ref.ok or (user.ok and user.shape != ref.shape)
