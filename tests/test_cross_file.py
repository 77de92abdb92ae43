"""Files of one run that import each other are linted together: a stage built from an imported block
knows its channels, findings stay in the file they are about, and the cache follows the group."""

from __future__ import annotations

import gc
import textwrap
import weakref
from pathlib import Path

import pytest

from reslint import check_paths
from reslint.engine import FileGroup, check_file
from reslint.project_files import ProjectFiles, connected_groups, scan_imports
from reslint.settings import Settings

BLOCKS = """
    import torch.nn as nn


    class Bottleneck(nn.Module):
        expansion = 4

        def __init__(self, inplanes, planes, stride=1, downsample=None):
            super().__init__()
            self.conv1 = nn.Conv2d(inplanes, planes, 1, bias=False)
            self.bn1 = nn.BatchNorm2d(planes)
            self.conv2 = nn.Conv2d(planes, planes, 3, stride, 1, bias=False)
            self.bn2 = nn.BatchNorm2d(planes)
            self.conv3 = nn.Conv2d(planes, planes * self.expansion, 1, bias=False)
            self.bn3 = nn.BatchNorm2d(planes * self.expansion)
            self.relu = nn.ReLU(inplace=True)
            self.downsample = downsample

        def forward(self, x):
            identity = x
            out = self.relu(self.bn1(self.conv1(x)))
            out = self.relu(self.bn2(self.conv2(out)))
            out = self.bn3(self.conv3(out))
            if self.downsample is not None:
                identity = self.downsample(x)
            return self.relu(out + identity)
"""

NET = """
    import torch.nn as nn

    {import_line}


    class ResNet(nn.Module):
        def __init__(self, layers, num_classes=1000):
            super().__init__()
            self.inplanes = 64
            self.conv1 = nn.Conv2d(3, 64, 7, 2, 3, bias=False)
            self.bn1 = nn.BatchNorm2d(64)
            self.relu = nn.ReLU(inplace=True)
            self.layer1 = self._make_layer(64, layers[0])
            self.layer2 = self._make_layer(128, layers[1], stride=2)
            self.avgpool = nn.AdaptiveAvgPool2d((1, 1))
            self.fc = nn.Linear(128, num_classes)

        def _make_layer(self, planes, blocks, stride=1):
            downsample = nn.Sequential(
                nn.Conv2d(self.inplanes, planes * {block}.expansion, 1, stride, bias=False),
                nn.BatchNorm2d(planes * {block}.expansion),
            )
            layers = [{block}(self.inplanes, planes, stride, downsample)]
            self.inplanes = planes * {block}.expansion
            for _ in range(1, blocks):
                layers.append({block}(self.inplanes, planes))
            return nn.Sequential(*layers)

        def forward(self, x):
            x = self.relu(self.bn1(self.conv1(x)))
            x = self.layer2(self.layer1(x))
            return self.fc(self.avgpool(x).flatten(1))
"""

IMPORTS = {
    "relative": ("from .blocks import Bottleneck", "Bottleneck"),
    "absolute": ("from models.blocks import Bottleneck", "Bottleneck"),
    "module alias": ("from . import blocks as parts", "parts.Bottleneck"),
    "plain import": ("import models.blocks as mb", "mb.Bottleneck"),
}


def write_package(root: Path, import_line: str, block: str) -> Path:
    package = root / "models"
    package.mkdir()
    (package / "__init__.py").write_text("")
    (package / "blocks.py").write_text(textwrap.dedent(BLOCKS))
    net = textwrap.dedent(NET.format(import_line=import_line, block=block))
    (package / "net.py").write_text(net)
    return package


def fc_line(package: Path) -> int:
    lines = (package / "net.py").read_text().splitlines()
    return next(number for number, line in enumerate(lines, 1) if "self.fc =" in line)


def codes(findings) -> list[tuple[str, int, str]]:
    return sorted((Path(f.path).name, f.line, f.code) for f in findings)


@pytest.mark.parametrize("style", list(IMPORTS))
def test_an_imported_block_gives_the_stage_its_channels(tmp_path: Path, style: str) -> None:
    """`fc` takes 128 features, but the imported Bottleneck's stage gives 128 * 4 channels."""
    package = write_package(tmp_path, *IMPORTS[style])
    findings = check_paths([package])
    assert codes(findings) == [("net.py", fc_line(package), "RN204")]
    assert "2048" not in findings[0].message and "512" in findings[0].message


def test_a_file_linted_alone_does_not_guess_what_it_imports(tmp_path: Path) -> None:
    package = write_package(tmp_path, *IMPORTS["relative"])
    assert check_paths([package / "net.py"]) == []


