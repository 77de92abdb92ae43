"""Tests of the recall benchmark's own machinery: `python -m pytest benchmarks/recall`.

The sample below is written for these tests in the style of torchvision's resnet.py; no third-party
code is involved. Each operator must plant its bug (the mutated file parses and differs) and point at
lines that carry the change.
"""

from __future__ import annotations

import ast
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent))

from corpus import RealFile  # noqa: E402
from mutants import harvest_file, parses  # noqa: E402
from operators import KINDS  # noqa: E402
from sourcetext import Edit, Mutation, Source, apply  # noqa: E402

SAMPLE = """\
import torch
import torch.nn as nn
import torch.nn.functional as F


def conv3x3(in_planes, out_planes, stride=1):
    return nn.Conv2d(in_planes, out_planes, kernel_size=3, stride=stride, padding=1, bias=False)


class Bottleneck(nn.Module):
    expansion = 4

    def __init__(self, inplanes, planes, stride=1, downsample=None):
        super(Bottleneck, self).__init__()
        self.conv1 = nn.Conv2d(inplanes, planes, kernel_size=1, bias=False)
        self.bn1 = nn.BatchNorm2d(planes)
        self.conv2 = conv3x3(planes, planes, stride)
        self.bn2 = nn.BatchNorm2d(planes)
        self.conv3 = nn.Conv2d(planes, planes * self.expansion, kernel_size=1, bias=False)
        self.bn3 = nn.BatchNorm2d(planes * self.expansion)
        self.relu = nn.ReLU(inplace=True)
        self.downsample = downsample

    def forward(self, x):
        identity = x
        out = self.conv1(x)
        out = self.bn1(out)
        out = self.relu(out)
        out = self.conv2(out)
        out = self.bn2(out)
        out = self.relu(out)
        out = self.conv3(out)
        out = self.bn3(out)
        if self.downsample is not None:
            identity = self.downsample(x)
        out += identity
        out = self.relu(out)
        return out


class ResNet(nn.Module):
    def __init__(self, block, layers, num_classes=1000):
        super().__init__()
        self.inplanes = 64
        self.conv1 = nn.Conv2d(3, 64, kernel_size=7, stride=2, padding=3, bias=False)
        self.bn1 = nn.BatchNorm2d(64)
        self.relu = nn.ReLU(inplace=True)
        self.layer1 = self._make_layer(block, 64, layers[0])
        self.layer2 = self._make_layer(block, 128, layers[1], stride=2)
        self.avgpool = nn.AdaptiveAvgPool2d((1, 1))
        self.fc = nn.Linear(128 * block.expansion, num_classes)
        for m in self.modules():
            if isinstance(m, nn.Conv2d):
                nn.init.kaiming_normal_(m.weight, mode="fan_out", nonlinearity="relu")

    def _make_layer(self, block, planes, blocks, stride=1):
        downsample = None
        if stride != 1 or self.inplanes != planes * block.expansion:
            downsample = nn.Sequential(
                nn.Conv2d(self.inplanes, planes * block.expansion, 1, stride=stride, bias=False),
                nn.BatchNorm2d(planes * block.expansion),
            )
        layers = [block(self.inplanes, planes, stride, downsample)]
        self.inplanes = planes * block.expansion
        for _ in range(1, blocks):
            layers.append(block(self.inplanes, planes))
        return nn.Sequential(*layers)

    def forward(self, x):
        x = self.conv1(x)
        x = self.bn1(x)
        x = self.relu(x)
        x = self.layer1(x)
        x = self.layer2(x)
        x = self.avgpool(x)
        x = torch.flatten(x, 1)
        return self.fc(x)


class Stem(nn.Module):
    def __init__(self, wide):
        super().__init__()
        if wide:
            self.conv = nn.Conv2d(3, 128, 3)
        else:
            self.conv = nn.Conv2d(3, 64, 3)

    def forward(self, x):
        return self.conv(x)
"""


@pytest.fixture(scope="module")
def harvested():
    return harvest_file(RealFile("sample", "sample/resnet.py", SAMPLE), list(KINDS), cap=0)


