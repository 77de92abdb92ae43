"""The findings phase: what the other phases found, as findings in the user's own names and lines."""

from __future__ import annotations

from dataclasses import dataclass

import torch
from torch import nn

from reslint.dynamic import diagnose, tracing
from reslint.dynamic.building import Built
from reslint.dynamic.calls import Shape, Trace
from reslint.dynamic.catalogue import Reference
from reslint.dynamic.codes import finding
from reslint.dynamic.diagnose import Row, show_input, show_shape
from reslint.dynamic.equivalence import Equivalence, partners
from reslint.dynamic.identity import Identity, kind_of_reference
from reslint.dynamic.inputs import InputRange, Inputs
from reslint.dynamic.matching import Matched
from reslint.dynamic.running import Traced
from reslint.dynamic.stages import STEM
from reslint.dynamic.statedict import StateDictReport, compare_layouts
from reslint.dynamic.zoo import build_reference
from reslint.findings import Finding

# The most useful fact first: a failure on the reference's own input, then the smallest failing input; then
# what the model is, where shapes and functions part ways, then what is only worth knowing.
ORDER = (
    "RD111",
    "RD101",
    "RD104",
    "RD109",
    "RD107",
    "RD103",
    "RD102",
    "RD106",
    "RD105",
    "RD110",
    "RD108",
)


@dataclass
class Facts:
    """What the phases found."""

    built: Built
    traced: Traced
    matched: Matched
    inputs: Inputs
    layout: StateDictReport
    ref_info: Reference
    equivalence: Equivalence | None
    identity: Identity | None


def conclude(facts: Facts, differs: bool) -> list[Finding]:
    built, traced, matched, inputs = facts.built, facts.traced, facts.matched, facts.inputs
    user_trace, locate = traced.user_trace, built.locate
    first: list[
        Finding
    ] = []  # a failure on the reference's own input, then the smallest failing one
    findings: list[Finding] = []
    if not user_trace.ok:
        first.append(_failing_finding(traced, traced.design, inputs, built, design=True))
    if inputs.failing is not None and inputs.failing != traced.design:
        failing = _failing_finding(traced, inputs.failing, inputs, built)
        if not user_trace.ok:
            first.append(failing)
        elif not _only_the_output_differs(traced, inputs.failing):  # RD104 says it already
            findings.append(failing)
    identity = facts.identity
    if differs and identity is not None:
        findings += _identity_findings(identity, facts.ref_info, built)
    shape = diagnose.shape_finding(
        matched.rows,
        user_trace,
        traced.ref_trace,
        matched.user_stages,
        locate,
        lambda row: variant_hint(row, identity, facts.ref_info) if identity else None,
    )
    if shape is not None:
        findings.append(shape)
    findings += diagnose.parameter_findings(
        matched.stages, matched.rows, locate, lambda stage: matched.user_stages.get(stage, "")
    )
    if user_trace.ok and user_trace.output_shape != traced.ref_trace.output_shape:
        findings.append(
            finding(
                "RD104",
                f"output is {show_shape(user_trace.output_shape, 1)}, reference "
                f"{show_shape(traced.ref_trace.output_shape, 1)} on input {show_input(traced.design)}",
                "end with a global average pool, flatten and the classifier, as the reference does",
                locate.default,
            )
        )
    if user_trace.ok:  # after a failure, later modules were simply never reached
        forgotten = [module for module in matched.uncalled if module.meant_for_forward]
        findings += diagnose.uncalled_findings(forgotten, matched.ref_called, locate)
    if not facts.layout.loads:
        findings.append(_state_dict_finding(facts, built))
    if traced.output.several:
        findings.append(_output_finding(traced, built))
    if facts.equivalence is not None and facts.equivalence.status != "matches":
        findings.append(_equivalence_finding(facts.equivalence, traced, built))
    return first + sorted(findings, key=lambda f: ORDER.index(f.code))


KIND_WORDS = {"basic": "basic blocks", "bottleneck": "bottlenecks"}


