"""The comparison itself, run inside the isolated worker, as a list of phases: build -> trace -> align ->
search inputs -> symbolic range -> findings. Each phase returns a small dataclass; `compare` assembles the
JSON-ready result and never raises for anything the user's model does (it raises `CouldNotRun`)."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from reslint.dynamic.building import Built, build
from reslint.dynamic.calls import Shape
from reslint.dynamic.catalogue import REFERENCE_VALID_FROM, REFERENCES, Reference
from reslint.dynamic.conclude import Facts, conclude, state_dict_check
from reslint.dynamic.equivalence import check
from reslint.dynamic.identity import identify
from reslint.dynamic.inputs import Inputs, explore_inputs
from reslint.dynamic.matching import Matched, match
from reslint.dynamic.running import Traced, trace_models
from reslint.dynamic.stages import UNUSED
from reslint.dynamic.statedict import StateDictReport
from reslint.dynamic.target import CouldNotRun
from reslint.findings import Finding

Progress = Callable[..., None]


@dataclass
class Request:
    arch: str
    target: str
    init: dict[str, Any] = field(default_factory=dict)
    cwd: str = "."
    analysis: str = "auto"  # auto | sampled | symbolic
    device: str = "auto"  # auto | meta | cpu
    max_examples: int | None = None
    output: str | None = None  # which tensor of a tuple/dict output to compare (--output)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Request:
        known = {k: v for k, v in data.items() if k in cls.__dataclass_fields__}
        return cls(**known)


def reference_of(arch: str) -> Reference:
    if arch not in REFERENCES:
        raise CouldNotRun(
            "RD001",
            f"unknown reference architecture {arch!r}",
            "reslint --list-references shows them: " + ", ".join(REFERENCES),
        )
    return REFERENCES[arch]


def compare(request: Request, progress: Progress) -> dict[str, Any]:
    started = time.perf_counter()
    ref_info = reference_of(request.arch)
    built = build(request.target, request.cwd, request.init, progress)
    return run_phases(request, ref_info, built, progress, started)


def run_phases(
    request: Request,
    ref_info: Reference,
    built: Built,
    progress: Progress,
    started: float | None = None,
) -> dict[str, Any]:
    """Every phase after the build, on a model built from a target or handed over in memory."""
    started = time.perf_counter() if started is None else started
    traced = trace_models(built, ref_info, request.device, request.output, progress)
    progress("aligning layers")
    matched = match(traced, ref_info)
    inputs = explore_inputs(traced, ref_info, request.max_examples, request.analysis, progress)
    agrees = _agrees(built, traced, matched, inputs)
    equivalence = check(traced, matched, ref_info, built, progress) if agrees else None
    matches = agrees and (equivalence is None or equivalence.status != "differs")
    identity = None
    if traced.user_trace.ok:
        identity = identify(traced, matched, ref_info, built.params - matched.params_aside)
    layout = state_dict_check(traced.user.model, request.arch)
    facts = Facts(built, traced, matched, inputs, layout, ref_info, equivalence, identity)
    findings = conclude(facts, differs=not matches)
    return _result(request, ref_info, built, traced, matched, inputs, layout, findings) | {
        "verdict": "matches" if matches else "differs",
        "equivalence": equivalence.to_dict() if equivalence is not None else None,
        "identity": identity.to_dict() if identity is not None else None,
        "seconds": round(time.perf_counter() - started, 3),
    }


def _agrees(built: Built, traced: Traced, matched: Matched, inputs: Inputs) -> bool:
    """Same counts, shapes and output; an input only one model accepts is a difference unless the
    user's model fails only on non-square inputs (a warning)."""
    return (
        built.params - matched.params_aside == traced.reference.params
        and all(s.delta == 0 for s in matched.stages if s.stage != UNUSED)
        and not any(row.differs for row in matched.rows)
        and traced.user_trace.ok
        and traced.user_trace.output_shape == traced.ref_trace.output_shape
        and (inputs.failing is None or inputs.squares is not None)
    )


def _result(
    request: Request,
    ref_info: Reference,
    built: Built,
    traced: Traced,
    matched: Matched,
    inputs: Inputs,
    layout: StateDictReport,
    findings: list[Finding],
) -> dict[str, Any]:
    """The JSON contract (README, "Dynamic pass"): keys are only ever added."""
    return {
        "verdict": None,  # set by compare, once the equivalence phase has run
        "arch": request.arch,
        "target": built.target.label,
        "path": built.target.path,
        "parameters": {"model": built.params, "reference": traced.reference.params},
        "parameters_not_in_forward": matched.params_aside,
        "stages": [s.to_dict() for s in matched.stages],
        "blocks": {
            "model": [len(matched.blocks.get(stage, [])) for stage in ref_info.stages],
            "reference": list(ref_info.layers),
        },
        "findings": [f.to_dict() for f in findings],
        "layers": [row.to_dict() for row in matched.rows],
        "failing_input": _list(inputs.failing),
        "non_square_only": inputs.squares is not None,
        "analysis": inputs.range.analysis,
        "symbolic_unavailable": inputs.range.unavailable,
        "valid_input_range": inputs.range.valid,
        "reference_input_range": {
            "height": [REFERENCE_VALID_FROM, None],
            "width": [REFERENCE_VALID_FROM, None],
        },
        "input_shape": list(traced.design),
        "output_shape": {
            "model": _list(traced.user_trace.output_shape),
            "reference": _list(traced.ref_trace.output_shape),
        },
        "output": {
            "kind": traced.output.kind,
            "compared": traced.output.path,
            "tensors": [[path, _list(shape)] for path, shape in traced.output.outputs],
        },
        "model_error": traced.model_error,
        "inputs_tried": inputs.search.tried,
        "input_domain": inputs.search.domain.to_dict(),
        "state_dict": layout.to_dict(),
        "mode": traced.user.mode,
    }


def _list(shape: Shape | None) -> list[int] | None:
    return list(shape) if shape is not None else None
