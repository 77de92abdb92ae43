"""Stages from the alignment (reslint.dynamic.matching): every user call gets the reference stage it lines
up with, whatever the user's module names and nesting; blocks are counted per stage."""

from __future__ import annotations

import pytest
from conftest import NO_TORCH

pytest.importorskip("torch", reason=NO_TORCH)

from reslint.dynamic.align import align  # noqa: E402
from reslint.dynamic.calls import LayerCall  # noqa: E402
from reslint.dynamic.matching import (  # noqa: E402
    _unreached_stages,
    assign_stages,
    residual_blocks,
    stage_modules,
)
from reslint.dynamic.stages import ModuleInfo  # noqa: E402

REF_STAGE = {"conv1": "stem", "bn1": "stem", "fc": "head"}


def ref_stage(name: str) -> str:
    return REF_STAGE.get(name, name.split(".")[0])


def block(prefix: str, channels: int) -> list[LayerCall]:
    shape = (1, channels, 8, 8)
    return [
        LayerCall(f"{prefix}.conv1", "Conv2d", shape, 9 * channels * channels),
        LayerCall(f"{prefix}.bn1", "BatchNorm2d", shape, 2 * channels),
        LayerCall(f"{prefix}.conv2", "Conv2d", shape, 9 * channels * channels),
        LayerCall(f"{prefix}.bn2", "BatchNorm2d", shape, 2 * channels),
    ]


def model(stem: list[str], blocks: list[tuple[str, int]], head: str) -> list[LayerCall]:
    calls = [
        LayerCall(stem[0], "Conv2d", (1, 16, 8, 8), 432),
        LayerCall(stem[1], "BatchNorm2d", (1, 16, 8, 8), 32),
    ]
    for prefix, channels in blocks:
        calls += block(prefix, channels)
    return calls + [LayerCall(head, "Linear", (1, 10), 330)]


def table_of(calls: list[LayerCall], containers: set[str] = frozenset()) -> dict[str, ModuleInfo]:
    """Every module the calls name, with its children; `containers` are nn.Sequential."""
    children: dict[str, list[str]] = {"": []}
    for call in calls:
        parts = call.name.split(".")
        for depth in range(1, len(parts) + 1):
            name, parent = ".".join(parts[:depth]), ".".join(parts[: depth - 1])
            children.setdefault(name, [])
            if name not in children[parent]:
                children[parent].append(name)
    return {
        name: ModuleInfo(name, "Sequential" if name in containers else "Module", tuple(kids))
        for name, kids in children.items()
    }


REFERENCE = model(["conv1", "bn1"], [("layer1.0", 16), ("layer1.1", 16), ("layer2.0", 32)], "fc")


def stages_of(user: list[LayerCall], containers: set[str] = frozenset()) -> list[tuple[str, str]]:
    table = table_of(user, containers)
    return assign_stages(align(user, REFERENCE), user, REFERENCE, ref_stage, table)


def test_a_flat_sequential_gets_the_references_stages_and_no_stage_modules() -> None:
    user = model(["0", "1"], [("2", 16), ("3", 16), ("4", 32)], "5")
    staged = stages_of(user, {""})
    assert [label for _, label in staged] == ["stem"] * 2 + ["layer1"] * 8 + ["layer2"] * 4 + [
        "head"
    ]
    assert "layer1" not in stage_modules(staged, ["layer1", "layer2"])  # two blocks, no module


def test_stage_modules_are_the_outermost_modules_holding_one_stage() -> None:
    user = model(["stem.0", "stem.1"], [("body.a.0", 16), ("body.a.1", 16), ("body.b.0", 32)], "fc")
    staged = stages_of(user, {"stem", "body", "body.a", "body.b"})
    assert stage_modules(staged, ["layer1", "layer2"]) == {"layer1": "body.a", "layer2": "body.b"}


def test_an_extra_block_belongs_to_the_stage_it_follows() -> None:
    user = model(["0", "1"], [("2", 16), ("3", 16), ("extra", 16), ("4", 32)], "5")
    staged = stages_of(user, {""})
    assert {label for name, label in staged if name.startswith("extra.")} == {"layer1"}


def test_a_second_trunk_is_a_branch_of_its_own() -> None:
    trunk = [("a.0", 16), ("a.1", 16), ("b.0", 32)]
    user = model(["one.conv1", "one.bn1"], [(f"one.{p}", c) for p, c in trunk], "fc")
    second = model(["two.conv1", "two.bn1"], [(f"two.{p}", c) for p, c in trunk], "x")[:-1]
    user = user[:-1] + second + user[-1:]
    staged = stages_of(user)
    assert {label for name, label in staged if name.startswith("two.")} == {"two"}
    assert {label for name, label in staged if name.startswith("one.a.")} == {"layer1"}


def test_blocks_are_counted_inside_a_stage_class_but_not_split_into_their_parts() -> None:
    calls = block("stage.blocks.0", 16) + block("stage.blocks.1", 16) + block("stage.blocks.2", 16)
    table = table_of(calls, {"stage.blocks"})
    selected = {call.name for call in calls}
    assert residual_blocks(selected, calls, table) == [f"stage.blocks.{i}" for i in range(3)]
    single = block("layer.0", 16)
    assert residual_blocks({c.name for c in single}, single, table_of(single, {"layer"})) == [
        "layer.0"
    ]


def test_stages_forward_never_reached_are_the_later_siblings_of_the_same_type() -> None:
    table = {
        "": ModuleInfo("", "Net", ("stem", "stage1", "stage2", "stage3", "head")),
        "stem": ModuleInfo("stem", "Conv2d", ()),
        "stage1": ModuleInfo("stage1", "Sequential", ()),
        "stage2": ModuleInfo("stage2", "Sequential", ()),
        "stage3": ModuleInfo("stage3", "Sequential", ()),
        "head": ModuleInfo("head", "Linear", ()),
    }
    found = _unreached_stages({"layer1": "stage1"}, ["layer1", "layer2", "layer3"], table)
    assert found == {"layer1": "stage1", "layer2": "stage2", "layer3": "stage3"}
