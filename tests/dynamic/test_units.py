"""Pure-Python parts of the dynamic pass: alignment, stages, state_dict layouts, the input search."""

from __future__ import annotations

import os

import pytest

from reslint.dynamic.align import Pair, align
from reslint.dynamic.calls import LayerCall, Trace
from reslint.dynamic.diagnose import StageParams, build_rows, parameter_findings
from reslint.dynamic.search import Domain, boundary_search, find_minimal_difference
from reslint.dynamic.stages import stage_of
from reslint.dynamic.statedict import compare_layouts, format_layout, parse_layout

pytestmark = pytest.mark.torch_free  # no torch needed: runs in the static suite too


def call(
    name: str, type_: str, shape: tuple[int, ...], params: int = 0, bias: int = 0
) -> LayerCall:
    return LayerCall(name, type_, shape, params, bias_params=bias)


def block(prefix: str, channels: int, size: int, downsample_first: bool = False) -> list[LayerCall]:
    main = [
        call(f"{prefix}.conv1", "Conv2d", (1, channels, size, size), 9 * channels * channels),
        call(f"{prefix}.bn1", "BatchNorm2d", (1, channels, size, size), 2 * channels),
        call(f"{prefix}.relu", "ReLU", (1, channels, size, size)),
    ]
    shortcut = [
        call(f"{prefix}.downsample.0", "Conv2d", (1, channels, size, size), channels * channels)
    ]
    return shortcut + main if downsample_first else main + shortcut


def pairs_as_names(pairs: list[Pair], user: list[LayerCall], ref: list[LayerCall]) -> list[tuple]:
    return [
        (
            user[p.user].name if p.user is not None else None,
            ref[p.ref].name if p.ref is not None else None,
        )
        for p in pairs
    ]


# --- alignment -----------------------------------------------------------------------------------
def test_identical_sequences_align_one_to_one() -> None:
    calls = block("layer1.0", 64, 56) + block("layer1.1", 64, 56)
    assert align(calls, calls) == [Pair(i, i) for i in range(len(calls))]


def test_a_missing_layer_leaves_a_gap_on_the_model_side() -> None:
    ref = [
        call("conv1", "Conv2d", (1, 64, 112, 112), 9408),
        call("maxpool", "MaxPool2d", (1, 64, 56, 56)),
        call("layer1.conv", "Conv2d", (1, 64, 56, 56), 36864),
    ]
    user = [ref[0], call("layer1.conv", "Conv2d", (1, 64, 112, 112), 36864)]
    assert pairs_as_names(align(user, ref), user, ref) == [
        ("conv1", "conv1"),
        (None, "maxpool"),
        ("layer1.conv", "layer1.conv"),
    ]


def test_a_shortcut_called_first_is_a_move_not_a_difference() -> None:
    user, ref = block("b", 64, 8, downsample_first=True), block("b", 64, 8)
    trace_u, trace_r = Trace((1, 64, 8, 8), user), Trace((1, 64, 8, 8), ref)
    rows = build_rows(align(user, ref), trace_u, trace_r, lambda n: "layer1", lambda n: "layer1")
    assert not [row for row in rows if row.differs]
    assert [row.differences for row in rows if row.user is None or row.reference is None] == [
        ["moved"],
        ["moved"],
    ]


def test_equal_names_break_ties() -> None:
    """conv3 that does not expand sits beside the reference's conv3, not beside its downsample conv."""
    ref = [
        call("b.conv3", "Conv2d", (1, 256, 8, 8), 16384),
        call("b.downsample.0", "Conv2d", (1, 256, 8, 8), 16384),
    ]
    user = [call("b.conv3", "Conv2d", (1, 64, 8, 8), 4096)]
    assert pairs_as_names(align(user, ref), user, ref) == [
        ("b.conv3", "b.conv3"),
        (None, "b.downsample.0"),
    ]


