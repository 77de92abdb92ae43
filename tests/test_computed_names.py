"""Names computed at run time: the shapes the model gives to `add_module` names, the patterns of
partly known f-strings, and reads that no binding can precede."""

from __future__ import annotations

import textwrap

import libcst as cst
import pytest

from reslint.model import build_module_model
from reslint.model.computed_names import dynamic_name_shapes, reads_fit
from reslint.model.values import NamePattern

OPENMMLAB_BLOCK = """
from mmcv.cnn import build_norm_layer
from mmengine.model import BaseModule

class Block(BaseModule):
    def __init__(self, planes, num_stages, norm_cfg, extra):
        super().__init__()
        self.norm1_name, norm1 = build_norm_layer(norm_cfg, planes, postfix=1)
        self.add_module(self.norm1_name, norm1)
        for i in range(num_stages):
            layer_name = f"layer{i + 1}"
            self.add_module(layer_name, norm1)
        setattr(self, "fixed", norm1)
EXTRA
"""


def model_of(source: str):
    source = textwrap.dedent(source)
    return build_module_model(cst.parse_module(source), source, "m.py")


def shapes_of(extra: str = ""):
    model = model_of(OPENMMLAB_BLOCK.replace("EXTRA", extra))
    return dynamic_name_shapes(model)[id(model.class_defs[0].node)]


@pytest.mark.parametrize("name", ["bn1", "gn1", "in1", "ln1", "norm_layer1", "layer1", "layer12"])
def test_names_of_mmcv_norms_and_numbered_stages_fit_their_shapes(name: str) -> None:
    shapes = shapes_of()
    assert shapes is not None
    assert reads_fit(name, shapes)


@pytest.mark.parametrize("name", ["covn1", "bn2", "res_lyaers", "conv1", "fixed_"])
def test_other_names_fit_no_shape(name: str) -> None:
    shapes = shapes_of()
    assert shapes is not None
    assert not reads_fit(name, shapes)


@pytest.mark.parametrize(
    "extra",
    [
        "        self.add_module(extra, norm1)",  # a parameter: any name
        "        name, plugin = build_plugin_layer(extra)\n        self.add_module(name, plugin)",
        "        setattr(self, self.unset_name, norm1)",  # an attribute set nowhere
    ],
)
def test_a_name_reslint_cannot_shape_may_be_any_name(extra: str) -> None:
    assert shapes_of(extra) is None


def test_a_partly_known_f_string_is_a_pattern_for_getattr() -> None:
    model = model_of(
        """
        import torch.nn as nn

        class Net(nn.Module):
            def __init__(self, depths):
                super().__init__()
                self.stem = nn.Conv2d(3, 8, 3)
                self.names = []
                for i, depth in enumerate(depths):
                    self.add_module(f"stage{i}", nn.Conv2d(8, 8, 3))
                    self.names.append(f"stage{i}")

            def forward(self, x):
                for name in self.names:
                    x = getattr(self, name)(x)
                return x
        """
    )
    instance = model.class_defs[0].generic
    assert instance is not None and instance.forward is not None
    assert not instance.dynamic_access
    assert instance.read_by_pattern == {NamePattern("stage.*")}
    assert NamePattern("stage.*").fits("stage3") and not NamePattern("stage.*").fits("stem")


@pytest.mark.parametrize(
    ("body", "surely"),
    [
        ("x = self.conv(x)\nreturn x", True),
        ("if self.flag:\n    x = self.make()\nreturn self.conv(x)", False),
        ("x = self.make()\nx = self.conv(x)\nreturn x", False),
    ],
)
def test_a_read_no_binding_can_precede_is_surely_unbound(body: str, surely: bool) -> None:
    indented = textwrap.indent(body, " " * 8)
    model = model_of(f"class Net:\n    def forward(self):\n{indented}\n")
    forward = model.class_defs[0].methods["forward"]
    reads = [read for read in model.names.functions[id(forward)].reads if read.value == "x"]
    assert any(model.surely_unbound(read, forward) for read in reads) is surely
