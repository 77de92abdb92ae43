"""The real files the recall benchmark mutates: ResNet-family modules of pinned PyPI releases.

The archives are downloaded at run time with pip (`--no-deps`, so torch and friends are never installed)
into ~/.cache/reslint-bench/wheels and read in place; nothing of theirs is ever written into this
repository. Wheels where one exists; an sdist only where the package publishes none (pretrainedmodels).
"""

from __future__ import annotations

import os
import subprocess
import sys
import tarfile
import zipfile
from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class Package:
    name: str
    version: str
    files: tuple[str, ...]
    sdist: bool = False


# Pinned so that two runs months apart mutate the same code; bump deliberately and re-baseline.
PACKAGES: tuple[Package, ...] = (
    Package(
        "torchvision",
        "0.29.1",
        (
            "torchvision/models/resnet.py",
            "torchvision/models/quantization/resnet.py",
            "torchvision/models/video/resnet.py",
            "torchvision/models/regnet.py",
        ),
    ),
    Package(
        "timm",
        "1.0.31",
        (
            "timm/models/resnet.py",
            "timm/models/resnetv2.py",
            "timm/models/res2net.py",
            "timm/models/resnest.py",
            "timm/models/sknet.py",
            "timm/models/senet.py",
            "timm/models/tresnet.py",
            "timm/models/regnet.py",
        ),
    ),
    Package(
        "mmdet",
        "3.3.0",
        (
            "mmdet/models/backbones/resnet.py",
            "mmdet/models/backbones/resnext.py",
            "mmdet/models/backbones/res2net.py",
            "mmdet/models/backbones/regnet.py",
            "mmdet/models/backbones/resnest.py",
            "mmdet/models/backbones/detectors_resnet.py",
            "mmdet/models/layers/res_layer.py",
        ),
    ),
    Package(
        "mmpretrain",
        "1.2.0",
        (
            "mmpretrain/models/backbones/resnet.py",
            "mmpretrain/models/backbones/resnext.py",
            "mmpretrain/models/backbones/res2net.py",
            "mmpretrain/models/backbones/resnest.py",
            "mmpretrain/models/backbones/seresnet.py",
            "mmpretrain/models/backbones/regnet.py",
        ),
    ),
    Package(
        "transformers",
        "5.24.0",
        (
            "transformers/models/resnet/modeling_resnet.py",
            "transformers/models/bit/modeling_bit.py",
            "transformers/models/regnet/modeling_regnet.py",
            "transformers/models/rt_detr/modeling_rt_detr_resnet.py",
        ),
    ),
    Package(
        "pytorchcv",
        "0.0.74",
        (
            "pytorchcv/models/resnet.py",
            "pytorchcv/models/preresnet.py",
            "pytorchcv/models/resnext.py",
            "pytorchcv/models/seresnet.py",
            "pytorchcv/models/wrn.py",
            "pytorchcv/models/resnet_cifar.py",
            "pytorchcv/models/preresnet_cifar.py",
            "pytorchcv/models/sknet.py",
        ),
    ),
    Package("monai", "1.6.1", ("monai/networks/nets/resnet.py", "monai/networks/nets/senet.py")),
    Package(
        "pretrainedmodels",
        "0.7.4",
        (
            "pretrainedmodels/models/senet.py",
            "pretrainedmodels/models/torchvision_models.py",
            "pretrainedmodels/models/fbresnet.py",
            "pretrainedmodels/models/cafferesnet.py",
            "pretrainedmodels/models/wideresnet.py",
        ),
        sdist=True,
    ),
    Package(
        "lightning-bolts",
        "0.7.0",
        (
            "pl_bolts/models/self_supervised/resnets.py",
            "pl_bolts/models/self_supervised/swav/swav_resnet.py",
        ),
    ),
    Package(
        "kornia",
        "0.9.0",
        (
            "kornia/feature/loftr/backbone/resnet_fpn.py",
            "kornia/models/rt_detr/architecture/resnet_d.py",
        ),
    ),
    Package("fastai", "2.8.12", ("fastai/layers.py", "fastai/vision/models/xresnet.py")),
    Package(
        "segmentation-models-pytorch",
        "0.6.0",
        (
            "segmentation_models_pytorch/encoders/resnet.py",
            "segmentation_models_pytorch/encoders/_senet.py",
        ),
    ),
    Package(
        "mmsegmentation",
        "1.2.2",
        (
            "mmseg/models/backbones/resnet.py",
            "mmseg/models/backbones/resnext.py",
            "mmseg/models/backbones/resnest.py",
        ),
    ),
    Package(
        "mmpose",
        "1.3.2",
        ("mmpose/models/backbones/resnet.py", "mmpose/models/backbones/seresnet.py"),
    ),
    Package(
        "mmaction2",
        "1.2.0",
        ("mmaction/models/backbones/resnet.py", "mmaction/models/backbones/resnet3d.py"),
    ),
    Package("lightly", "1.6.0", ("lightly/models/resnet.py",)),
    Package(
        "classy-vision",
        "0.7.0",
        ("classy_vision/models/resnet.py", "classy_vision/models/resnext.py"),
    ),
    Package("facenet-pytorch", "2.6.0", ("facenet_pytorch/models/inception_resnet_v1.py",)),
    Package("resnet-pytorch", "0.2.0", ("resnet_pytorch/model.py",)),
    Package(
        "resnet-simple",
        "1.0.1",
        (
            "resnet_simple/resnet/blocks.py",
            "resnet_simple/resnet/layers.py",
            "resnet_simple/resnet/resnet.py",
        ),
    ),
    Package(
        "highresnet",
        "0.10.2",
        ("highresnet/modules/residual.py", "highresnet/modules/highresnet.py"),
    ),
)