@pytest.mark.parametrize("kind", [kind.name for kind in KINDS])
def test_every_kind_plants_a_parsing_bug_on_its_expected_lines(harvested, kind):
    mutants = [m for m in harvested.mutants if m.kind == kind]
    assert mutants, f"{kind} found no site in the sample"
    original = SAMPLE.splitlines()
    for mutant in mutants:
        text = mutant.applied.text
        assert text != SAMPLE and parses(text)
        changed = [n for n, line in enumerate(text.splitlines(), start=1) if line not in original]
        expected = set(mutant.applied.expected_lines)
        assert expected and all(0 < n <= len(text.splitlines()) for n in expected)
        # A changed line is among the expected ones, unless the bug is a deletion (then only its
        # neighbours or the builder it breaks can show it).
        if changed:
            assert expected & set(changed) or kind in {"uncalled-submodule", "module-called-twice"}


def test_module_in_forward_keeps_the_layer_arguments_forward_can_see():
    sample = SAMPLE.replace(
        "self.bn1 = nn.BatchNorm2d(planes)", "self.bn1 = nn.BatchNorm2d(planes, eps=1e-5)"
    )
    found = harvest_file(
        RealFile("sample", "s.py", sample), [k for k in KINDS if k.name == "module-in-forward"], 0
    )
    texts = [m.applied.text for m in found.mutants]
    assert any("nn.BatchNorm2d(out.shape[1], eps=1e-5)(out)" in text for text in texts)


def test_specific_mutations_look_like_the_bug_they_name(harvested):
    by_kind = {}
    for mutant in harvested.mutants:
        by_kind.setdefault(mutant.kind, []).append(mutant.applied.text)
    assert any("super(ResNet, self).__init__()" in t for t in by_kind["super-wrong-class"])
    assert any("identity = downsample(x)" in t for t in by_kind["bare-downsample"])
    assert any("nn.Linear(128, num_classes)" in t for t in by_kind["classifier-512"])
    assert any("if stride != 1:" in t for t in by_kind["projection-no-channels"])
    assert any('mode="fan out"' in t for t in by_kind["invalid-literal"])
    assert any("nn.AdaptiveAvgPool2d()" in t for t in by_kind["layer-arity"])
    assert any("def forward(self)" in t for t in by_kind["forward-without-input"])
    assert any(
        "nn.Linear(128 * block.expansion, 1000)" in t for t in by_kind["num-classes-dropped"]
    )
    moved = [t for t in by_kind["norm-after-addition"]]
    assert any(t.index("out += identity") < t.index("out = self.bn3(out)") for t in moved)


def test_apply_maps_lines_across_insertions_and_deletions():
    source = Source("a = 1\nb = 2\nc = 3\nd = 4\n")
    second = source.line_starts[1]
    fourth = source.line_starts[3]
    mutation = Mutation(
        (
            Edit(second, source.line_starts[2], ""),
            Edit(fourth, fourth, "x = 0\ny = 0\n", marked=True),
        ),
        expected_lines=(1, 3),
    )
    applied = apply(source, mutation)
    assert applied.text == "a = 1\nc = 3\nx = 0\ny = 0\nd = 4\n"
    assert applied.old_to_new[1] == 1 and applied.old_to_new[3] == 2 and applied.old_to_new[4] == 5
    assert applied.expected_lines == (1, 2, 3, 4)
    ast.parse(applied.text)


def test_mutants_are_sampled_the_same_way_on_every_run():
    first = harvest_file(RealFile("sample", "a.py", SAMPLE), list(KINDS), cap=1)
    second = harvest_file(RealFile("sample", "a.py", SAMPLE), list(KINDS), cap=1)
    assert [m.applied.text for m in first.mutants] == [m.applied.text for m in second.mutants]
    assert all(n <= 1 for n in _counts(first).values())


def _counts(harvested):
    counts = {}
    for mutant in harvested.mutants:
        counts[mutant.kind] = counts.get(mutant.kind, 0) + 1
    return counts
