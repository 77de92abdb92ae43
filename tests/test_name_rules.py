"""The name rules' shared helpers and their relations to the rules that explain the same fault better."""

from __future__ import annotations

from pathlib import Path

import libcst as cst

from reslint import check_paths
from reslint.model import build_module_model
from reslint.rules_support import closest, reachable_methods, unread_assignments

REPO = Path(__file__).resolve().parents[1]


def test_closest_name() -> None:
    assert closest("ResNet", ["Resnet", "ResNeXt", "resnet18"]) == "Resnet"
    assert closest("in_channel", ["in_channels", "out_channels"]) == "in_channels"
    assert closest("BasicBlok", ["BasicBlock", "Bottleneck"]) == "BasicBlock"
    assert closest("conv3x3", ["conv1x1", "conv"]) is None  # other numbers: another thing
    assert closest("resnet18", ["resnet34", "resnet"]) is None
    assert closest("fc", ["fc1"]) is None  # too short to tell
    assert closest("x", []) is None


def model(source: str):
    return build_module_model(cst.parse_module(source), source, "m.py")


def test_reachable_methods_follow_self_calls_but_not_static_ones() -> None:
    module = model(
        "import torch.nn as nn\n"
        "class Net(nn.Module):\n"
        "    def __init__(self):\n"
        "        super().__init__()\n"
        "        self.layer = self._make()\n"
        "    def _make(self):\n"
        "        return self._block()\n"
        "    def _block(self):\n"
        "        return nn.Identity()\n"
        "    def unused(self):\n"
        "        pass\n"
    )
    (cls,) = module.class_defs
    assert [m.name.value for m in reachable_methods(cls, ("__init__",), module)] == [
        "__init__",
        "_make",
        "_block",
    ]


def test_unread_assignments_are_typo_candidates() -> None:
    module = model(
        "def f(x, down):\n"
        "    indentity = x\n"
        "    if down:\n"
        "        identity = down(x)\n"
        "    for item in x:\n"
        "        pass\n"
        "    out = 1\n"
        "    return identity\n"
    )
    (names,) = module.names.functions.values()
    # `item` is a loop variable and `out` too short to tell: only the plain assignment remains.
    assert list(unread_assignments(names, module)) == ["indentity"]


def codes(path: str, **options) -> list[tuple[int, str]]:
    return sorted((f.line, f.code) for f in check_paths([REPO / path], **options))


def test_undefined_name_gives_way_to_the_better_explanation_only_when_it_is_reported() -> None:
    fixture = "fixtures/bugs/RN106_misspelt_builtin.py"
    assert all(code != "RN117" for _, code in codes(fixture))
    ignored = codes(fixture, ignore=["RN106"])
    assert [line for line, code in ignored if code == "RN117"] == [
        line for line, code in codes(fixture) if code == "RN106"
    ]
    forward = "fixtures/bugs/RN118_forward_without_input.py"
    assert codes(forward, select=["RN117"]) == [
        (30, "RN117")
    ]  # `input` is a builtin: not undefined
    assert all(code != "RN117" for _, code in codes(forward))


def test_super_naming_an_undefined_class_is_one_name_error() -> None:
    found = check_paths([REPO / "fixtures/bugs/RN101_super_wrong_class.py"])
    undefined = [f for f in found if "DenseStem3" in f.message]
    assert [(f.code, "NameError" in f.message) for f in undefined] == [("RN101", True)]
    ignored = check_paths([REPO / "fixtures/bugs/RN101_super_wrong_class.py"], ignore=["RN101"])
    assert any(f.code == "RN117" and "DenseStem3" in f.message for f in ignored)


def test_unused_layer_is_reported_once_for_the_class_that_builds_it() -> None:
    found = check_paths([REPO / "fixtures/bugs/RN107_unused_submodule.py"], select=["RN107"])
    messages = {f.line: f.message for f in found if "PooledEncoder" in f.message}
    assert len(messages) == 2 and all("SmallPooledEncoder" not in m for m in messages.values())
    assert sum("adds parameters" in m for m in messages.values()) == 1
    assert sum("it is empty" in m for m in messages.values()) == 1
