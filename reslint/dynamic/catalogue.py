"""The names and shapes of the reference zoo, importable without torch (for --list-references)."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Reference:
    name: str
    family: str  # "imagenet" (torchvision layout) or "cifar" (He et al. 2016, section 4.2)
    block: str  # "basic" or "bottleneck"
    layers: tuple[int, ...]
    parameters: int  # with the default classes below and 3 input channels
    groups: int = 1
    width_per_group: int = 64
    num_classes: int = 1000
    input_size: int = 224  # the resolution the architecture was designed for
    description: str = ""
    widths: tuple[int, ...] = (64, 128, 256, 512)  # planes per stage
    stem_width: int = 64
    shortcut: str = (
        "projection"  # "projection" (option B: 1x1 conv where the shape changes) or "zero-pad"
    )

    @property
    def stages(self) -> tuple[str, ...]:
        return tuple(f"layer{i + 1}" for i in range(len(self.layers)))

    @property
    def classifier(self) -> str:
        return "linear" if self.family == "cifar" else "fc"

    @property
    def sample_max(self) -> int:
        """Largest height/width the sampler tries: a little beyond the design size (2x for CIFAR)."""
        return 2 * self.input_size if self.input_size <= 64 else self.input_size + 32

    @property
    def expansion(self) -> int:
        return 4 if self.block == "bottleneck" else 1

    @property
    def features(self) -> int:
        """Channels the classifier takes."""
        return self.widths[-1] * self.expansion


def _imagenet(
    name: str,
    block: str,
    layers: tuple[int, ...],
    parameters: int,
    description: str,
    groups: int = 1,
    width_per_group: int = 64,
) -> Reference:
    return Reference(
        name,
        "imagenet",
        block,
        layers,
        parameters,
        groups,
        width_per_group,
        description=description,
    )


def _cifar(depth: int, parameters: int) -> Reference:
    n = (depth - 2) // 6
    return Reference(
        f"resnet{depth}",
        "cifar",
        "basic",
        (n, n, n),
        parameters,
        num_classes=10,
        input_size=32,
        description=f"CIFAR ResNet-{depth} (He et al. 2016 4.2, option A)",
        widths=(16, 32, 64),
        stem_width=16,
        shortcut="zero-pad",
    )


def _cifar_stem(
    name: str,
    block: str,
    layers: tuple[int, ...],
    parameters: int,
    description: str,
    widths: tuple[int, ...] = (64, 128, 256, 512),
    stem_width: int = 64,
    groups: int = 1,
) -> Reference:
    """A 3x3 stem without max-pool, stages at strides 1, 2, 2..., projection shortcuts, 32x32 inputs."""
    return Reference(
        name,
        "cifar",
        block,
        layers,
        parameters,
        groups,
        num_classes=10,
        input_size=32,
        description=description,
        widths=widths,
        stem_width=stem_width,
    )


# Parameter counts (10 classes for the CIFAR layouts): torchvision's published figures for the ImageNet
# models; for He et al.'s CIFAR ResNets what the option-A architecture gives (the paper rounds them to
# 0.27M, 0.46M, 0.66M, 0.85M and 1.7M); WRN-28-10 is 36.5M in Zagoruyko and Komodakis 2016 and
# ResNeXt-29 8x64d 34.4M in Xie et al. 2017 (Table 7). No paper tabulates the CIFAR-stem ResNet-18..152
# (kuangliu/pytorch-cifar's layout) nor pre-activation ResNet-18/34 (He et al. 2016b's blocks and final
# BN-ReLU in that layout): their counts are what the layout gives, checked against a formula written
# out independently in tests/dynamic/test_zoo.py.
REFERENCES: dict[str, Reference] = {
    ref.name: ref
    for ref in (
        _imagenet("resnet18", "basic", (2, 2, 2, 2), 11_689_512, "ResNet-18 (torchvision)"),
        _imagenet("resnet34", "basic", (3, 4, 6, 3), 21_797_672, "ResNet-34 (torchvision)"),
        _imagenet(
            "resnet50", "bottleneck", (3, 4, 6, 3), 25_557_032, "ResNet-50 v1.5 (torchvision)"
        ),
        _imagenet(
            "resnet101", "bottleneck", (3, 4, 23, 3), 44_549_160, "ResNet-101 v1.5 (torchvision)"
        ),
        _imagenet(
            "resnet152", "bottleneck", (3, 8, 36, 3), 60_192_808, "ResNet-152 v1.5 (torchvision)"
        ),
        _imagenet(
            "resnext50_32x4d",
            "bottleneck",
            (3, 4, 6, 3),
            25_028_904,
            "ResNeXt-50 32x4d (torchvision)",
            groups=32,
            width_per_group=4,
        ),
        _imagenet(
            "resnext101_32x8d",
            "bottleneck",
            (3, 4, 23, 3),
            88_791_336,
            "ResNeXt-101 32x8d (torchvision)",
            groups=32,
            width_per_group=8,
        ),
        _imagenet(
            "resnext101_64x4d",
            "bottleneck",
            (3, 4, 23, 3),
            83_455_272,
            "ResNeXt-101 64x4d (torchvision)",
            groups=64,
            width_per_group=4,
        ),
        _imagenet(
            "wide_resnet50_2",
            "bottleneck",
            (3, 4, 6, 3),
            68_883_240,
            "Wide ResNet-50-2 (torchvision)",
            width_per_group=128,
        ),
        _imagenet(
            "wide_resnet101_2",
            "bottleneck",
            (3, 4, 23, 3),
            126_886_696,
            "Wide ResNet-101-2 (torchvision)",
            width_per_group=128,
        ),
        _cifar(20, 269_722),
        _cifar(32, 464_154),
        _cifar(44, 658_586),
        _cifar(56, 853_018),
        _cifar(110, 1_727_962),
        _cifar_stem("resnet18_cifar", "basic", (2, 2, 2, 2), 11_173_962, "ResNet-18, CIFAR stem"),
        _cifar_stem("resnet34_cifar", "basic", (3, 4, 6, 3), 21_282_122, "ResNet-34, CIFAR stem"),
        _cifar_stem(
            "resnet50_cifar", "bottleneck", (3, 4, 6, 3), 23_520_842, "ResNet-50, CIFAR stem"
        ),
        _cifar_stem(
            "resnet101_cifar", "bottleneck", (3, 4, 23, 3), 42_512_970, "ResNet-101, CIFAR stem"
        ),
        _cifar_stem(
            "resnet152_cifar", "bottleneck", (3, 8, 36, 3), 58_156_618, "ResNet-152, CIFAR stem"
        ),
        _cifar_stem(
            "preact_resnet18",
            "preact",
            (2, 2, 2, 2),
            11_172_170,
            "Pre-activation ResNet-18 (He et al. 2016b), CIFAR stem",
        ),
        _cifar_stem(
            "preact_resnet34",
            "preact",
            (3, 4, 6, 3),
            21_280_330,
            "Pre-activation ResNet-34 (He et al. 2016b), CIFAR stem",
        ),
        _cifar_stem(
            "wrn28_10",
            "preact",
            (4, 4, 4),
            36_479_194,
            "WRN-28-10 (Zagoruyko and Komodakis 2016)",
            widths=(160, 320, 640),
            stem_width=16,
        ),
        _cifar_stem(
            "resnext29_8x64d",
            "bottleneck",
            (3, 3, 3),
            34_426_698,
            "ResNeXt-29 8x64d (Xie et al. 2017)",
            widths=(64, 128, 256),
            groups=8,
        ),
    )
}


# Every reference accepts any N x C x H x W input with N, H, W >= 1 and returns [N, num_classes]
# (padding keeps every map at least 1x1 and the pool is adaptive); tests/dynamic checks this claim.
REFERENCE_VALID_FROM = 1


def reference_names() -> list[str]:
    return list(REFERENCES)