def _identity_findings(identity: Identity, ref_info: Reference, built: Built) -> list[Finding]:
    """RD111: the reference the model is, or its blocks per stage, and the known variants it has."""
    asked = list(ref_info.layers)
    variants = ", ".join(variant.words for variant in identity.variants)
    kind = f" of {KIND_WORDS[identity.kind]}" if identity.kind in KIND_WORDS else ""
    their_kind = f" of {KIND_WORDS.get(kind_of_reference(ref_info), 'blocks')}"
    with_variants = f", with {variants}" if variants else ""
    if identity.closest and identity.closest != ref_info.name:
        message = f"this is {identity.closest}: blocks {identity.blocks}{kind}{with_variants}"
        hint = f"compare it with --compare-to {identity.closest}"
    elif identity.blocks != asked or identity.kind not in ("", kind_of_reference(ref_info)):
        message = (
            f"blocks per stage {identity.blocks}{kind}, where {ref_info.name} has "
            f"{asked}{their_kind}{with_variants}"
        )
        hint = f"build the stages as {ref_info.name} does: {asked}{their_kind}"
    elif variants:
        message = f"this is {ref_info.name} with {variants}"
        hint = "a known variant; the findings below say where it departs from the reference"
    else:
        return []
    return [finding("RD111", message, hint, built.locate.default)]


def variant_hint(row: Row, identity: Identity, ref_info: Reference) -> str | None:
    """A hint naming the known variant a differing row comes from, instead of "remove it"."""
    words = {variant.key: variant.words for variant in identity.variants}
    other = identity.closest not in (None, ref_info.name)
    elsewhere = f": compare it with --compare-to {identity.closest}" if other else ""
    if row.stage == STEM:
        stem = words.get("deep-stem") or words.get("cifar-stem")
        if stem:
            return f"{stem} is a known variant, not a mistake{elsewhere}"
    if row.stage in ref_info.stages:
        index = ref_info.stages.index(row.stage)
        have, want = identity.blocks[index], ref_info.layers[index]
        if have != want:
            return f"{row.stage} has {have} blocks where {ref_info.name} has {want}: build it with {want}"
    for key in ("projection-shortcuts", "zero-pad-shortcuts", "v1-stride"):
        if key in words:
            return f"{words[key]}: a known variant, not a mistake{elsewhere}"
    return None


def _only_the_output_differs(traced: Traced, failing: Shape) -> bool:
    """The model runs everywhere and its output shape differs even on the reference's input."""
    outcome = traced.user.outcome(failing)
    return outcome.ok and traced.user_trace.output_shape != traced.ref_trace.output_shape


def state_dict_check(model: nn.Module, arch: str) -> StateDictReport:
    with torch.device("meta"):
        pretrained = build_reference(arch)
    return compare_layouts(tracing.state_dict_layout(model), tracing.state_dict_layout(pretrained))


