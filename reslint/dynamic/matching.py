"""The align phase: pair the user's layer calls with the reference's, give every call the reference stage
it lines up with, total the parameters per stage and count the blocks. Stages come from the alignment, not
from module names, so flat nn.Sequential ResNets and models with other names get the same subtotals."""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass

from torch import nn

from reslint.dynamic import diagnose, stages, tracing
from reslint.dynamic.align import Pair, align, canonical_order, kind_of
from reslint.dynamic.calls import LayerCall
from reslint.dynamic.catalogue import Reference
from reslint.dynamic.diagnose import Row, StageParams
from reslint.dynamic.locate import attributes_used_outside_forward
from reslint.dynamic.running import Traced
from reslint.dynamic.stages import ModuleInfo
from reslint.knowledge.layers import CONTAINER_LAYERS

# An unmatched module holding this many residual blocks is a branch of its own (a second backbone),
# not an extra block of the stage before it.
BRANCH_BLOCKS = 2


@dataclass(frozen=True)
class Uncalled:
    """A top-most module forward never reached."""

    name: str
    type: str
    params: int
    meant_for_forward: bool  # False for a loss, or a module another method of the model uses


@dataclass
class Matched:
    pairs: list[Pair]
    rows: list[Row]
    stages: list[StageParams]
    user_stages: dict[str, str]  # reference stage label -> the user's module for it
    called: set[str]  # user modules forward reached (leaf and non-leaf)
    ref_called: set[str]
    blocks: dict[str, list[str]]  # reference stage label -> the user's residual blocks there
    call_stages: CallStages  # the stage of each of the user's calls
    uncalled: list[Uncalled]

    @property
    def params_aside(self) -> int:
        """Parameters of modules forward is not meant to call (an auxiliary head used in training)."""
        return sum(module.params for module in self.uncalled if not module.meant_for_forward)


def match(traced: Traced, ref_info: Reference) -> Matched:
    user_trace, ref_trace = traced.user_trace, traced.ref_trace
    user_model, ref_model = traced.user.model, traced.reference.model
    user_table, ref_table = tracing.module_table(user_model), tracing.module_table(ref_model)
    ref_first = stages.first_calls(ref_table, [c.name for c in ref_trace.calls])

    def ref_stage_of(name: str) -> str:
        return stages.stage_of(name, list(ref_info.stages), ref_first)

    user_trace.calls = [user_trace.calls[i] for i in canonical_order(user_trace.calls)]
    pairs = align(user_trace.calls, ref_trace.calls, truncated=not user_trace.ok)
    call_stages = assign_stages(pairs, user_trace.calls, ref_trace.calls, ref_stage_of, user_table)
    user_stages = stage_modules(call_stages, ref_info.stages)
    if not user_trace.ok:  # modules after the failure were never called
        user_stages = _unreached_stages(user_stages, ref_info.stages, user_table)
    rows = diagnose.build_rows(
        pairs, user_trace, ref_trace, lambda index: call_stages[index][1], ref_stage_of
    )
    order = [] if user_trace.ok else [name for name, _ in user_model.named_modules()]
    user_totals = _stage_params(user_model, _module_stage(call_stages, user_stages, order))
    ref_stages = [(call.name, ref_stage_of(call.name)) for call in ref_trace.calls]
    ref_totals = _stage_params(ref_model, _module_stage(ref_stages, {}))
    called = {
        module
        for call in user_trace.calls + user_trace.blocks
        if not call.raised
        for module in [call.name, *_ancestors(call.name)]
    }
    return Matched(
        pairs,
        rows,
        _stage_rows(user_totals, ref_totals, ref_info, user_stages),
        user_stages,
        called,
        {c.name for c in ref_trace.calls + ref_trace.blocks},
        {
            stage: residual_blocks(_in_stage(call_stages, stage), user_trace.calls, user_table)
            for stage in ref_info.stages
        },
        call_stages,
        uncalled_modules(user_model, called) if user_trace.ok else [],
    )


def _ancestors(name: str) -> list[str]:
    """Enclosing module names, nearest first, ending with the model itself ("")."""
    parts = name.split(".")
    return [".".join(parts[:i]) for i in range(len(parts) - 1, 0, -1)] + [""]