def test_a_bug_in_the_imported_file_is_reported_once_in_that_file(tmp_path: Path) -> None:
    package = write_package(tmp_path, *IMPORTS["relative"])
    blocks = package / "blocks.py"
    blocks.write_text(blocks.read_text().replace("self.bn3(self.conv3(out))", "self.conv3(out)"))
    reported = codes(check_paths([package], ignore=["RN204"]))
    assert [(name, code) for name, _, code in reported] == [("blocks.py", "RN107")]


def test_a_groups_models_are_freed_by_reference_counting_when_it_is_done(tmp_path: Path) -> None:
    """A model's objects refer to one another; the group drops them when its files are done, so
    that they need not wait for the cyclic collector (Project.release)."""
    package = write_package(tmp_path, *IMPORTS["relative"])
    paths = [str(package / "net.py"), str(package / "blocks.py")]
    settings = Settings(root=str(tmp_path))
    enabled = gc.isenabled()
    gc.disable()
    try:
        with FileGroup(paths) as group:
            findings = [check_file(path, settings.checks_for(path), group) for path in paths]
            models = [weakref.ref(group.project.model(path)) for path in paths]
            assert all(model() is not None for model in models)
        del group
        assert [model() for model in models] == [None, None]
    finally:
        if enabled:
            gc.enable()
    assert [code for result in findings for code in codes(result.findings)] == [
        ("net.py", fc_line(package), "RN204")
    ]