def _failing_finding(
    traced: Traced, failing: Shape, inputs: Inputs, built: Built, design: bool = False
) -> Finding:
    """RD103 for an input the model fails on (the reference's own one first), RD107 when it fails only on
    non-square inputs; the hint carries the valid range, or why it was not proven."""
    user, reference = traced.user, traced.reference
    trace = traced.failure if design and traced.failure else user.readable_trace(failing)
    ref_outcome = reference.outcome(failing)
    shown = show_input(failing)
    code = "RD107" if inputs.squares is not None and not design else "RD103"
    hint = _range_hint(inputs.range)
    if code == "RD107":
        tried = inputs.squares or []
        subject = (
            f"fails only on non-square inputs (every square input works, {len(tried)} sizes tried "
            f"from 1x1 to {tried[-1]}x{tried[-1]}); for inputs {shown}"
        )
        hint = "; ".join(
            x for x in (hint, "pool with F.adaptive_avg_pool2d(out, 1) to accept any shape") if x
        )
    elif design:
        subject = f"fails on the reference's own input {shown}"
    else:
        subject = f"fails for inputs {shown} (reference works)"
    if not trace.ok and ref_outcome.ok:
        where, anchor = _failure_site(user.model, trace)
        advice = _advice(user.model, trace) if code == "RD103" else ""
        leaf_failed = trace.calls and trace.calls[-1].raised
        site = built.locate(anchor) if leaf_failed or not trace.error_site else trace.error_site
        message = f"{subject}: {where} raised {trace.error}"
        return finding(code, message, "; ".join(x for x in (advice, hint) if x), site)
    if trace.ok and not ref_outcome.ok:
        return finding(
            code,
            f"works for inputs {shown} where the reference fails ({ref_outcome.error})",
            hint,
            built.locate.default,
        )
    return finding(
        code,
        f"{subject}: the output is {show_shape(trace.output_shape, failing[0])}, reference "
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


def _range_hint(valid: InputRange) -> str:
    height, width = valid.valid.get("height"), valid.valid.get("width")
    unproven = f"no proven range: {valid.unavailable}" if valid.unavailable else ""
    if not height or not width:
        return unproven
    method = "proven" if valid.analysis == "symbolic" else "sampled"

    def span(pair: list[int | None]) -> str:
        low, high = pair
        return f">= {low}" if high is None else f"{low}..{high}"

    other = valid.valid.get("other_side")
    how = f"{method}, the other side at {other}" if other else method
    text = f"valid for H {span(height)} and W {span(width)} ({how}); the reference accepts every size >= 1"
    return "; ".join(x for x in (text, unproven) if x)


def _equivalence_finding(equivalence: Equivalence, traced: Traced, built: Built) -> Finding:
    if equivalence.status != "differs":
        return finding(
            "RD110",
            f"could not check that the model computes the reference's function: {equivalence.reason}",
            "shapes and parameter counts match; the check hands the reference's weights to the model "
            "layer by layer and needs one layer of the model for each of the reference's",
            built.locate.default,
        )
    where = equivalence.where or built.locate(equivalence.model_block or "")
    if equivalence.model_block is None:
        subject = "every block agrees with the reference's, but the model's output does not"
    else:
        kind = type(traced.user.model.get_submodule(equivalence.model_block)).__name__
        subject = (
            f"{equivalence.model_block} ({kind}) computes another function than the reference's "
            f"{equivalence.block}"
        )
    recipe = f"the reference's block computes {equivalence.recipe}" if equivalence.recipe else ""
    return finding(
        "RD109",
        f"given the same weights, {subject}: {equivalence.cause}",
        recipe,
        where,
    )


def _output_finding(traced: Traced, built: Built) -> Finding:
    choice = traced.output
    tensors = ", ".join(f"{path}: {show_shape(shape, 1)}" for path, shape in choice.outputs)
    why = (
        "as asked with --output"
        if choice.asked
        else (
            "shaped like the reference's output"
            if choice.path and dict(choice.outputs)[choice.path] == traced.ref_trace.output_shape
            else "the first one"
        )
    )
    return finding(
        "RD108",
        f"forward returns a {choice.kind} of {len(choice.outputs)} tensors ({tensors}); compared "
        f"{choice.path} with the reference's output, {why}",
        "pick another with --output INDEX|KEY",
        built.locate.default,
    )


def _state_dict_finding(facts: Facts, built: Built) -> Finding:
    """RD105: the keys that differ, and what to do: drop a classifier of another size, or rename the
    modules the alignment pairs with the reference's under another name."""
    report, ref_info = facts.layout, facts.ref_info
    parts = []
    for label, keys in (("missing", report.missing), ("unexpected", report.unexpected)):
        if keys:
            parts.append(f"{len(keys)} {label} ({_sample(keys)})")
    if report.mismatched:
        shown = [f"{m['key']} {m['model']} vs {m['reference']}" for m in report.mismatched]
        parts.append(f"{len(shown)} mis-shaped ({_sample(shown)})")
    head = ref_info.classifier
    only_head = (
        report.mismatched
        and not report.missing
        and not report.unexpected
        and all(
            m["key"].startswith(head + ".") and m["model"][1:] == m["reference"][1:]
            for m in report.mismatched
        )
    )
    renames = _renames(facts.matched, report.missing, head)
    if only_head:
        hint = (
            f"only the classifier differs ({facts.traced.num_classes} classes): drop {head}.* from "
            "the checkpoint and load with strict=False"
        )
    elif renames:
        hint = f"name these modules as {ref_info.name} does: {_sample(renames)}"
    else:
        hint = f"match the names and shapes of the keys listed to {ref_info.name}'s"
    source = "torchvision's" if ref_info.family == "imagenet" else "the reference's"
    return finding(
        "RD105",
        f"{source} pretrained {ref_info.name} weights would not load strictly: " + "; ".join(parts),
        hint,
        built.locate.default,
    )


def _renames(matched: Matched, missing: list[str], head: str) -> list[str]:
    """`user → reference` for each aligned layer whose keys are missing under the user's name; the
    classifier first (its name differs most often, `fc` vs `linear`)."""
    owners = {key.rpartition(".")[0] for key in missing}
    found: dict[str, tuple[bool, str]] = {}
    for user, ref in partners(matched.rows):
        if user.name != ref.name and user.name in owners:
            found.setdefault(user.name, (ref.name != head, f"{user.name} → {ref.name}"))
    return [text for _, text in sorted(found.values(), key=lambda item: item[0])]


def _sample(keys: list[str]) -> str:
    return ", ".join(keys[:3]) + (f", +{len(keys) - 3} more" if len(keys) > 3 else "")
