"""Tests of the recall benchmark's own machinery: `python -m pytest benchmarks/recall`.

The samples are the project's own clean fixtures; no third-party code is involved. Each operator must plant its bug (the mutated file parses and differs) and point at
lines that carry the change.
"""

from __future__ import annotations

import ast
import difflib
import re
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent))

from corpus import RealFile  # noqa: E402
from mutants import harvest_file, parses  # noqa: E402
from operators import KINDS  # noqa: E402
from siblings import needed_files  # noqa: E402
from sourcetext import Edit, Mutation, Source, apply  # noqa: E402

# The project's own clean fixtures (written for reslint): between them they hold a site for every kind.
FIXTURES = Path(__file__).resolve().parents[2] / "fixtures" / "clean"
SAMPLES = ("resnet_v1_stride_first.py", "cifar_resnet_option_b.py")


def sample_files() -> list[RealFile]:
    return [
        RealFile("fixtures", name, (FIXTURES / name).read_text(encoding="utf-8"))
        for name in SAMPLES
    ]


@pytest.fixture(scope="module")
def harvested():
    return [
        mutant
        for real in sample_files()
        for mutant in harvest_file(real, list(KINDS), cap=0).mutants
    ]


def changed_lines(mutant) -> list[str]:
    original = set(mutant.original.text.splitlines())
    return [line for line in mutant.applied.text.splitlines() if line not in original]


@pytest.mark.parametrize("kind", [kind.name for kind in KINDS])
def test_every_kind_plants_a_parsing_bug_on_its_expected_lines(harvested, kind):
    mutants = [m for m in harvested if m.kind == kind]
    assert mutants, f"{kind} found no site in the samples"
    for mutant in mutants:
        text = mutant.applied.text
        assert text != mutant.original.text and parses(text)
        lines = text.splitlines()
        new = set(changed_lines(mutant))
        changed = {n for n, line in enumerate(lines, start=1) if line in new}
        expected = set(mutant.applied.expected_lines)
        assert expected and all(0 < n <= len(lines) for n in expected)
        # A changed line is among the expected ones, unless the kind reports elsewhere (a deleted call
        # shows at the submodule's construction, a reused module at the one left unused).
        if changed and kind not in {"uncalled-submodule", "module-called-twice"}:
            assert expected & changed


# What each kind's changed lines must look like, so an operator cannot drift into planting another bug.
SHAPES = {
    "super-wrong-class": r"super\(\w+, self\)",
    "bare-downsample": r"(?<![.\w])\w*(downsample|shortcut)\w*\(",
    "classifier-512": r"Linear\((?!.*expansion)",
    "invalid-literal": r"fan out|Relu|[\"']zero[\"']",
    "forward-without-input": r"def forward\(self\)",
    "num-classes-dropped": r"\b1000\b",
    "module-in-forward": r"nn\.\w+\(\w+\.shape\[1\]",
    "cuda-in-init": r"\.cuda\(\)",
    "relu-in-shortcut": r"relu|ReLU",
}


@pytest.mark.parametrize("kind", sorted(SHAPES))
def test_mutations_look_like_the_bug_they_name(harvested, kind):
    mutants = [m for m in harvested if m.kind == kind]
    for mutant in mutants:
        assert any(re.search(SHAPES[kind], line) for line in changed_lines(mutant)), (
            mutant.identifier
        )


def test_norm_after_addition_moves_the_norm_below_the_sum(harvested):
    for mutant in [m for m in harvested if m.kind == "norm-after-addition"]:
        lines = mutant.applied.text.splitlines()
        moved = [n for n in mutant.applied.expected_lines if re.search(r"bn|norm", lines[n - 1])]
        added = [n for n in mutant.applied.expected_lines if "+" in lines[n - 1]]
        assert moved and added and min(added) < max(moved)


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
    real = sample_files()[0]
    first = harvest_file(real, list(KINDS), cap=1).mutants
    second = harvest_file(real, list(KINDS), cap=1).mutants
    assert [m.applied.text for m in first] == [m.applied.text for m in second]
    assert len({m.kind for m in first}) == len(first)


