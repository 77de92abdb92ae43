"""The comparison itself, run inside the isolated worker: target -> models -> traces -> alignment ->
findings. Returns the JSON-ready result; never raises for anything the user's model does."""

from __future__ import annotations

import copy
import inspect
import os
import re
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import torch
from torch import nn

from reslint.dynamic import diagnose, stages, symbolic, tracing
from reslint.dynamic.align import align, canonical_order
from reslint.dynamic.calls import Shape, Trace
from reslint.dynamic.catalogue import REFERENCE_VALID_FROM, REFERENCES, Reference
from reslint.dynamic.search import Domain, boundary_search, find_minimal_difference
from reslint.dynamic.statedict import compare_layouts
from reslint.dynamic.target import (
    CouldNotRun,
    Target,
    describe_signature,
    missing_arguments,
    parse_target,
    resolve,
)
from reslint.dynamic.zoo import build_reference
from reslint.findings import Finding

# The meta device costs a one-off ~0.5 s of CPU (its shape functions import sympy), then ~20 ms per
# ResNet-50 forward at any size; the CPU with weightless "lite" parameters costs nothing up front but grows
# with the input. Measured (CPU seconds of the comparison, one thread): resnet20 0.45 lite vs 1.08 meta,
# resnet56 0.81 vs 1.53, resnet18 1.53 vs 1.03, resnet50 2.53 vs 1.26. So CPU for CIFAR-sized models, meta
# above; a CPU forward at the design size slower than LITE_TRACE_BUDGET sends the sampling to meta too.
LITE_MAX_PARAMS = 2_000_000
LITE_TRACE_BUDGET = 0.25
REAL_MAX_PARAMS = 60_000_000  # above this, never materialise the user's weights (memory)
SHAPE_ERRORS = ("RuntimeError", "ValueError", "IndexError")

Progress = Callable[[str], None]


@dataclass
class Request:
    arch: str
    target: str
    init: dict[str, Any] = field(default_factory=dict)
    cwd: str = "."
    analysis: str = "auto"  # auto | sampled | symbolic
    device: str = "auto"  # auto | meta | cpu
    max_examples: int | None = None

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Request:
        known = {k: v for k, v in data.items() if k in cls.__dataclass_fields__}
        return cls(**known)


# --- the model under test, with its execution-mode ladder ---------------------------------------
class Subject:
    """A model that can be re-materialised in a more faithful mode when a cheap mode misbehaves."""

    def __init__(
        self,
        model: nn.Module,
        mode: str,
        rebuild: Callable[[], nn.Module] | None,
        params: int,
        known: Callable[[Shape], tracing.Outcome | None] | None = None,
    ) -> None:
        self.model, self.mode, self.rebuild, self.params = model, mode, rebuild, params
        self.known = known  # outcomes known without running (the reference's, see catalogue)
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
                known if known is not None else tracing.run(self.model, shape, self.mode)
            )
        return self.cache[key]

    def trace(self, shape: Shape) -> Trace:
        return tracing.trace(self.model, shape, self.mode)

    def readable_trace(self, shape: Shape) -> Trace:
        """A trace whose error messages are the CPU kernels' (meta's are terser): a lite copy on the CPU."""
        if self.mode != "meta":
            return self.trace(shape)
        try:
            lite = tracing.to_lite(copy.deepcopy(self.model))
        except Exception:  # a model that cannot be copied keeps the meta messages
            return self.trace(shape)
        readable = tracing.trace(lite, shape, "lite")
        return readable if not readable.ok else self.trace(shape)

    def faithful_outcome(self, shape: Shape) -> tracing.Outcome:
        """The outcome in the faithful mode, without switching this subject."""
        target = self.faithful_mode
        if target == self.mode:
            return self.outcome(shape)
        if target == "real":
            assert self.rebuild is not None
            return tracing.run(self.rebuild().eval(), shape, "real")
        return tracing.run(
            tracing.to_lite(copy.deepcopy(self.model)), shape, "lite"
        )  # meta -> lite, no weights


def differs(user: tracing.Outcome, ref: tracing.Outcome) -> bool:
    return user.ok != ref.ok or (user.ok and user.shape != ref.shape)


# --- building ----------------------------------------------------------------------------------
def _call_factory(target: Target, init: dict[str, Any], on_meta: bool) -> Any:
    if on_meta:
        with torch.device("meta"), tracing.no_meta_initialisation():
            return target.factory(**init)
    return target.factory(**init)


