"""Framework base classes as knowledge: what reslint knows of the blocks real code subclasses.

OpenMMLab's res2net.py says `from .resnet import Bottleneck as _Bottleneck` and then only overrides
what differs; torchvision's quantized ResNet subclasses torchvision's own blocks. Linted alone such a
file names a base nobody linted, and reslint must stay silent about everything the base might set.
These stubs (the way typeshed serves mypy) are short sources written here, in the libraries' style,
that state only the interface facts stable across every supported version of the library: the
constructor's parameters, the attributes `__init__` sets with their channels and strides, what
`forward` computes. They are `.pystub` data files, never imported: the model reads one like a linted
file (reslint.model.project) when a linted file imports its module and no linted file provides it, so
a real file of the run always wins. No finding ever points into a stub.
"""

from __future__ import annotations

import os
from dataclasses import dataclass

STUB_FOLDER = os.path.dirname(os.path.abspath(__file__))
STUB_SUFFIX = ".pystub"


@dataclass(frozen=True)
class Stub:
    """A stub file and the names an import of its module may take from it (a package's `__init__`
    re-exports only some of its modules' names)."""

    file: str
    names: frozenset[str]


def _stub(file: str, *names: str) -> Stub:
    return Stub(file + STUB_SUFFIX, frozenset(names))


_V1 = "openmmlab_resnet_v1"
_V2 = "openmmlab_resnet_v2"
_SE = "openmmlab_se_layer"
_BACKBONE = "openmmlab_base_backbone"
_TORCHVISION = "torchvision_resnet"
_FASTAI = "fastai_layers"
_FASTAI_LAYERS = (
    "AdaptiveAvgPool",
    "AvgPool",
    "Flatten",
    "MaxPool",
    "ResBlock",
    "SEBlock",
    "SEResNeXtBlock",
)
_MONAI_SE = "monai_se_blocks"
_MONAI_SE_BLOCKS = ("ChannelSELayer", "SEBottleneck", "SEResNetBottleneck", "SEResNeXtBottleneck")
_MMDET_RESNET = ("BasicBlock", "Bottleneck", "ResNet", "ResNetV1d")
_MMPRETRAIN_RESNET = ("BasicBlock", "Bottleneck", "ResLayer", "ResNet", "ResNetV1c", "ResNetV1d")

# Dotted module -> the stubs that provide its names. A module is matched by its last components, so a
# relative import in a file under `.../mmdet/models/backbones/` names "mmdet.models.backbones.resnet".
STUBS: dict[str, tuple[Stub, ...]] = {
    "mmdet.models.backbones.resnet": (_stub(_V1, *_MMDET_RESNET),),
    "mmdet.models.backbones": (_stub(_V1, "ResNet", "ResNetV1d"),),
    "mmdet.models.layers.res_layer": (_stub(_V1, "ResLayer"),),
    "mmdet.models.layers.se_layer": (_stub(_SE, "SELayer"),),
    "mmdet.models.layers": (_stub(_V1, "ResLayer"), _stub(_SE, "SELayer")),
    "mmseg.models.backbones.resnet": (_stub(_V1, *_MMDET_RESNET),),
    "mmseg.models.backbones": (_stub(_V1, "ResNet", "ResNetV1d"),),
    "mmseg.models.utils.res_layer": (_stub(_V1, "ResLayer"),),
    "mmseg.models.utils.se_layer": (_stub(_SE, "SELayer"),),
    "mmseg.models.utils": (_stub(_V1, "ResLayer"), _stub(_SE, "SELayer")),
    "mmpretrain.models.backbones.resnet": (_stub(_V2, *_MMPRETRAIN_RESNET),),
    "mmpretrain.models.backbones": (_stub(_V2, "ResNet", "ResNetV1c", "ResNetV1d"),),
    "mmpretrain.models.backbones.base_backbone": (_stub(_BACKBONE, "BaseBackbone"),),
    "mmpretrain.models.utils.se_layer": (_stub(_SE, "SELayer"),),
    "mmpretrain.models.utils": (_stub(_SE, "SELayer"),),
    "mmpose.models.backbones.resnet": (_stub(_V2, *_MMPRETRAIN_RESNET),),
    "mmpose.models.backbones": (_stub(_V2, "ResNet", "ResNetV1d"),),
    "mmpose.models.backbones.base_backbone": (_stub(_BACKBONE, "BaseBackbone"),),
    "mmpose.models.backbones.utils.se_layer": (_stub(_SE, "SELayer"),),
    "mmpose.models.backbones.utils": (_stub(_SE, "SELayer"),),
    # fastai's modules that star-import fastai.layers, and the module itself
    "fastai.layers": (_stub(_FASTAI, *_FASTAI_LAYERS),),
    "fastai.torch_basics": (_stub(_FASTAI, *_FASTAI_LAYERS),),
    "fastai.basics": (_stub(_FASTAI, *_FASTAI_LAYERS),),
    "fastai.vision.all": (_stub(_FASTAI, *_FASTAI_LAYERS),),
    "monai.networks.blocks.squeeze_and_excitation": (_stub(_MONAI_SE, *_MONAI_SE_BLOCKS),),
    "monai.networks.blocks": (_stub(_MONAI_SE, *_MONAI_SE_BLOCKS),),
    "torchvision.models.resnet": (
        _stub(_TORCHVISION, "BasicBlock", "Bottleneck", "ResNet", "conv1x1", "conv3x3"),
    ),
}


def stub_path(dotted: str, name: str) -> str | None:
    """The stub file that provides `name` of the module `dotted` (or of a module whose name ends with
    it, whole components), if any."""
    parts = dotted.split(".")
    for start in range(len(parts)):
        stubs = STUBS.get(".".join(parts[start:]))
        if stubs is not None:
            found = (stub.file for stub in stubs if name in stub.names)
            return next((os.path.join(STUB_FOLDER, file) for file in found), None)
    return None
