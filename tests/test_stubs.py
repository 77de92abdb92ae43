"""Framework base classes as knowledge (reslint.knowledge.stubs): a file that subclasses OpenMMLab's or
torchvision's ResNet blocks, linted alone, is checked against reslint's stub of those bases; a real
file of the run always wins over a stub, and no finding ever points into one."""

from __future__ import annotations

import os
import textwrap
from pathlib import Path

import pytest

from reslint import check_paths
from reslint.fast_parse import parse_module
from reslint.knowledge.stubs import STUB_FOLDER, STUBS, stub_path
from reslint.model.module import build_module_model
from reslint.model.project import Project
from reslint.model.values import UNKNOWN, ClassRef

# An mmdet-style block subclass whose forward leaves out the inherited conv3: the unused conv3 is
# the base's (a stub line), the block's own mistake is the second use of norm1.
SUBCLASS = """
    from mmdet.models.backbones.resnet import Bottleneck as _Bottleneck


    class Block(_Bottleneck):
        def __init__(self, inplanes, planes, **kwargs):
            super().__init__(inplanes, planes, **kwargs)

        def forward(self, x):
            out = self.relu(self.norm1(self.conv1(x)))
            out = self.relu(self.norm1(self.conv2(out)))
            return self.relu(self.norm3(out) + x)
"""


def model_of(path: Path, project: Project):
    text = path.read_text(encoding="utf-8")
    return build_module_model(parse_module(text), text, str(path), project)


@pytest.mark.parametrize("stub", sorted({s.file for stubs in STUBS.values() for s in stubs}))
def test_every_stub_defines_the_names_its_modules_give(stub: str) -> None:
    path = Path(STUB_FOLDER) / stub
    model = model_of(path, Project())
    for module, entries in STUBS.items():
        for entry in entries:
            if entry.file == stub:
                missing = [name for name in entry.names if model.global_value(name) is UNKNOWN]
                assert not missing, f"{module}: {missing} not defined in {stub}"


def test_modules_are_matched_by_whole_trailing_components() -> None:
    assert stub_path("mmdet.models.backbones.resnet", "Bottleneck") is not None
    # A relative import in a file under .../mmdet/models/backbones/ names the module behind folders.
    assert stub_path("home.me.src.mmdet.models.backbones.resnet", "Bottleneck") is not None
    assert stub_path("mymodels.resnet", "Bottleneck") is None
    assert stub_path("notmmdet.models.backbones.resnet", "Bottleneck") is None
    # A package re-exports only some names of its modules.
    assert stub_path("mmdet.models.backbones", "ResNet") is not None
    assert stub_path("mmdet.models.backbones", "Bottleneck") is None


def test_a_subclass_linted_alone_sees_its_base(tmp_path: Path) -> None:
    path = tmp_path / "block.py"
    path.write_text(textwrap.dedent(SUBCLASS), encoding="utf-8")
    block = model_of(path, Project([str(path)])).class_named("Block")
    assert block is not None
    (base,) = block.ancestors()
    assert os.path.dirname(base.module.path) == STUB_FOLDER
    assert "conv3" in base.module.source


def test_no_finding_points_into_a_stub(tmp_path: Path) -> None:
    path = tmp_path / "block.py"
    path.write_text(textwrap.dedent(SUBCLASS), encoding="utf-8")
    findings = check_paths([path])
    assert {(f.path, f.code, f.line) for f in findings} == {(str(path), "RN302", 11)}


def test_a_linted_file_wins_over_the_stub(tmp_path: Path) -> None:
    package = tmp_path / "mmdet" / "models" / "backbones"
    package.mkdir(parents=True)
    (package / "resnet.py").write_text(
        textwrap.dedent(
            """
            import torch.nn as nn


            class Bottleneck(nn.Module):
                expansion = 2
            """
        ),
        encoding="utf-8",
    )
    importer = package / "res2net.py"
    importer.write_text("from .resnet import Bottleneck\n", encoding="utf-8")
    project = Project([str(package / "resnet.py"), str(importer)])
    project._loader = lambda path: model_of(Path(path), project)
    value = model_of(importer, project).global_value("Bottleneck")
    assert isinstance(value, ClassRef)
    assert value.cls.module.path == str(package / "resnet.py")


def test_each_project_models_the_stub_parsed_once(tmp_path: Path) -> None:
    """Files linted in separate groups (one Project each) each get a model of the stub of their own,
    over one parse of it, and the same findings as the first."""
    paths = []
    for name in ("first", "second"):
        paths.append(tmp_path / name / "block.py")
        paths[-1].parent.mkdir()
        paths[-1].write_text(textwrap.dedent(SUBCLASS), encoding="utf-8")
    bases = []
    for path in paths:
        block = model_of(path, Project([str(path)])).class_named("Block")
        assert block is not None
        bases.append(block.ancestors()[0])
    assert bases[0].module is not bases[1].module
    assert bases[0].module.tree is bases[1].module.tree
    first, second = (check_paths([path]) for path in paths)
    assert [(f.code, f.line, f.message) for f in first] == [
        (f.code, f.line, f.message) for f in second
    ]
    assert [f.code for f in second] == ["RN302"]