def _construction_failure(
    error: BaseException, target: Target, init: dict[str, Any]
) -> CouldNotRun:
    if tracing.is_out_of_memory(error):
        return CouldNotRun(
            "RD007",
            f"building {target.label} exhausted the memory cap: {tracing.describe_error(error)}",
            "make the model smaller, or raise the cap with RESLINT_MEMORY_LIMIT",
            target.path,
            target.line,
        )
    text = str(error)
    if isinstance(error, TypeError) and ("required" in text and "argument" in text):
        return CouldNotRun(
            "RD003",
            f"{target.label} needs arguments: {text}",
            f"pass them as JSON with --init, e.g. --init '{_example_init(target, init)}'",
            target.path,
            target.line,
        )
    line = _user_line(error, target.path) or target.line
    return CouldNotRun(
        "RD004",
        f"building {target.label} raised {tracing.describe_error(error)}",
        "the model must build with the given --init arguments",
        target.path,
        line,
    )


def _user_line(error: BaseException, path: str) -> int | None:
    tb, line = error.__traceback__, None
    while tb is not None:
        if os.path.abspath(tb.tb_frame.f_code.co_filename) == os.path.abspath(path):
            line = tb.tb_lineno
        tb = tb.tb_next
    return line


def _example_init(target: Target, init: dict[str, Any]) -> str:
    import json

    names = missing_arguments(target.factory, init) or ["num_classes"]
    guesses = {
        name: 10 if "class" in name else 64 if "channel" in name or "planes" in name else 1
        for name in names
    }
    return json.dumps({**init, **guesses})


def _rebuild(target: Target, init: dict[str, Any]) -> nn.Module:
    """The user's model with real CPU tensors (for forwards that need real data)."""
    try:
        model = _call_factory(target, init, on_meta=False)
    except KeyboardInterrupt:
        raise
    except BaseException as error:
        raise _construction_failure(error, target, init) from None
    return model.eval()


def build_user(target: Target, init: dict[str, Any], progress: Progress) -> tuple[nn.Module, bool]:
    """The user's model, on meta when its constructor allows (True), else on the CPU (False)."""
    missing = missing_arguments(target.factory, init)
    if missing:
        raise CouldNotRun(
            "RD003",
            f"{target.label} needs constructor arguments: {', '.join(missing)} ({describe_signature(target.factory)})",
            f"pass them as JSON with --init, e.g. --init '{_example_init(target, init)}'",
            target.path,
            target.line,
        )
    progress("building the model (__init__)")
    try:
        model = _call_factory(target, init, on_meta=True)
        on_meta = True
    except (KeyboardInterrupt, MemoryError) as error:
        if isinstance(error, MemoryError):
            raise _construction_failure(error, target, init) from None
        raise
    except Exception:  # e.g. data-dependent code in __init__: retry with real tensors
        try:
            model = _call_factory(target, init, on_meta=False)
        except KeyboardInterrupt:
            raise
        except BaseException as error:
            raise _construction_failure(error, target, init) from None
        on_meta = False
    if not isinstance(model, nn.Module):
        raise CouldNotRun(
            "RD009",
            f"{target.label} returned {type(model).__name__}, not an nn.Module",
            "return the model from the factory",
            target.path,
            target.line,
        )
    return model.eval(), on_meta


def _input_channels(model: nn.Module) -> int | None:
    conv = tracing.first_of_type(model, (nn.Conv2d,))
    return conv.in_channels if conv is not None else None


def _num_classes(model: nn.Module, trace: Trace | None) -> int | None:
    if trace is not None:
        linears = [c for c in trace.calls if c.type == "Linear"]
        if linears:
            layer = model.get_submodule(linears[-1].name)
            return getattr(layer, "out_features", None)
    linear = tracing.first_of_type(model, (nn.Linear,), last=True)
    return linear.out_features if linear is not None else None


