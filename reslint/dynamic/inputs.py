"""The input phases: search for the smallest input on which the two models disagree, then the range of
sizes on which the user's model is valid (proven with symbolic sizes when it can be, else sampled)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from reslint.dynamic import symbolic
from reslint.dynamic.calls import Shape
from reslint.dynamic.catalogue import Reference
from reslint.dynamic.diagnose import show_input
from reslint.dynamic.running import Traced
from reslint.dynamic.search import Domain, boundary_search, find_minimal_difference
from reslint.dynamic.subject import Subject, differs

DEFAULT_EXAMPLES = 12


@dataclass
class InputSearch:
    domain: Domain
    failing: Shape | None  # the smallest input on which the models disagree
    tried: int


@dataclass
class InputRange:
    analysis: str  # "symbolic" (proven) or "sampled"
    valid: dict[str, Any]  # height/width intervals, exact, method, output_agrees
    unavailable: str | None = None  # why the symbolic range was not computed, when it was wanted
    disagrees_at: list[int] | None = field(default=None)  # [H, W] where the output shape differs


@dataclass
class Inputs:
    """What the input phases found."""

    search: InputSearch
    range: InputRange
    failing: Shape | None  # the smallest input on which the models disagree (search or symbolic)
    squares: (
        list[int] | None
    )  # when only non-square inputs fail: the square sizes tried, all working


def explore_inputs(
    traced: Traced,
    ref_info: Reference,
    examples: int | None,
    analysis: str,
    progress: Callable[..., None],
) -> Inputs:
    search = search_inputs(traced, ref_info, examples, progress)
    valid = input_range(traced, ref_info, search, analysis, progress)
    failing = search.failing
    if failing is None and valid.disagrees_at:
        failing = (1, traced.design[1], *valid.disagrees_at)
    return Inputs(search, valid, failing, square_sizes(traced, ref_info, failing))


def search_inputs(
    traced: Traced, ref_info: Reference, examples: int | None, progress: Callable[..., None]
) -> InputSearch:
    """The smallest input on which the models disagree. A disagreement seen in a cheap mode (meta, lite)
    is confirmed in the faithful one; if it is an artefact, the user's model is re-traced and searched in
    the faithful mode."""
    user, reference = traced.user, traced.reference
    domain = Domain(traced.design[1], (1, 2), (1, ref_info.sample_max), (1, ref_info.sample_max))
    budget = examples or DEFAULT_EXAMPLES

    def disagree(shape: Shape) -> bool:
        progress(f"running forward on input {show_input(shape)}")
        return differs(user.outcome(shape), reference.outcome(shape))

    progress("searching inputs")
    search = find_minimal_difference(domain, disagree, budget)
    if search.failing is not None and user.faithful_mode != user.mode:
        if not differs(user.faithful_outcome(search.failing), reference.outcome(search.failing)):
            user.switch(user.faithful_mode)
            traced.user_trace = user.trace(traced.design)
            search = find_minimal_difference(domain, disagree, budget)
    return InputSearch(domain, search.failing, search.tried)


def square_sizes(traced: Traced, ref_info: Reference, failing: Shape | None) -> list[int] | None:
    """When the smallest failing input is not square and the model works on the design input: the square
    sizes tried (every size up to 16, then a spread up to the sampled maximum), if every one works."""
    if failing is None or failing[2] == failing[3] or not traced.user_trace.ok:
        return None
    top = ref_info.sample_max
    sizes = sorted(
        {*range(1, 17), *range(17, top + 1, max(1, top // 32)), top, ref_info.input_size}
    )
    channels = traced.design[1]
    for size in sizes:
        if not _works(traced.user, traced.reference, (1, channels, size, size)):
            return None
    return sizes


def input_range(
    traced: Traced,
    ref_info: Reference,
    search: InputSearch,
    analysis: str,
    progress: Callable[..., None],
) -> InputRange:
    """Valid sizes along each axis (the other at the design size): proven from one symbolic trace when
    asked, or when an input failed (auto); sampled otherwise or when symbolic sizes are unavailable."""
    user, reference, design = traced.user, traced.reference, traced.design
    failed = search.failing is not None
    note = None
    if analysis == "symbolic" or (analysis == "auto" and failed):
        if not traced.user_trace.ok:
            note = f"the model fails on the reference's input {show_input(design)}"
        else:
            progress("running forward with symbolic sizes")
            try:
                valid = _symbolic_range(user, reference, design, ref_info)
                return InputRange("symbolic", valid, None, valid.pop("disagrees_at"))
            except symbolic.SymbolicUnavailable as error:
                note = f"torch could not trace the model with symbolic sizes ({error})"
    valid = _sampled_range(user, reference, design, search.domain, failed)
    return InputRange("sampled", valid, note)


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


def _axis_probe(
    user: Subject, reference: Subject, design: Shape, axis: int
) -> Callable[[int], bool]:
    """Does the model work with size `s` along `axis` (2: height, 3: width), the other at the design size?"""
    size = design[2]

    def works(s: int) -> bool:
        shape = (1, design[1], s, size) if axis == 2 else (1, design[1], size, s)
        return _works(user, reference, shape)

    return works


def _symbolic_range(
    user: Subject, reference: Subject, design: Shape, ref_info: Reference
) -> dict[str, Any]:
    """Proven valid sizes per axis (the other at the design size), from the guards of one symbolic trace;
    where a guard only pinned the trace (the model still works just outside), the interval is extended by
    concrete forwards to the real boundary, so the reported ends are exact unless marked otherwise."""
    size = design[2]
    horizon = 16 * ref_info.input_size
    trace = symbolic.trace_symbolic(user.model, design, user.mode, user.output)
    result: dict[str, Any] = {"method": "symbolic", "horizon": horizon, "other_side": size}
    exact: dict[str, list[bool]] = {}
    expected = reference.outcome(design).shape
    disagree = None
    for axis, label in ((2, "height"), (3, "width")):
        proven = symbolic.proven_interval(trace, size, size, axis, horizon)
        works = _axis_probe(user, reference, design, axis)
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
    result: dict[str, Any] = {"method": "sampled", "output_agrees": None, "other_side": size}
    exact: dict[str, list[bool]] = {}
    for axis, label in ((2, "height"), (3, "width")):
        works = _axis_probe(user, reference, design, axis)
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