def test_with_imports_copies_the_relative_imports_and_only_what_a_package_init_passes_on():
    package = {
        "pkg/backbones/res2net.py": "from .resnet import Bottleneck as _Bottleneck\nimport torch\n",
        "pkg/backbones/resnet.py": "from ..layers import ResLayer\nfrom .base import Base\n",
        "pkg/backbones/base.py": "class Base: pass\n",
        "pkg/backbones/other.py": "class Other: pass\n",
        "pkg/layers/__init__.py": "from .res_layer import ResLayer\nfrom .nms import nms\n",
        "pkg/layers/res_layer.py": "class ResLayer: pass\n",
        "pkg/layers/nms.py": "def nms(): pass\n",
    }
    needed = needed_files(
        "pkg/backbones/res2net.py",
        package["pkg/backbones/res2net.py"],
        set(package),
        lambda path: {path: package[path]},
    )
    assert sorted(needed) == [
        "pkg/backbones/base.py",
        "pkg/backbones/resnet.py",
        "pkg/layers/__init__.py",
        "pkg/layers/res_layer.py",
    ]


STEM = """import torch.nn as nn


class Stem(nn.Module):
    def __init__(self):
        super().__init__()
        self.conv = nn.Conv2d(3, 64, 7, 2, 3, bias=False)
        self.bn = nn.BatchNorm2d(64)
        self.activ = nn.ReLU(inplace=True)
        self.relu = nn.ReLU(inplace=True)
        self.pool = nn.MaxPool2d(3, 2, 1)

    def forward(self, x):
        x = self.activ(self.bn(self.conv(x)))
        x = self.bn(x)
        x = self.activ(x)
        x = self.bn(x)
        x = self.relu(x)
        return self.pool(x)
"""


def test_a_removed_activation_names_where_it_is_built_when_that_was_its_only_call():
    kinds = [kind for kind in KINDS if kind.name == "stem-activation-removed"]
    mutants = harvest_file(RealFile("inline", "stem.py", STEM), kinds, cap=0).mutants
    expected = {}
    for mutant in mutants:
        lines = mutant.applied.text.splitlines()
        removed = [d[2:].strip() for d in difflib.ndiff(STEM.splitlines(), lines) if d[0] == "-"]
        expected[removed[0]] = set(mutant.applied.expected_lines)
    assert 10 in expected["x = self.relu(x)"]  # `self.relu`, called once, is built on line 10
    assert 9 not in expected["x = self.activ(x)"]  # `self.activ` is still called on line 14


def test_folder_files_take_their_first_folder_as_package(tmp_path: Path) -> None:
    from corpus import load_folder

    (tmp_path / "owner+repo" / "models").mkdir(parents=True)
    (tmp_path / "owner+repo" / "models" / "resnet.py").write_text("x = 1\n", encoding="utf-8")
    (tmp_path / "loose.py").write_text("y = 2\n", encoding="utf-8")
    (tmp_path / "owner+repo" / "latin1.py").write_bytes(b"# caf\xe9\n")
    files, notes = load_folder(tmp_path)
    assert {(f.package, f.path) for f in files} == {
        ("owner+repo", "models/resnet.py"),
        (tmp_path.name, "loose.py"),
    }
    assert len(notes) == 1 and "latin1.py" in notes[0]


def planted(kind: str, text: str) -> list[str]:
    """The lines each mutant of `kind` adds to `text`, one list entry per mutant."""
    kinds = [k for k in KINDS if k.name == kind]
    mutants = harvest_file(RealFile("inline", "sample.py", text), kinds, cap=0).mutants
    return ["\n".join(changed_lines(m)) for m in mutants]