# --- locating findings in the user's source ------------------------------------------------------
class SourceLocator:
    """Where the user builds a module: the `self.<attr> =` line in the nearest user-written class."""

    def __init__(self, model: nn.Module, target: Target) -> None:
        self.model, self.target = model, target
        self.default = (target.path, target.line)  # where a module that cannot be found is reported

    def __call__(self, name: str) -> tuple[str, int]:
        parts = name.split(".") if name else []
        while parts:
            attr = parts[-1]
            parent_name = ".".join(parts[:-1])
            try:
                parent = self.model.get_submodule(parent_name) if parent_name else self.model
            except AttributeError:
                parent = None
            found = self._assignment(type(parent), attr) if parent is not None else None
            if found:
                return found
            parts = parts[:-1]
        return self.target.path, self.target.line

    def _assignment(self, cls: type, attr: str) -> tuple[str, int] | None:
        if not attr.isidentifier():
            return None
        for klass in cls.__mro__:
            if klass.__module__.startswith("torch."):
                return None
            try:
                lines, start = inspect.getsourcelines(klass)
                path = inspect.getsourcefile(klass)
            except (OSError, TypeError):
                continue
            pattern = re.compile(rf"\bself\.{re.escape(attr)}\s*(:[^=]*)?=(?!=)")
            for offset, text in enumerate(lines):
                if pattern.search(text):
                    return path or self.target.path, start + offset
        return None


# --- the comparison ----------------------------------------------------------------------------
def choose_mode(device: str, user_params: int, ref_params: int, on_meta: bool) -> str:
    if not on_meta:
        return "real"
    if device == "meta":
        return "meta"
    if device == "cpu":
        return "lite"
    return "lite" if max(user_params, ref_params) <= LITE_MAX_PARAMS else "meta"


def _stage_params(
    model: nn.Module, stage_names: list[str], first: dict[str, int], labels: dict[str, str]
) -> dict[str, dict[str, int]]:
    """Per stage label: parameters, conv/linear biases, convs, convs with bias."""
    totals: dict[str, dict[str, int]] = {}
    seen: set[int] = set()
    order = [name for name, _ in model.named_modules()]
    for name, module in model.named_modules():
        own = stages.stage_of(name, stage_names, first, order)
        stage = labels.get(own, own)
        bucket = totals.setdefault(stage, {"params": 0, "biases": 0, "convs": 0, "biased_convs": 0})
        for param in module.parameters(recurse=False):
            if id(param) not in seen:
                seen.add(id(param))
                bucket["params"] += param.numel()
        if isinstance(module, nn.modules.conv._ConvNd) or isinstance(module, nn.Linear):
            bias = module.bias
            if isinstance(module, nn.modules.conv._ConvNd) and stage not in (
                stages.STEM,
                stages.HEAD,
            ):
                bucket["convs"] += 1
                bucket["biased_convs"] += bias is not None
            if bias is not None:
                bucket["biases"] += bias.numel()
    return totals


def _uncalled(model: nn.Module, first: dict[str, int]) -> list[tuple[str, str, int]]:
    """Top-most modules that forward never reached."""
    found = []
    for name, module in model.named_modules():
        if not name or name in first:
            continue
        parent = name.rpartition(".")[0]
        if parent and parent not in first:
            continue  # its parent is reported instead
        found.append((name, type(module).__name__, sum(p.numel() for p in module.parameters())))
    return found


