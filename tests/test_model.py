"""The module model: what rules may rely on."""

from __future__ import annotations

import textwrap
from pathlib import Path

import libcst as cst
import pytest
from libcst.metadata import MetadataWrapper, PositionProvider

from reslint.model import build_module_model
from reslint.model.queries import residuals
from reslint.model.symbolic import Relation, combine, const, relation, var
from reslint.model.walk import descendants

REPO = Path(__file__).resolve().parents[1]


def model_of(source: str):
    source = textwrap.dedent(source)
    return build_module_model(cst.parse_module(source), source, "m.py")


@pytest.mark.parametrize(
    "path", sorted((REPO / "fixtures" / "clean").glob("*.py"))[:6], ids=lambda p: p.name
)
def test_positions_placed_one_statement_at_a_time_equal_libcsts(path: Path) -> None:
    source = path.read_text(encoding="utf-8")
    tree = cst.parse_module(source)
    model = build_module_model(tree, source, str(path))
    reference = MetadataWrapper(tree, unsafe_skip_copy=True).resolve(PositionProvider)
    checked = 0
    for node in descendants(tree):
        if node is tree or id(node) not in model.names.parents:
            continue
        where = reference[node]
        assert model.position(node) == (
            where.start.line,
            where.start.column + 1,
            where.end.line,
            where.end.column + 1,
        ), type(node).__name__
        checked += 1
    assert checked > 500


def test_relation_is_a_numeric_identity_test() -> None:
    planes = var("planes")
    assert relation(combine("*", [planes, const(1)]), planes) is Relation.EQUAL
    assert relation(combine("*", [planes, const(4)], "planes * 4"), planes) is Relation.DIFFERENT
    # Two differently named sizes are not "different" by their names alone.
    assert relation(var("in_chs"), var("out_chs")) is Relation.UNKNOWN


def test_channels_are_followed_through_helpers_in_the_users_words() -> None:
    model = model_of("""
        import torch.nn as nn
        def conv1x1(in_planes, out_planes, stride=1):
            return nn.Conv2d(in_planes, out_planes, kernel_size=1, stride=stride, bias=False)
        class Bottleneck(nn.Module):
            expansion = 4
            def __init__(self, inplanes, planes, groups=1, base_width=64):
                super().__init__()
                width = int(planes * (base_width / 64.0)) * groups
                self.conv3 = conv1x1(width, planes * self.expansion)
                self.bn3 = nn.BatchNorm2d(planes * self.expansion)
            def forward(self, x):
                return self.bn3(self.conv3(x))
    """)
    layers = model.classes["Bottleneck"].generic.layers()
    assert str(layers["conv3"].channels_in) == "width"
    assert str(layers["conv3"].channels_out) == "planes * self.expansion"
    assert layers["conv3"].channels_out.evaluate(lambda name, domain: 16) == 64
    assert relation(layers["conv3"].channels_out, layers["bn3"].channels_in) is Relation.EQUAL


def test_forward_data_flow_separates_branch_shortcut_and_what_follows() -> None:
    model = model_of("""
        import torch.nn as nn
        import torch.nn.functional as F
        class Block(nn.Module):
            def __init__(self, cin, cout, stride=1):
                super().__init__()
                self.conv1 = nn.Conv2d(cin, cout, 3, stride, 1, bias=False)
                self.bn1 = nn.BatchNorm2d(cout)
                self.shortcut = nn.Sequential()
                if stride != 1 or cin != cout:
                    self.shortcut = nn.Sequential(nn.Conv2d(cin, cout, 1, stride, bias=False), nn.BatchNorm2d(cout))
            def forward(self, x):
                return F.relu(self.bn1(self.conv1(x)) + self.shortcut(x))
    """)
    (residual,) = residuals(model.classes["Block"].generic)
    assert [step.text for step in residual.main] == ["conv1", "bn1"]
    assert sorted(len(shortcut) for shortcut in residual.shortcuts) == [
        0,
        2,
    ]  # identity or conv + BN
    assert [step.text for step in residual.site.after] == ["F.relu"]


def test_layers_of_exclusive_branches_are_never_paired() -> None:
    model = model_of("""
        import torch.nn as nn
        class Block(nn.Module):
            def __init__(self, kind, c, stride):
                super().__init__()
                if kind == "bottleneck":
                    self.conv1 = nn.Conv2d(c, c, 1, bias=False)
                    self.conv2 = nn.Conv2d(c, c, 3, stride, 1, bias=False)
                else:
                    self.conv1 = nn.Conv2d(c, c, 3, stride, 1, bias=False)
                    self.conv2 = nn.Conv2d(c, c, 3, 1, 1, bias=False)
            def forward(self, x):
                return self.conv2(self.conv1(x)) + x
    """)
    from reslint.model.values import compatible

    (residual,) = residuals(model.classes["Block"].generic)
    # conv1 and conv2 are each one of two layers: four combinations flow through forward...
    assert len(residual.mains) == 4
    # ...but only the two that one `if` can build together may be paired.
    pairs = {
        (a.layer.node, b.layer.node)
        for main in residual.mains
        for a, b in zip(main, main[1:])
        if compatible(a.layer.guards, b.layer.guards)
    }
    assert len(pairs) == 2