def test_functional_relu_is_not_a_difference_but_a_missing_pool_is() -> None:
    ref = [
        call("conv", "Conv2d", (1, 8, 4, 4), 72),
        call("relu", "ReLU", (1, 8, 4, 4)),
        call("pool", "MaxPool2d", (1, 8, 2, 2)),
        call("fc", "Linear", (1, 10), 330),
    ]
    user = [call("conv", "Conv2d", (1, 8, 4, 4), 72), call("fc", "Linear", (1, 10), 330)]
    rows = build_rows(
        align(user, ref),
        Trace((1, 3, 4, 4), user),
        Trace((1, 3, 4, 4), ref),
        lambda n: "stem",
        lambda n: "stem",
    )
    by_ref = {row.reference.name: row for row in rows if row.reference}
    assert not by_ref["relu"].differs
    # the pool changes the shape, but the next shared row (fc) agrees again: done functionally
    assert not by_ref["pool"].differs and by_ref["pool"].differences == ["functional"]
    user_without_pool = [user[0], call("fc", "Linear", (1, 10), 1290)]
    rows = build_rows(
        align(user_without_pool, ref),
        Trace((1, 3, 4, 4), user_without_pool),
        Trace((1, 3, 4, 4), ref),
        lambda n: "stem",
        lambda n: "stem",
    )
    assert any(row.differs for row in rows)


# --- stages --------------------------------------------------------------------------------------
def test_modules_outside_the_stages_go_by_their_first_call() -> None:
    first = {"conv1": 0, "layer1": 1, "layer1.0": 1, "fc": 2}
    assert [stage_of(name, ["layer1"], first) for name in ("conv1", "layer1.0", "fc")] == [
        "stem",
        "layer1",
        "head",
    ]
    assert stage_of("fc", ["layer1"], {}) == "not called"


def test_bias_only_differences_make_one_finding_over_the_stage_span() -> None:
    stages = [
        StageParams("stem", None, 9536, 9536),
        *[
            StageParams(f"layer{i}", f"layer{i}", 100 + 10 * i, 100, 10 * i, 0, 2, 2)
            for i in (1, 2, 3)
        ],
    ]
    found = parameter_findings(stages, [], lambda name: ("m.py", 3), lambda stage: stage)
    assert [(f.code, f.message) for f in found] == [
        ("RD102", "param count differs by +60 in layer1–layer3: every block conv has bias=True")
    ]


# --- state_dict ----------------------------------------------------------------------------------
def test_layout_comparison_names_missing_unexpected_and_mis_shaped_keys() -> None:
    model = {"conv1.weight": [64, 3, 7, 7], "conv1.bias": [64], "fc.weight": [10, 512]}
    checkpoint = {"conv1.weight": [64, 3, 7, 7], "bn1.weight": [64], "fc.weight": [1000, 512]}
    report = compare_layouts(model, checkpoint)
    assert not report.loads
    assert report.missing == ["conv1.bias"] and report.unexpected == ["bn1.weight"]
    assert report.mismatched == [{"key": "fc.weight", "model": [10, 512], "reference": [1000, 512]}]
    assert compare_layouts(checkpoint, checkpoint).loads


def test_layout_text_round_trips() -> None:
    layout = {"a.weight": [3, 4], "a.num_batches_tracked": []}
    assert parse_layout(format_layout(layout)) == layout


# --- the input search ----------------------------------------------------------------------------
def test_search_shrinks_to_the_minimal_failing_input() -> None:
    seen: list[tuple[int, ...]] = []

    def differs(shape: tuple[int, int, int, int]) -> bool:
        seen.append(shape)
        _, _, h, w = shape
        return h >= 37 and w >= 50

    result = find_minimal_difference(
        Domain(3, (1, 2), (1, 256), (1, 256)), differs, max_examples=30
    )
    assert result.failing == (1, 3, 37, 50)
    assert result.tried == len(set(seen))


def test_search_is_deterministic_and_reports_none_without_a_difference() -> None:
    runs = []
    for _ in range(2):
        tried: list[tuple[int, ...]] = []

        def never(shape: tuple[int, int, int, int], seen: list = tried) -> bool:
            seen.append(shape)
            return False

        result = find_minimal_difference(Domain(3), never, max_examples=10)
        assert result.failing is None
        runs.append(tried)
    assert runs[0] == runs[1] and len(set(runs[0])) == 10


def test_search_writes_no_example_database(tmp_path, monkeypatch) -> None:
    monkeypatch.chdir(tmp_path)
    find_minimal_difference(
        Domain(3, height=(1, 64), width=(1, 64)), lambda s: s[2] % 7 == 3, max_examples=10
    )
    assert not os.path.exists(tmp_path / ".hypothesis")


@pytest.mark.parametrize("boundary", [1, 2, 57, 223])
def test_boundary_search_finds_the_last_working_size(boundary: int) -> None:
    assert boundary_search(lambda s: s >= boundary, 224, 0) == boundary
    assert (
        boundary_search(lambda s: s <= boundary + 5, 1 if boundary > 1 else 1, 400) == boundary + 5
    )