def compare(request: Request, progress: Progress) -> dict[str, Any]:
    started = time.perf_counter()
    if request.arch not in REFERENCES:
        raise CouldNotRun(
            "RD001",
            f"unknown reference architecture {request.arch!r}",
            "reslint --list-references shows them: " + ", ".join(REFERENCES),
        )
    ref_info = REFERENCES[request.arch]
    progress("importing the target")
    target = resolve(parse_target(request.target), request.cwd)
    progress("found the model", path=target.path, line=target.line)
    user_model, on_meta = build_user(target, request.init, progress)
    locate = SourceLocator(user_model, target)
    user_params = tracing.count_parameters(user_model)
    channels = _input_channels(user_model) or 3
    design: Shape = (1, channels, ref_info.input_size, ref_info.input_size)

    mode = choose_mode(request.device, user_params, ref_info.parameters, on_meta)
    rebuild = (lambda: _rebuild(target, request.init)) if on_meta else None
    user = Subject(user_model, "meta" if on_meta else "real", rebuild, user_params)
    user.switch(mode)

    progress(f"running forward on {diagnose.show_input(design)}")
    started_trace = time.process_time()  # CPU time: a busy machine must not change the decision
    user_trace = user.trace(design)
    if (
        request.device == "auto"
        and mode == "lite"
        and user_trace.ok
        and on_meta
        and time.process_time() - started_trace > LITE_TRACE_BUDGET
    ):
        mode = (
            "meta"  # CPU forwards are slow here (big model or busy machine): sample on meta instead
        )
        user.switch("meta")
    if not user_trace.ok and user.faithful_mode != user.mode:
        faithful = (
            tracing.trace(user.rebuild().eval(), design, "real")
            if user.faithful_mode == "real"
            else None
        )
        if faithful is not None and faithful.ok:
            user.switch("real")
            user_trace = faithful
    if (
        not user_trace.ok
        and user_trace.error
        and user_trace.error.split(":")[0] not in SHAPE_ERRORS
    ):
        where = f" in {user_trace.failed_in}" if user_trace.failed_in else ""
        raise CouldNotRun(
            "RD005",
            f"forward raised {user_trace.error}{where} on input {diagnose.show_input(design)}",
            "the model must run on the reference's input size; fix the error first",
            *locate(user_trace.failed_in or ""),
        )

    num_classes = _num_classes(user.model, user_trace) or ref_info.num_classes
    with torch.device("meta"):
        ref_model = build_reference(
            request.arch, num_classes=num_classes, in_channels=channels
        ).eval()
    ref_mode = "meta" if mode == "meta" else "lite"

    def reference_outcome(shape: Shape) -> tracing.Outcome | None:
        """Every reference maps N x C x H x W (all >= 1, C its input channels) to [N, classes]; tested in
        tests/dynamic/test_zoo.py. Sampling then runs only the user's model."""
        n, c, h, w = shape
        if c == channels and min(n, h, w) >= REFERENCE_VALID_FROM:
            return tracing.Outcome((n, num_classes))
        return None

    reference = Subject(
        ref_model, "meta", None, tracing.count_parameters(ref_model), reference_outcome
    )
    reference.switch(ref_mode)
    progress(f"running the reference on {diagnose.show_input(design)}")
    ref_trace = reference.trace(design)

    # Stages, parameters, alignment.
    user_table = tracing.module_table(user.model)
    ref_table = tracing.module_table(reference.model)
    user_first = stages.first_calls(user_table, [c.name for c in user_trace.calls])
    ref_first = stages.first_calls(ref_table, [c.name for c in ref_trace.calls])
    user_stage_names = stages.find_stages(
        user_table, [c.name for c in user_trace.calls], ref_info.stages
    )
    labels = {
        name: ref_info.stages[i] if i < len(ref_info.stages) else name
        for i, name in enumerate(user_stage_names)
    }

    def user_stage_of(name: str) -> str:
        stage = stages.stage_of(name, user_stage_names, user_first)
        return labels.get(stage, stage)

    def ref_stage_of(name: str) -> str:
        return stages.stage_of(name, list(ref_info.stages), ref_first)

    user_totals = _stage_params(user.model, user_stage_names, user_first, labels)
    ref_totals = _stage_params(reference.model, list(ref_info.stages), ref_first, {})
    stage_rows = []
    known = stages.stage_order(ref_info.stages)
    order = known + [s for s in user_totals if s not in known]
    inverse = {label: name for name, label in labels.items()}
    for stage in order:
        u, r = user_totals.get(stage, {}), ref_totals.get(stage, {})
        if not u and not r:
            continue
        stage_rows.append(
            diagnose.StageParams(
                stage,
                inverse.get(stage),
                u.get("params", 0),
                r.get("params", 0),
                u.get("biases", 0),
                r.get("biases", 0),
                u.get("convs", 0),
                u.get("biased_convs", 0),
            )
        )

    progress("aligning layers")
    user_trace.calls = [user_trace.calls[i] for i in canonical_order(user_trace.calls)]
    pairs = align(user_trace.calls, ref_trace.calls)
    rows = diagnose.build_rows(pairs, user_trace, ref_trace, user_stage_of, ref_stage_of)

    # Inputs: search for the smallest input on which the two disagree.
    domain = Domain(channels, (1, 2), (1, ref_info.sample_max), (1, ref_info.sample_max))
    examples = request.max_examples or 12

    def disagree(shape: Shape) -> bool:
        progress(f"running forward on input {diagnose.show_input(shape)}")
        return differs(user.outcome(shape), reference.outcome(shape))

    progress("searching inputs")
    search = find_minimal_difference(domain, disagree, examples)
    failing = search.failing
    if failing is not None and user.faithful_mode != user.mode:
        confirmed = differs(user.faithful_outcome(failing), reference.outcome(failing))
        if not confirmed:  # an artefact of the cheap mode: redo everything that ran in it
            user.switch(user.faithful_mode)
            user_trace = user.trace(design)
            search = find_minimal_difference(domain, disagree, examples)
            failing = search.failing

    # Symbolic sizes.
    analysis, valid_range, symbolic_note = "sampled", None, None
    want_symbolic = request.analysis == "symbolic" or (
        request.analysis == "auto" and failing is not None
    )
    if want_symbolic and user_trace.ok:
        progress("running forward with symbolic sizes")
        try:
            valid_range = _symbolic_range(user, reference, design, ref_info)
            analysis = "symbolic"
        except symbolic.SymbolicUnavailable as error:
            symbolic_note = str(error)
    if valid_range is None:
        valid_range = _sampled_range(user, reference, design, domain, failing is not None)
    if failing is None and valid_range.get("disagrees_at"):
        h, w = valid_range["disagrees_at"]
        failing = (1, channels, h, w)

    # Findings.
    findings: list[Finding] = []
    user_stage_map = {label: name for name, label in labels.items()}
    shape = diagnose.shape_finding(rows, user_trace, ref_trace, user_stage_map, locate)
    if shape is not None:
        findings.append(shape)
    stage_anchor = lambda stage: user_stage_map.get(stage, "")  # noqa: E731
    findings += diagnose.parameter_findings(stage_rows, rows, locate, stage_anchor)
    if user_trace.ok and user_trace.output_shape != ref_trace.output_shape:
        findings.append(
            diagnose.finding(
                "RD104",
                f"output is {diagnose.show_shape(user_trace.output_shape, 1)}, reference "
                f"{diagnose.show_shape(ref_trace.output_shape, 1)} on input {diagnose.show_input(design)}",
                "end with a global average pool, flatten and the classifier, as the reference does",
                (target.path, target.line),
            )
        )
    if failing is not None:
        findings.append(_failing_finding(user, reference, failing, valid_range, locate, target))
    if user_trace.ok:  # after a failure, later modules were simply never reached
        findings += diagnose.uncalled_findings(
            _uncalled(user.model, user_first), set(ref_first), locate
        )

    layout = _state_dict_check(user.model, request.arch)
    if not layout.loads:
        findings.append(_state_dict_finding(layout, request.arch, num_classes, ref_info, target))

    model_total = user_params
    matches = (
        model_total == reference.params
        and all(s.delta == 0 for s in stage_rows)
        and not any(row.differs for row in rows)
        and user_trace.ok
        and user_trace.output_shape == ref_trace.output_shape
        and failing is None
    )
    return {
        "verdict": "matches" if matches else "differs",
        "arch": request.arch,
        "target": target.label,
        "path": target.path,
        "parameters": {"model": model_total, "reference": reference.params},
        "stages": [s.to_dict() for s in stage_rows],
        "findings": [f.to_dict() for f in sorted(findings, key=lambda f: (f.line, f.code))],
        "layers": [row.to_dict() for row in rows],
        "failing_input": list(failing) if failing is not None else None,
        "analysis": analysis,
        "symbolic_unavailable": symbolic_note,
        "valid_input_range": {k: v for k, v in valid_range.items() if k != "disagrees_at"},
        "reference_input_range": {
            "height": [REFERENCE_VALID_FROM, None],
            "width": [REFERENCE_VALID_FROM, None],
        },
        "input_shape": list(design),
        "output_shape": {
            "model": _list(user_trace.output_shape),
            "reference": _list(ref_trace.output_shape),
        },
        "model_error": user_trace.error,
        "inputs_tried": search.tried,
        "input_domain": domain.to_dict(),
        "state_dict": layout.to_dict(),
        "mode": user.mode,
        "seconds": round(time.perf_counter() - started, 3),
    }