def test_the_cache_relints_a_file_when_a_file_it_imports_changes(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from reslint import runner
    from reslint.cache import Cache
    from reslint.settings import Overrides, SettingsResolver

    package = write_package(tmp_path, *IMPORTS["relative"])
    cache = Cache(str(tmp_path / "cache"))

    def run() -> list[tuple[str, int, str]]:
        return codes(runner.run([package], SettingsResolver(Overrides()), cache=cache).findings)

    assert run() == [("net.py", fc_line(package), "RN204")]
    blocks = package / "blocks.py"
    blocks.write_text(blocks.read_text().replace("expansion = 4", "expansion = 1"))
    assert run() == []  # net.py did not change, but what it imports did


def test_the_import_scan_finds_every_spelling() -> None:
    text = textwrap.dedent("""
        import os, torch.nn as nn
        from . import blocks, layers as L
        from ..common.layers import (
            conv3x3,  # a comment
            conv1x1 as c1,
        )
        from models.resnet import *
        if True:
            import resnet_parts as rp
    """)
    assert sorted(scan_imports(text)) == [
        (0, "models.resnet", []),
        (0, "os", []),
        (0, "resnet_parts", []),
        (0, "torch.nn", []),
        (1, "", ["blocks", "layers"]),
        (2, "common.layers", ["conv3x3", "conv1x1"]),
    ]


def test_imports_resolve_to_the_nearest_linted_file(tmp_path: Path) -> None:
    paths = [
        tmp_path / "a" / "models" / "layers.py",
        tmp_path / "b" / "models" / "layers.py",
        tmp_path / "b" / "models" / "net.py",
        tmp_path / "b" / "train.py",
    ]
    files = ProjectFiles(str(path) for path in paths)
    net, train = str(paths[2]), str(paths[3])
    assert files.find(net, 0, "models.layers") == str(paths[1])
    assert files.find(net, 1, "layers") == str(paths[1])
    assert files.find(train, 1, "models.net") == str(paths[2])
    assert files.find(net, 0, "torch.nn") is None
    assert files.find(net, 3, "missing") is None


def test_files_that_import_each_other_form_one_group(tmp_path: Path) -> None:
    names = ["blocks.py", "net.py", "train.py", "other.py", "utils.py"]
    paths = [str(tmp_path / name) for name in names]
    texts = {
        paths[1]: "from blocks import Bottleneck\n",
        paths[2]: "import net\n",
        paths[3]: "import torch\n",
        paths[4]: "# import blocks is only a comment\n",
    }
    groups = connected_groups(paths, texts)
    assert sorted(map(sorted, groups)) == sorted([sorted(paths[:3]), [paths[3]], [paths[4]]])


def test_methods_inherited_from_another_file_are_read_in_that_file(tmp_path: Path) -> None:
    """torchvision's quantization/resnet.py subclasses resnet.py's blocks: rules that follow forward
    into an inherited method must read that method's names in its own file (this raised KeyError)."""
    package = write_package(tmp_path, *IMPORTS["relative"])
    (package / "quant.py").write_text(
        textwrap.dedent("""
            from .blocks import Bottleneck


            class Base(Bottleneck):
                def _shortcut(self, x):
                    return x if self.downsample is None else self.downsample(x)


            class QuantBottleneck(Base):
                def forward(self, x):
                    out = self.relu(self.bn1(self.conv1(x)))
                    out = self.relu(self.bn2(self.conv2(out)))
                    return self.relu(self.bn3(self.conv3(out)) + self._shortcut(x))
        """)
    )
    (package / "more.py").write_text(
        textwrap.dedent("""
            from .quant import Base


            class Shortcut(Base):
                def forward(self, x):
                    return self._shortcut(x) + indentity
        """)
    )
    reported = codes(check_paths([package], ignore=["RN204"]))
    assert [(name, code) for name, _, code in reported] == [("more.py", "RN117")]


def test_findings_keep_the_path_the_run_names_the_file_by(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """blocks.py is modelled first as what an_net.py imports (by its absolute path), then linted
    itself: its findings are still reported under the path the run found it by."""
    package = write_package(tmp_path, *IMPORTS["relative"])
    (package / "net.py").rename(package / "an_net.py")
    blocks = package / "blocks.py"
    blocks.write_text(blocks.read_text().replace("self.bn3(self.conv3(out))", "self.conv3(out)"))
    monkeypatch.chdir(tmp_path)
    reported = {(f.path, f.code) for f in check_paths(["models"], ignore=["RN204"])}
    assert reported == {(str(Path("models") / "blocks.py"), "RN107")}


SE_BLOCK = """
    import torch.nn as nn

    from .blocks import Bottleneck


    class SEBottleneck(Bottleneck):
        def __init__(self, inplanes, planes, stride=1, downsample=None):
            super().__init__(inplanes, planes, stride, downsample)
            self.se = nn.Sequential(nn.AdaptiveAvgPool2d(1), nn.Conv2d(planes * 4, planes * 4, 1))

        def forward(self, x):
            identity = x
            out = self.relu(self.bn1(self.conv1(x)))
            out = self.relu(self.bn2(self.conv2(out)))
            out = self.bn3(self.conv3(out))
            out = out * self.se(out).sigmoid()
            if self.downsampel is not None:
                identity = self.downsample(x)
            return self.relu(out + identity)
"""


def write_se_package(tmp_path: Path, blocks: str) -> Path:
    package = tmp_path / "models"
    package.mkdir()
    (package / "__init__.py").write_text("")
    (package / "blocks.py").write_text(textwrap.dedent(blocks))
    (package / "se_blocks.py").write_text(textwrap.dedent(SE_BLOCK))
    return package


def test_an_attribute_no_class_of_the_hierarchy_sets_is_reported_across_files(
    tmp_path: Path,
) -> None:
    """The subclass reads `self.downsampel`; its base, in the other file, sets `downsample`."""
    package = write_se_package(tmp_path, BLOCKS)
    findings = check_paths([package])
    lines = (package / "se_blocks.py").read_text().splitlines()
    line = next(n for n, text in enumerate(lines, 1) if "self.downsampel" in text)
    assert codes(findings) == [("se_blocks.py", line, "RN116")]
    assert "did you mean `self.downsample`" in findings[0].message
    assert check_paths([package / "se_blocks.py"]) == []  # alone, the base is unknown


def test_a_base_that_sets_attributes_of_any_name_keeps_the_subclass_unchecked(
    tmp_path: Path,
) -> None:
    """A base that registers layers under names it is given may set `downsampel` too."""
    blocks = BLOCKS.replace(
        "self.downsample = downsample",
        "self.downsample = downsample\n"
        "            for name, layer in (extra or {}).items():\n"
        "                self.add_module(name, layer)",
    ).replace("stride=1, downsample=None):", "stride=1, downsample=None, extra=None):")
    package = write_se_package(tmp_path, blocks)
    assert codes(check_paths([package])) == []


BASE_WITH_HEAD = """
    import torch.nn as nn


    class Backbone(nn.Module):
        def __init__(self, width=64, num_classes=10):
            super().__init__()
            self.stem = nn.Sequential(nn.Conv2d(3, width, 3, padding=1, bias=False), nn.BatchNorm2d(width), nn.ReLU())
            self.pool = nn.AdaptiveAvgPool2d(1)
            self.head = nn.Linear(width, num_classes)

        def forward(self, x):
            return self.pool(self.stem(x)).flatten(1)
"""

CLASSIFIER = """
    from .backbone import Backbone


    class Classifier(Backbone):
        def forward(self, x):
            return self.head(super().forward(x))
"""


def test_a_layer_a_subclass_in_another_linted_file_uses_is_used(tmp_path: Path) -> None:
    """The base builds `head` for its subclasses; the one that runs it lives in another file. Linted
    together, nothing is unused; the base linted alone still reports `head` (nothing uses it there)."""
    package = tmp_path / "models"
    package.mkdir()
    (package / "__init__.py").write_text("")
    (package / "backbone.py").write_text(textwrap.dedent(BASE_WITH_HEAD))
    (package / "classifier.py").write_text(textwrap.dedent(CLASSIFIER))
    assert codes(check_paths([package])) == []
    alone = codes(check_paths([package / "backbone.py"]))
    assert [(name, code) for name, _, code in alone] == [("backbone.py", "RN107")]


FRAMEWORK_HELPERS = """
    import torch.nn as nn

    MADE = {}


    def conv1x1_block(in_channels, out_channels, stride=1, activation=(lambda: nn.ReLU())):
        return MADE["conv"](in_channels, out_channels, 1, stride, activation)
"""

FRAMEWORK_UNIT = """
    import torch.nn as nn

    from .common import conv1x1_block


    class Unit(nn.Module):
        def __init__(self, in_channels, out_channels):
            super().__init__()
            mid = out_channels // 4
            self.conv1 = conv1x1_block(in_channels, mid)
            self.conv2 = conv1x1_block(mid, mid)
            self.conv3 = conv1x1_block(mid, mid, activation=None)
            self.identity_conv = conv1x1_block(in_channels, out_channels, activation=None)

        def forward(self, x):
            identity = self.identity_conv(x)
            return self.conv3(self.conv2(self.conv1(x))) + identity
"""


def test_a_frameworks_own_helper_keeps_its_facts_when_its_file_is_linted_too(
    tmp_path: Path,
) -> None:
    """pytorchcv's `conv1x1_block`, imported from `.common` inside pytorchcv: the table of framework
    builders says what it builds even where the run also lints common.py, whose definition the model
    follows less far (here not at all). Alone or together, the unit's conv3 gives the wrong width."""
    models = tmp_path / "pytorchcv" / "models"
    models.mkdir(parents=True)
    (models / "common.py").write_text(textwrap.dedent(FRAMEWORK_HELPERS))
    (models / "resnet.py").write_text(textwrap.dedent(FRAMEWORK_UNIT))
    alone = codes(check_paths([models / "resnet.py"]))
    together = codes(check_paths([models]))
    assert alone == together == [("resnet.py", 13, "RN309")]


OWN_BLOCKS = """
    import torch.nn as nn


    class ConvBnAct(nn.Module):
        def __init__(self, in_chs, out_chs, kernel_size, stride=1, act_layer=None):
            super().__init__()
            self.conv = nn.Conv2d(in_chs, out_chs, kernel_size, stride, kernel_size // 2, bias=False)
            self.bn = nn.BatchNorm2d(out_chs)
            self.act = act_layer() if act_layer is not None else nn.Identity()

        def forward(self, x):
            return self.act(self.bn(self.conv(x)))
"""

OWN_BLOCKS_USER = """
    import torch.nn as nn

    from ._blocks import ConvBnAct


    class DownBlock(nn.Module):
        def __init__(self, in_chs, out_chs, stride=2):
            super().__init__()
            self.conv1 = ConvBnAct(in_chs, out_chs, 3, stride, act_layer=nn.ReLU)
            self.conv2 = ConvBnAct(out_chs, out_chs, 3)
            self.shortcut = ConvBnAct(in_chs, out_chs, 1, stride)
            self.act = nn.ReLU()

        def forward(self, x):
            return self.act(self.conv2(self.conv1(x)) + self.shortcut(x))
"""


def test_a_packages_own_helper_of_a_table_name_but_other_parameters_is_its_own(
    tmp_path: Path,
) -> None:
    """timm's models define a `ConvBnAct(in_chs, out_chs, ...)` of their own beside timm.layers'
    `ConvBnAct(in_channels, out_channels, ...)` the table describes: where the run lints the file
    that defines it, its definition (no activation unless one is given) is what the call builds,
    so the shortcut is a plain conv and norm."""
    models = tmp_path / "timm" / "models"
    models.mkdir(parents=True)
    (models / "_blocks.py").write_text(textwrap.dedent(OWN_BLOCKS))
    (models / "downnet.py").write_text(textwrap.dedent(OWN_BLOCKS_USER))
    assert codes(check_paths([models])) == []
