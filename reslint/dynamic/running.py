"""The trace phase: both models on the reference's design input, each in the cheapest faithful mode.

Decides the execution mode, which tensor of a tuple or dict output is compared, and whether the model can
be compared at all: a forward that raises anything but a shape error there (a CUDA call, a missing file)
is "could not run" (RD005) with the real error."""

from __future__ import annotations

import re
import time
from collections.abc import Callable
from dataclasses import dataclass

import torch

from reslint.dynamic import tracing
from reslint.dynamic.building import Built
from reslint.dynamic.calls import Shape, Trace
from reslint.dynamic.catalogue import REFERENCE_VALID_FROM, Reference
from reslint.dynamic.diagnose import show_input, show_shape
from reslint.dynamic.subject import LITE_TRACE_BUDGET, Subject, choose_mode
from reslint.dynamic.target import CouldNotRun
from reslint.dynamic.zoo import build_reference

SHAPE_ERRORS = ("RuntimeError", "ValueError", "IndexError")
# Errors of a forward that wants a device reslint does not run on (it runs every model on the CPU).
DEVICE_ERROR = re.compile(
    r"\bCUDA\b|\bcuda\b|NVIDIA|not linked with support for \w+ devices|on the same device|\bmps\b"
)


@dataclass
class Traced:
    user: Subject
    reference: Subject
    user_trace: Trace
    ref_trace: Trace
    design: Shape  # the reference's design input: 1 x C x 224 x 224 (ImageNet) or 1 x C x 32 x 32
    num_classes: int
    output: OutputChoice
    failure: Trace | None = (
        None  # the user's forward on the design input when it failed, CPU messages
    )

    @property
    def model_error(self) -> str | None:
        return (self.failure or self.user_trace).error


@dataclass(frozen=True)
class OutputChoice:
    """Which tensor of the model's output is compared with the reference's."""

    kind: str  # what forward returns: tensor, tuple, list, dict...
    outputs: list[tuple[str, Shape | None]]  # every tensor in it, by path
    path: str | None  # the compared one (None: the output is one tensor)
    asked: bool  # chosen with --output rather than by shape

    @property
    def several(self) -> bool:
        return self.kind != "tensor"


def trace_models(
    built: Built,
    ref_info: Reference,
    device: str,
    output: str | None,
    progress: Callable[..., None],
) -> Traced:
    design: Shape = (1, built.channels, ref_info.input_size, ref_info.input_size)
    mode = choose_mode(device, built.params, ref_info.parameters, built.on_meta)
    user = Subject(built.model, "meta" if built.on_meta else "real", built.rebuild, built.params)
    user.switch(mode)
    progress(f"running forward on {show_input(design)}")
    user_trace = _trace_user(user, design, device)
    if (
        not user_trace.ok
        and _error_type(user_trace) not in SHAPE_ERRORS
        or _needs_device(user_trace)
    ):
        raise _could_not_run(user_trace, design, built)

    num_classes = _num_classes(user, user_trace) or ref_info.num_classes
    choice = choose_output(user_trace, (design[0], num_classes), output, built)
    user.output = choice.path
    user_trace.output_shape = (
        dict(choice.outputs).get(choice.path) if choice.path else user_trace.output_shape
    )
    reference = _reference(ref_info, built.channels, num_classes, user.mode)
    progress(f"running the reference on {show_input(design)}")
    ref_trace = reference.trace(design)
    failure = None if user_trace.ok else user.readable_trace(design)
    return Traced(user, reference, user_trace, ref_trace, design, num_classes, choice, failure)


def _trace_user(user: Subject, design: Shape, device: str) -> Trace:
    started = time.process_time()  # CPU time: a busy machine must not change the decision
    user_trace = user.trace(design)
    slow = time.process_time() - started > LITE_TRACE_BUDGET
    if device == "auto" and user.mode == "lite" and user_trace.ok and slow:
        user.switch("meta")  # CPU forwards are slow here (big model): sample on meta instead
    if not user_trace.ok and user.faithful_mode == "real" and user.mode != "real":
        assert user.rebuild is not None
        faithful = tracing.trace(user.rebuild().eval(), design, "real")
        if faithful.ok:  # the cheap mode was the problem (data-dependent forward)
            user.switch("real")
            return faithful
    return user_trace


def _error_type(trace: Trace) -> str:
    return (trace.error or "").split(":")[0]


def _needs_device(trace: Trace) -> bool:
    return not trace.ok and bool(DEVICE_ERROR.search(trace.error or ""))


def _could_not_run(trace: Trace, design: Shape, built: Built) -> CouldNotRun:
    where = f" in {trace.failed_in}" if trace.failed_in else ""
    if _needs_device(trace):
        hint = "reslint runs every model on the CPU: move tensors with x.to(self.conv1.weight.device) or .to(x.device), not .cuda()"
    else:
        hint = "the model must run on the reference's input size; fix the error first"
    path, line = trace.error_site or built.locate(trace.failed_in or "")
    return CouldNotRun(
        "RD005",
        f"forward raised {trace.error}{where} on input {show_input(design)}",
        hint,
        path,
        line,
    )


def _num_classes(user: Subject, trace: Trace) -> int | None:
    linears = [call for call in trace.calls if call.type == "Linear"]
    if linears:
        return getattr(user.model.get_submodule(linears[-1].name), "out_features", None)
    linear = tracing.first_of_type(user.model, (torch.nn.Linear,), last=True)
    return linear.out_features if linear is not None else None


def choose_output(trace: Trace, expected: Shape, asked: str | None, built: Built) -> OutputChoice:
    """The tensor asked for with --output, else the one shaped like the reference's output, else the first."""
    outputs = trace.outputs
    if asked is not None:
        if asked not in dict(outputs):
            shown = ", ".join(f"{path} {show_shape(shape, 1)}" for path, shape in outputs) or "none"
            raise CouldNotRun(
                "RD001",
                f"--output {asked}: forward returns no tensor at {asked!r} (it returns {trace.output_kind}: {shown})",
                "give an index of the tuple or a key of the dict forward returns",
                built.target.path,
                built.target.line,
            )
        return OutputChoice(trace.output_kind, outputs, asked, True)
    if trace.output_kind == "tensor" or not outputs:
        return OutputChoice(trace.output_kind, outputs, None, False)
    shaped = [path for path, shape in outputs if shape == expected]
    return OutputChoice(trace.output_kind, outputs, (shaped or [outputs[0][0]])[0], False)


def _reference(ref_info: Reference, channels: int, num_classes: int, mode: str) -> Subject:
    with torch.device("meta"):
        model = build_reference(ref_info.name, num_classes=num_classes, in_channels=channels).eval()

    def known_outcome(shape: Shape) -> tracing.Outcome | None:
        """Every reference maps N x C x H x W (all >= 1, C its input channels) to [N, classes]; tested in
        tests/dynamic/test_zoo.py. Sampling then runs only the user's model."""
        n, c, h, w = shape
        if c == channels and min(n, h, w) >= REFERENCE_VALID_FROM:
            return tracing.Outcome((n, num_classes))
        return None

    reference = Subject(model, "meta", None, tracing.count_parameters(model), known_outcome)
    reference.switch("meta" if mode == "meta" else "lite")
    return reference