def _list(shape: Shape | None) -> list[int] | None:
    return list(shape) if shape is not None else None


def _works(subject: Subject, reference: Subject, shape: Shape) -> bool:
    return not differs(subject.outcome(shape), reference.outcome(shape))


def _extend(works: Callable[[int], bool], edge: int, step: int, limit: int) -> int:
    """Walk from `edge` (known to work) in direction `step` (+1/-1) to the last working size before the
    first failing one, galloping then bisecting; stops at `limit`. Assumes one boundary on the way."""
    good, stride = edge, 1
    while True:
        probe = good + step * stride
        if (probe - limit) * step > 0:
            probe = limit
        if probe == good:
            return good
        if not works(probe):
            return boundary_search(works, good, probe)
        good, stride = probe, stride * 2
        if good == limit:
            return good


def _symbolic_range(
    user: Subject, reference: Subject, design: Shape, ref_info: Reference
) -> dict[str, Any]:
    """Proven valid sizes per axis (the other at the design size), from the guards of one symbolic trace;
    where a guard only pinned the trace (the model still works just outside), the interval is extended by
    concrete forwards to the real boundary, so the reported ends are exact unless marked otherwise."""
    size = design[2]
    horizon = 16 * ref_info.input_size
    trace = symbolic.trace_symbolic(user.model, design, user.mode)
    result: dict[str, Any] = {"method": "symbolic", "horizon": horizon}
    exact: dict[str, list[bool]] = {}
    expected = reference.outcome(design).shape
    disagree = None
    for axis, label in ((2, "height"), (3, "width")):
        proven = symbolic.proven_interval(trace, size, size, axis, horizon)

        def works(s: int, axis: int = axis) -> bool:
            shape = (1, design[1], s, size) if axis == 2 else (1, design[1], size, s)
            return _works(user, reference, shape)

        low = (
            _extend(works, proven.low, -1, 1)
            if proven.low > 1 and works(proven.low - 1)
            else proven.low
        )
        high = proven.high
        if high is not None and works(high + 1):
            high = _extend(works, high + 1, +1, horizon)
            high = None if high >= horizon else high
        result[label] = [low, high]
        exact[label] = [True, high is not None]  # the low end is confirmed (a failure below, or 1)
        for s in range(max(proven.low, 2), (proven.high or horizon) + 1):
            h, w = (s, size) if axis == 2 else (size, s)
            if disagree is None and symbolic.output_shape(trace, h, w) != expected:
                disagree = [h, w]
    result["exact"] = exact
    result["output_agrees"] = disagree is None
    result["disagrees_at"] = disagree
    return result