# The stage of each user call, in call order: (call name, stage). A module called twice (a shared ReLU,
# a norm reused after the addition) has one entry per call.
CallStages = list[tuple[str, str]]


def enclosing_module(layers: Iterable[str]) -> str:
    """The innermost module around all the given layers ("" when only the model itself is)."""
    common: list[str] = []
    for parts in zip(*(name.split(".")[:-1] for name in layers)):
        if len(set(parts)) > 1:
            break
        common.append(parts[0])
    return ".".join(common)


def _in_stage(call_stages: CallStages, stage: str) -> set[str]:
    return {name for name, label in call_stages if label == stage}


def assign_stages(
    pairs: Sequence[Pair],
    user: Sequence[LayerCall],
    ref: Sequence[LayerCall],
    ref_stage: Callable[[str], str],
    table: dict[str, ModuleInfo],
) -> CallStages:
    """The reference stage of each user call. A block belongs to one stage: a call takes the stage most
    of the paired calls of its nearest enclosing module have (so a stray pairing of a reused layer with
    the next stage's does not split a block), else its partner's. An unpaired call outside any module with
    paired calls is a branch of its own when the unpaired module around it holds whole blocks (a second
    backbone), else it goes with the call before it (an extra block)."""
    paired = {
        p.user: ref_stage(ref[p.ref].name)
        for p in pairs
        if p.user is not None and p.ref is not None
    }
    votes: dict[str, Counter[str]] = {}
    for index, stage in paired.items():
        for ancestor in _ancestors(user[index].name)[:-1]:  # not the model itself
            votes.setdefault(ancestor, Counter())[stage] += 1
    branches: dict[str, bool] = {}
    result: dict[int, str] = {}
    previous = stages.STEM
    for pair in pairs:
        if pair.user is None:
            previous = ref_stage(ref[pair.ref].name)  # type: ignore[index]
            continue
        enclosing, branch = _enclosing(user[pair.user].name, votes)
        if enclosing is not None:
            (stage, count), total = votes[enclosing].most_common(1)[0], votes[enclosing].total()
            own = paired.get(pair.user)
            result[pair.user] = stage if 2 * count > total or own is None else own
        elif pair.user in paired:
            result[pair.user] = paired[pair.user]
        elif branch and branches.setdefault(branch, _is_branch(branch, user, table)):
            result[pair.user] = branch
        else:
            result[pair.user] = previous
        if pair.user in paired:
            previous = result[pair.user]
    return [(call.name, result[index]) for index, call in enumerate(user)]


def _enclosing(name: str, votes: dict[str, Counter[str]]) -> tuple[str | None, str]:
    """The nearest enclosing module with paired calls (None: only the model itself has them), and the
    outermost one without ("" if none)."""
    branch = ""
    for ancestor in _ancestors(name)[:-1]:
        if ancestor in votes:
            return ancestor, branch
        branch = ancestor
    return None, branch


def _is_branch(root: str, calls: Sequence[LayerCall], table: dict[str, ModuleInfo]) -> bool:
    under = {call.name for call in calls if call.name.startswith(root + ".")}
    return len(residual_blocks(under, calls, table)) >= BRANCH_BLOCKS


def residual_blocks(
    selected: set[str], calls: Sequence[LayerCall], table: dict[str, ModuleInfo]
) -> list[str]:
    """The residual blocks among the `selected` calls: the outermost modules (not Sequential/ModuleList)
    holding only selected calls, at least one of them a conv. A single such module (a stage class) is
    looked inside when it holds two or more of them with two or more convs each. In call order."""
    holds: dict[str, list[LayerCall]] = {}  # in order of first call: dicts keep insertion order
    for call in calls:
        for ancestor in _ancestors(call.name)[:-1]:
            holds.setdefault(ancestor, []).append(call)
    order = {module: index for index, module in enumerate(holds)}
    candidates = {
        module
        for module, inner in holds.items()
        if table[module].type not in CONTAINER_LAYERS
        and all(call.name in selected for call in inner)
        and any(kind_of(call.type) == "conv" for call in inner)
    }
    blocks = _outermost(candidates, order)
    while len(blocks) == 1:
        inner = {m for m in candidates if m.startswith(blocks[0] + ".")}
        children = _outermost(inner, order)
        convs = [sum(kind_of(c.type) == "conv" for c in holds[child]) for child in children]
        if len(children) < 2 or min(convs) < 2:
            break
        blocks, candidates = children, inner
    return blocks


