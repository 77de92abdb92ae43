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


_MMDET_RESNET = ("BasicBlock", "Bottleneck", "ResNet", "ResNetV1d")
_MMPRETRAIN_RESNET = ("BasicBlock", "Bottleneck", "ResLayer", "ResNet", "ResNetV1c", "ResNetV1d")
_TORCHVISION_RESNET = ("BasicBlock", "Bottleneck", "ResNet", "conv1x1", "conv3x3")

# Dotted module -> its stub. A module is matched by its last components, so a relative import in a
# file under `.../mmdet/models/backbones/` names "mmdet.models.backbones.resnet" too.
STUBS: dict[str, Stub] = {
    "mmdet.models.backbones.resnet": _stub("openmmlab_resnet_v1", *_MMDET_RESNET),
    "mmdet.models.backbones": _stub("openmmlab_resnet_v1", "ResNet", "ResNetV1d"),
    "mmdet.models.layers.res_layer": _stub("openmmlab_resnet_v1", "ResLayer"),
    "mmdet.models.layers": _stub("openmmlab_resnet_v1", "ResLayer"),
    "mmseg.models.backbones.resnet": _stub("openmmlab_resnet_v1", *_MMDET_RESNET),
    "mmseg.models.backbones": _stub("openmmlab_resnet_v1", "ResNet", "ResNetV1d"),
    "mmseg.models.utils.res_layer": _stub("openmmlab_resnet_v1", "ResLayer"),
    "mmseg.models.utils": _stub("openmmlab_resnet_v1", "ResLayer"),
    "mmpretrain.models.backbones.resnet": _stub("openmmlab_resnet_v2", *_MMPRETRAIN_RESNET),
    "mmpretrain.models.backbones": _stub("openmmlab_resnet_v2", "ResNet", "ResNetV1c", "ResNetV1d"),
    "mmpose.models.backbones.resnet": _stub("openmmlab_resnet_v2", *_MMPRETRAIN_RESNET),
    "mmpose.models.backbones": _stub("openmmlab_resnet_v2", "ResNet", "ResNetV1d"),
    "torchvision.models.resnet": _stub("torchvision_resnet", *_TORCHVISION_RESNET),
}


def stub_path(dotted: str, name: str) -> str | None:
    """The stub file that provides `name` of the module `dotted` (or of a module whose name ends with
    it, whole components), if any."""
    parts = dotted.split(".")
    for start in range(len(parts)):
        stub = STUBS.get(".".join(parts[start:]))
        if stub is not None:
            return os.path.join(STUB_FOLDER, stub.file) if name in stub.names else None
    return None