def _sampled_range(
    user: Subject, reference: Subject, design: Shape, domain: Domain, failed: bool
) -> dict[str, Any]:
    low_limit, high_limit = domain.height
    size = design[2]
    result: dict[str, Any] = {"method": "sampled", "output_agrees": None}
    exact: dict[str, list[bool]] = {}
    for axis, label in ((2, "height"), (3, "width")):

        def works(s: int, axis: int = axis) -> bool:
            shape = (1, design[1], s, size) if axis == 2 else (1, design[1], size, s)
            return _works(user, reference, shape)

        if not failed or not works(size):
            result[label] = [low_limit, high_limit] if not failed else None
            exact[label] = [False, False]
            continue
        low = low_limit if works(low_limit) else boundary_search(works, size, low_limit)
        high = high_limit if works(high_limit) else boundary_search(works, size, high_limit)
        result[label] = [low, high]
        exact[label] = [True, high < high_limit]
    result["exact"] = exact
    return result


def _failing_finding(
    user: Subject,
    reference: Subject,
    failing: Shape,
    valid: dict[str, Any],
    locate: diagnose.Locator,
    target: Target,
) -> Finding:
    trace = user.readable_trace(failing)
    ref_outcome = reference.outcome(failing)
    shown = diagnose.show_input(failing)
    hint = _range_hint(valid)
    if not trace.ok and ref_outcome.ok:
        where, anchor = _failure_site(user.model, trace)
        advice = _advice(user.model, trace)
        message = f"fails for inputs {shown} (reference works): {where} raised {trace.error}"
        leaf_failed = trace.calls and trace.calls[-1].raised
        site = locate(anchor) if leaf_failed or not trace.error_site else trace.error_site
        return diagnose.finding("RD103", message, "; ".join(x for x in (advice, hint) if x), site)
    if trace.ok and not ref_outcome.ok:
        return diagnose.finding(
            "RD103",
            f"works for inputs {shown} where the reference fails ({ref_outcome.error})",
            hint,
            (target.path, target.line),
        )
    return diagnose.finding(
        "RD103",
        f"for inputs {shown} the output is {diagnose.show_shape(trace.output_shape, failing[0])}, reference "
        f"{diagnose.show_shape(ref_outcome.shape, failing[0])}",
        hint,
        (target.path, target.line),
    )