GATED_BLOCK = """import torch.nn as nn
import torch.nn.functional as F


class GatedBlock(nn.Module):
    def __init__(self, channels, stride=1):
        super().__init__()
        self.conv_a = nn.Conv2d(channels, channels, 3, stride=stride, padding=1)
        self.conv_b = nn.Conv2d(channels, channels, 3, padding=1)
        self.squeeze = nn.AdaptiveAvgPool2d(1)
        self.gate_down = nn.Conv2d(channels, channels // 4, 1)
        self.gate_up = nn.Conv2d(channels // 4, channels, 1)
        self.mix = nn.Conv2d(channels, channels, 1)

    def forward(self, x):
        y = self.conv_b(self.conv_a(x))
        w = self.squeeze(y)
        w = self.gate_down(w)
        w = self.gate_up(F.relu(w))
        g = F.adaptive_avg_pool2d(y, 1)
        g = self.mix(g)
        return y * w.sigmoid() + g
"""


def test_no_second_stride_on_a_conv_that_runs_on_a_pooled_map():
    # A 1x1 map stays 1x1 at any stride: only conv_b is a second conv that would downsample.
    lines = planted("stride-on-second-conv", GATED_BLOCK)
    assert lines and all("conv_b" in line for line in lines)


BLOCK_INPUT_SUM = """import torch.nn as nn


class Unit(nn.Module):
    def __init__(self, channels):
        super().__init__()
        self.body = nn.Conv2d(channels, channels, 3, padding=1)
        self.skip = nn.Conv2d(channels, channels, 1)
        self.relu = nn.ReLU()

    def forward(self, x):
        if self.skip is not None:
            x = self.skip(x) + self.body(x)
        else:
            identity = x
            out = self.body(x)
            out = out + identity
        return self.relu(x)
"""


def test_no_activation_planted_on_the_input_both_sides_of_the_sum_read():
    # `x = self.skip(x) + self.body(x)`: an activation on x runs before both branches.
    assert planted("relu-before-addition", BLOCK_INPUT_SUM) == ["            out = self.relu(out)"]


FEATURE_NET = """import torch.nn as nn


class Features(nn.Module):
    def __init__(self, block):
        super().__init__()
        self.body = nn.Conv2d(3, 512 * block.expansion, 3)
        self.fc = nn.Linear(512 * block.expansion, 10)
        self.head = nn.Linear(512 * block.expansion, 10)

    def forward(self, x):
        return self.head(self.body(x).mean((2, 3)))
"""


def test_no_classifier_bug_planted_in_a_layer_nothing_uses():
    assert planted("classifier-512", FEATURE_NET) == ["        self.head = nn.Linear(512, 10)"]


def test_the_corpus_and_the_held_out_sets_share_no_file():
    from corpus import HELDOUT, HELDOUT2, HELDOUT3, PACKAGES

    sets = [
        [(package.name, path) for package in s for path in package.files]
        for s in (PACKAGES, HELDOUT, HELDOUT2, HELDOUT3)
    ]
    for files in sets:
        assert files and len(files) == len(set(files))
    for index, files in enumerate(sets):
        for other in sets[index + 1 :]:
            assert not set(files) & set(other)


def test_the_second_held_out_set_shares_no_package_with_the_others():
    """HELDOUT2 measures code from sources reslint never saw, not other files of known packages."""
    from corpus import HELDOUT, HELDOUT2, PACKAGES

    seen = {package.name for package in (*PACKAGES, *HELDOUT)}
    assert not seen & {package.name for package in HELDOUT2}


def test_the_third_held_out_set_shares_no_package_with_the_others():
    """HELDOUT3, too, holds only packages that no other set (tuned on or not) holds."""
    from corpus import HELDOUT, HELDOUT2, HELDOUT3, PACKAGES

    seen = {package.name for package in (*PACKAGES, *HELDOUT, *HELDOUT2)}
    assert not seen & {package.name for package in HELDOUT3}
