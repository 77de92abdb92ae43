"""The align phase: pair the user's layer calls with the reference's, find the stages, total the
parameters per stage. Rows and stage subtotals are what the table shows and the findings cite."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from torch import nn

from reslint.dynamic import diagnose, stages, tracing
from reslint.dynamic.align import align, canonical_order
from reslint.dynamic.catalogue import Reference
from reslint.dynamic.diagnose import Row, StageParams
from reslint.dynamic.running import Traced


@dataclass
class Matched:
    rows: list[Row]
    stages: list[StageParams]
    user_stages: dict[str, str]  # reference stage label -> the user's module for it
    user_first: dict[str, int]  # user module -> index of its first leaf call
    ref_first: dict[str, int]


def match(traced: Traced, ref_info: Reference) -> Matched:
    user_trace, ref_trace = traced.user_trace, traced.ref_trace
    user_model, ref_model = traced.user.model, traced.reference.model
    user_table = tracing.module_table(user_model)
    user_first = stages.first_calls(user_table, [c.name for c in user_trace.calls])
    ref_first = stages.first_calls(
        tracing.module_table(ref_model), [c.name for c in ref_trace.calls]
    )
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

    user_totals = _stage_params(
        user_model, _stage_function(user_stage_names, user_first, labels, user_model)
    )
    ref_totals = _stage_params(
        ref_model, _stage_function(list(ref_info.stages), ref_first, {}, ref_model)
    )
    inverse = {label: name for name, label in labels.items()}
    stage_rows = _stage_rows(user_totals, ref_totals, ref_info, inverse)

    user_trace.calls = [user_trace.calls[i] for i in canonical_order(user_trace.calls)]
    pairs = align(user_trace.calls, ref_trace.calls)
    rows = diagnose.build_rows(pairs, user_trace, ref_trace, user_stage_of, ref_stage_of)
    return Matched(rows, stage_rows, inverse, user_first, ref_first)


def _stage_function(
    stage_names: list[str], first: dict[str, int], labels: dict[str, str], model: nn.Module
) -> Callable[[str], str]:
    order = [name for name, _ in model.named_modules()]

    def stage(name: str) -> str:
        own = stages.stage_of(name, stage_names, first, order)
        return labels.get(own, own)

    return stage


def _stage_params(model: nn.Module, stage_of: Callable[[str], str]) -> dict[str, dict[str, int]]:
    """Per stage label: parameters, conv/linear biases, convs, convs with bias."""
    totals: dict[str, dict[str, int]] = {}
    seen: set[int] = set()
    for name, module in model.named_modules():
        stage = stage_of(name)
        bucket = totals.setdefault(stage, {"params": 0, "biases": 0, "convs": 0, "biased_convs": 0})
        for param in module.parameters(recurse=False):
            if id(param) not in seen:
                seen.add(id(param))
                bucket["params"] += param.numel()
        if isinstance(module, (nn.modules.conv._ConvNd, nn.Linear)):
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


def _stage_rows(
    user_totals: dict[str, dict[str, int]],
    ref_totals: dict[str, dict[str, int]],
    ref_info: Reference,
    user_names: dict[str, str],
) -> list[StageParams]:
    known = stages.stage_order(ref_info.stages)
    rows = []
    for stage in known + [s for s in user_totals if s not in known]:
        u, r = user_totals.get(stage, {}), ref_totals.get(stage, {})
        if not u and not r:
            continue
        rows.append(
            StageParams(
                stage,
                user_names.get(stage),
                u.get("params", 0),
                r.get("params", 0),
                u.get("biases", 0),
                r.get("biases", 0),
                u.get("convs", 0),
                u.get("biased_convs", 0),
            )
        )
    return rows