@dataclass(frozen=True)
class RealFile:
    package: str
    path: str
    text: str

    @property
    def label(self) -> str:
        return f"{self.package}:{self.path}"


class Unavailable(Exception):
    """The archive could not be downloaded (registry unreachable, release gone)."""


def cache_dir() -> Path:
    base = Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache")
    return base / "reslint-bench" / "wheels"


def normalised(name: str) -> str:
    return name.replace("-", "_").lower()


def cached_archive(package: Package) -> Path | None:
    stem = f"{normalised(package.name)}-{package.version}"
    pattern = f"{stem}.tar.gz" if package.sdist else f"{stem}-*.whl"
    return next(iter(sorted(cache_dir().glob(pattern))), None)


def download(package: Package) -> Path:
    archive = cached_archive(package)
    if archive is not None:
        return archive
    cache_dir().mkdir(parents=True, exist_ok=True)
    binary = ["--no-binary", ":all:"] if package.sdist else ["--only-binary", ":all:"]
    command = [sys.executable, "-m", "pip", "download", "--quiet", "--no-deps", *binary]
    command += ["--dest", str(cache_dir()), f"{package.name}=={package.version}"]
    result = subprocess.run(command, capture_output=True, text=True, timeout=600)
    archive = cached_archive(package)
    if result.returncode != 0 or archive is None:
        last = (result.stderr.strip().splitlines() or ["no archive"])[-1]
        raise Unavailable(f"{package.name}=={package.version}: {last}")
    return archive


def archive_names(archive: Path) -> set[str]:
    """Every file path in a wheel (as listed) or an sdist (under its top folder)."""
    if archive.name.endswith(".whl"):
        with zipfile.ZipFile(archive) as wheel:
            return set(wheel.namelist())
    with tarfile.open(archive) as sdist:
        return {m.name.split("/", 1)[-1] for m in sdist.getmembers() if m.isfile()}


def read_members(archive: Path, paths: tuple[str, ...]) -> dict[str, str]:
    """The wanted files of a wheel (paths as listed) or an sdist (paths under its top folder)."""
    if archive.name.endswith(".whl"):
        with zipfile.ZipFile(archive) as wheel:
            names = set(wheel.namelist())
            return {path: wheel.read(path).decode("utf-8") for path in paths if path in names}
    found: dict[str, str] = {}
    with tarfile.open(archive) as sdist:
        for member in sdist.getmembers():
            inner = member.name.split("/", 1)[-1]
            if inner in paths and member.isfile():
                handle = sdist.extractfile(member)
                if handle is not None:
                    found[inner] = handle.read().decode("utf-8")
    return found


def load(selected: set[str] | None = None) -> tuple[list[RealFile], list[str]]:
    """The corpus's files, and one note per package or file that could not be had."""
    files: list[RealFile] = []
    notes: list[str] = []
    for package in PACKAGES:
        if selected and package.name not in selected:
            continue
        try:
            members = read_members(download(package), package.files)
        except (Unavailable, subprocess.TimeoutExpired) as error:
            notes.append(f"skipped {package.name}: {error}")
            continue
        for path in package.files:
            if path in members:
                files.append(RealFile(package.name, path, members[path]))
            else:
                notes.append(f"missing from {package.name}=={package.version}: {path}")
    return files, notes


def load_folder(root: Path) -> tuple[list[RealFile], list[str]]:
    """Every `*.py` file under `root` (your own code, or a screen set kept outside this repository),
    its first folder standing for the package: `root/owner+repo/models/resnet.py`."""
    files: list[RealFile] = []
    notes: list[str] = []
    for path in sorted(root.rglob("*.py")):
        relative = path.relative_to(root)
        package, inner = (
            (relative.parts[0], "/".join(relative.parts[1:]))
            if len(relative.parts) > 1
            else (root.name, relative.name)
        )
        try:
            files.append(RealFile(package, inner, path.read_text(encoding="utf-8")))
        except (OSError, UnicodeDecodeError) as error:
            notes.append(f"unreadable {relative}: {error}")
    return files, notes
