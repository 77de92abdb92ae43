"""The findings phase: what the other phases found, as findings in the user's own names and lines."""

from __future__ import annotations

from typing import Any

import torch
from torch import nn

from reslint.dynamic import diagnose, tracing
from reslint.dynamic.building import Built
from reslint.dynamic.calls import Shape, Trace
from reslint.dynamic.catalogue import Reference
from reslint.dynamic.diagnose import finding, show_input, show_shape
from reslint.dynamic.inputs import InputRange
from reslint.dynamic.matching import Matched
from reslint.dynamic.running import Traced
from reslint.dynamic.statedict import StateDictReport, compare_layouts
from reslint.dynamic.subject import Subject
from reslint.dynamic.zoo import build_reference
from reslint.findings import Finding


def conclude(
    built: Built,
    traced: Traced,
    matched: Matched,
    failing: Shape | None,
    valid: InputRange,
    layout: StateDictReport,
    ref_info: Reference,
) -> list[Finding]:
    user_trace, ref_trace, locate = traced.user_trace, traced.ref_trace, built.locate
    findings: list[Finding] = []
    shape = diagnose.shape_finding(matched.rows, user_trace, ref_trace, matched.user_stages, locate)
    if shape is not None:
        findings.append(shape)
    findings += diagnose.parameter_findings(
        matched.stages, matched.rows, locate, lambda stage: matched.user_stages.get(stage, "")
    )
    if user_trace.ok and user_trace.output_shape != ref_trace.output_shape:
        findings.append(
            finding(
                "RD104",
                f"output is {show_shape(user_trace.output_shape, 1)}, reference "
                f"{show_shape(ref_trace.output_shape, 1)} on input {show_input(traced.design)}",
                "end with a global average pool, flatten and the classifier, as the reference does",
                locate.default,
            )
        )
    if failing is not None:
        findings.append(_failing_finding(traced.user, traced.reference, failing, valid, built))
    if user_trace.ok:  # after a failure, later modules were simply never reached
        findings += diagnose.uncalled_findings(
            _uncalled(traced.user.model, matched.user_first), set(matched.ref_first), locate
        )
    if not layout.loads:
        findings.append(_state_dict_finding(layout, traced.num_classes, ref_info, built))
    return sorted(findings, key=lambda f: (f.line, f.code))


def state_dict_check(model: nn.Module, arch: str) -> StateDictReport:
    with torch.device("meta"):
        pretrained = build_reference(arch)
    return compare_layouts(tracing.state_dict_layout(model), tracing.state_dict_layout(pretrained))


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


def _failing_finding(
    user: Subject, reference: Subject, failing: Shape, valid: InputRange, built: Built
) -> Finding:
    trace = user.readable_trace(failing)
    ref_outcome = reference.outcome(failing)
    shown = show_input(failing)
    hint = _range_hint(valid.valid)
    if not trace.ok and ref_outcome.ok:
        where, anchor = _failure_site(user.model, trace)
        advice = _advice(user.model, trace)
        message = f"fails for inputs {shown} (reference works): {where} raised {trace.error}"
        leaf_failed = trace.calls and trace.calls[-1].raised
        site = built.locate(anchor) if leaf_failed or not trace.error_site else trace.error_site
        return finding("RD103", message, "; ".join(x for x in (advice, hint) if x), site)
    if trace.ok and not ref_outcome.ok:
        return finding(
            "RD103",
            f"works for inputs {shown} where the reference fails ({ref_outcome.error})",
            hint,
            built.locate.default,
        )
    return finding(
        "RD103",
        f"for inputs {shown} the output is {show_shape(trace.output_shape, failing[0])}, reference "
        f"{show_shape(ref_outcome.shape, failing[0])}",
        hint,
        built.locate.default,
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


POOL_ADVICE = (
    "a pooling window of fixed (or one-sided) size before the classifier: pool with "
    "F.adaptive_avg_pool2d(x, 1) or nn.AdaptiveAvgPool2d((1, 1))"
)


def _advice(model: nn.Module, trace: Trace) -> str:
    error = trace.error or ""
    if not trace.failed_in:
        return POOL_ADVICE if "Output size is too small" in error else ""
    try:
        module = model.get_submodule(trace.failed_in)
    except AttributeError:
        return ""
    if isinstance(module, nn.AvgPool2d):
        return "a fixed-size AvgPool2d before the classifier only fits one input size: use nn.AdaptiveAvgPool2d((1, 1))"
    if "Output size is too small" in error:
        return POOL_ADVICE
    if any(True for _ in module.children()) and "must match the size" in error:
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


def _state_dict_finding(
    report: StateDictReport, num_classes: int, ref_info: Reference, built: Built
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
    return finding(
        "RD105",
        f"{source} pretrained {ref_info.name} weights would not load strictly: " + "; ".join(parts),
        hint,
        built.locate.default,
    )


def _sample(keys: list[str]) -> str:
    return ", ".join(keys[:3]) + (f", +{len(keys) - 3} more" if len(keys) > 3 else "")