def _failure_site(model: nn.Module, trace: Trace) -> tuple[str, str]:
    if trace.failed_in:
        try:
            module = model.get_submodule(trace.failed_in)
        except AttributeError:
            return trace.failed_in, trace.failed_in
        if any(True for _ in module.children()):
            inside = [c.name for c in trace.calls if c.name.startswith(trace.failed_in + ".")]
            after = f" after {inside[-1]}" if inside else ""
            return f"{trace.failed_in} ({type(module).__name__}){after}", trace.failed_in
        return f"{trace.failed_in} {type(module).__name__}({module.extra_repr()})", trace.failed_in
    if trace.after:
        return f"forward after {trace.after}", trace.after
    return "forward", ""


def _advice(model: nn.Module, trace: Trace) -> str:
    if not trace.failed_in:
        if trace.error and "Output size is too small" in trace.error:
            return (
                "a pooling window of fixed (or one-sided) size before the classifier: pool with "
                "F.adaptive_avg_pool2d(x, 1) or nn.AdaptiveAvgPool2d((1, 1))"
            )
        return ""
    try:
        module = model.get_submodule(trace.failed_in)
    except AttributeError:
        return ""
    if isinstance(module, nn.AvgPool2d):
        return "a fixed-size AvgPool2d before the classifier only fits one input size: use nn.AdaptiveAvgPool2d((1, 1))"
    if (
        trace.error
        and "Output size is too small" in trace.error
        and not isinstance(module, nn.AvgPool2d)
    ):
        return (
            "a pooling window of fixed (or one-sided) size before the classifier: pool with "
            "F.adaptive_avg_pool2d(x, 1) or nn.AdaptiveAvgPool2d((1, 1))"
        )
    if (
        any(True for _ in module.children())
        and trace.error
        and "must match the size" in trace.error
    ):
        return (
            f"inside {trace.failed_in} the residual branch and the shortcut have different shapes: "
            "check the shortcut's stride and channels against the branch's"
        )
    if isinstance(module, nn.Linear):
        return (
            f"{trace.failed_in} expects {module.in_features} features; derive in_features from the last stage's "
            "channels and pool adaptively"
        )
    return ""


def _range_hint(valid: dict[str, Any]) -> str:
    height, width = valid.get("height"), valid.get("width")
    if not height or not width:
        return ""
    method = "proven" if valid.get("method") == "symbolic" else "sampled"

    def span(pair: list[int | None]) -> str:
        low, high = pair
        return f">= {low}" if high is None else f"{low}..{high}"

    return f"valid for H {span(height)} and W {span(width)} ({method}); the reference accepts every size >= 1"


def _state_dict_check(model: nn.Module, arch: str):
    with torch.device("meta"):
        pretrained = build_reference(arch)
    return compare_layouts(tracing.state_dict_layout(model), tracing.state_dict_layout(pretrained))


def _state_dict_finding(
    report, arch: str, num_classes: int, ref_info: Reference, target: Target
) -> Finding:
    parts = []
    for label, keys in (("missing", report.missing), ("unexpected", report.unexpected)):
        if keys:
            parts.append(f"{len(keys)} {label} ({_sample(keys)})")
    if report.mismatched:
        shown = ", ".join(
            f"{m['key']} {m['model']} vs {m['reference']}" for m in report.mismatched[:3]
        )
        more = f", +{len(report.mismatched) - 3} more" if len(report.mismatched) > 3 else ""
        parts.append(f"{len(report.mismatched)} mis-shaped ({shown}{more})")
    source = "torchvision's" if ref_info.family == "imagenet" else "the reference's"
    only_head = (
        report.mismatched
        and not report.missing
        and not report.unexpected
        and all(
            m["key"].startswith(ref_info.classifier + ".") and m["model"][1:] == m["reference"][1:]
            for m in report.mismatched
        )
    )
    hint = (
        f"only the classifier differs ({num_classes} classes): drop {ref_info.classifier}.* from the checkpoint "
        "and load with strict=False"
        if only_head
        else "name the layers as the reference does (conv1, bn1, layerN.i.convK, downsample.0/1, fc) "
        "and match their shapes"
    )
    return diagnose.finding(
        "RD105",
        f"{source} pretrained {arch} weights would not load strictly: " + "; ".join(parts),
        hint,
        (target.path, target.line),
    )


def _sample(keys: list[str]) -> str:
    return ", ".join(keys[:3]) + (f", +{len(keys) - 3} more" if len(keys) > 3 else "")