def _outermost(modules: set[str], order: dict[str, int]) -> list[str]:
    return sorted(
        (m for m in modules if not any(a in modules for a in _ancestors(m))), key=order.__getitem__
    )


def stage_modules(call_stages: CallStages, stage_names: Sequence[str]) -> dict[str, str]:
    """The user's module for each reference stage: the outermost module around all of the stage's calls
    that holds no call of another stage (a flat nn.Sequential has none)."""

    def only(module: str, stage: str) -> bool:
        return module != "" and all(
            label == stage for name, label in call_stages if name.startswith(module + ".")
        )

    found: dict[str, str] = {}
    for stage in stage_names:
        names = _in_stage(call_stages, stage)
        module = enclosing_module(names)
        if names and only(module, stage):
            while only(module.rpartition(".")[0], stage):
                module = module.rpartition(".")[0]
            found[stage] = module
    return found


def _unreached_stages(
    found: dict[str, str], stage_names: Sequence[str], table: dict[str, ModuleInfo]
) -> dict[str, str]:
    """When forward failed part way: the stages it never reached are the last reached stage module's
    later siblings of the same type."""
    reached = [index for index, stage in enumerate(stage_names) if stage in found]
    if not reached:
        return found
    last = found[stage_names[reached[-1]]]
    siblings = table[last.rpartition(".")[0]].children
    later = [c for c in siblings[siblings.index(last) + 1 :] if table[c].type == table[last].type]
    return found | dict(zip(stage_names[reached[-1] + 1 :], later))


def _module_stage(
    call_stages: CallStages, stage_modules: dict[str, str], order: Sequence[str] = ()
) -> Callable[[str], str]:
    """The stage of any module: a called one goes by its first call; one forward never reached by the
    stage module it sits in, else (when forward failed part way, `order` being the registration order)
    by where it is registered: before the stages is stem, after them head; else 'not called'."""
    first: dict[str, str] = {}
    for name, label in call_stages:
        for module in [name, *_ancestors(name)]:
            first.setdefault(module, label)
    position = {name: index for index, name in enumerate(order)}
    stage_positions = [position[m] for m in stage_modules.values() if m in position]

    def stage(name: str) -> str:
        if name in first:
            return first[name]
        for label, module in stage_modules.items():
            if name == module or name.startswith(module + "."):
                return label
        if name in position and stage_positions:
            if position[name] < min(stage_positions):
                return stages.STEM
            if position[name] > max(stage_positions):
                return stages.HEAD
        return stages.UNUSED

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
    return {stage: bucket for stage, bucket in totals.items() if any(bucket.values())}


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
                user_names.get(
                    stage, stage if stage not in known and stage != stages.UNUSED else None
                ),
                u.get("params", 0),
                r.get("params", 0),
                u.get("biases", 0),
                r.get("biases", 0),
                u.get("convs", 0),
                u.get("biased_convs", 0),
            )
        )
    return rows


def uncalled_modules(model: nn.Module, called: set[str]) -> list[Uncalled]:
    """Top-most modules that forward never reached (a module inside an uncalled one is not repeated)."""
    found = []
    for name, module in model.named_modules():
        if name in called or name.rpartition(".")[0] not in called:
            continue
        params = sum(p.numel() for p in module.parameters())
        found.append(Uncalled(name, type(module).__name__, params, _meant_for_forward(model, name)))
    return found


def _meant_for_forward(model: nn.Module, name: str) -> bool:
    """False for a loss, and for a module that a method other than __init__ and forward uses
    (`self.criterion` in `training_step`, say): leaving it out of forward is the point."""
    module = model.get_submodule(name)
    if isinstance(module, nn.modules.loss._Loss) or type(module).__name__.endswith("Loss"):
        return False
    parent_name, _, attr = name.rpartition(".")
    owner: type = type(model.get_submodule(parent_name))
    return attr not in attributes_used_outside_forward(owner)
