"""reslint's own reference zoo: correct ResNets to diff a user's model against.

ImageNet models follow torchvision's layout exactly (same attribute names, so the same state_dict keys and
parameter counts as torchvision's published weights; Bottleneck is v1.5: stride on the 3x3 conv).
CIFAR models are He et al. 2016 section 4.2: three stages of 16/32/64 channels, 3x3 convs, and the
parameter-free option-A shortcut (stride-2 subsample, zero-pad the new channels). Their attribute names
follow the widely used akamaster/pytorch_resnet_cifar10 checkpoints (the classifier is `linear`).
The CIFAR-stem models (a 3x3 stem, no max-pool, projection shortcuts) follow kuangliu/pytorch-cifar's
layout and names: ResNet-18..152, pre-activation ResNet-18/34 (He et al. 2016b, with its final BN-ReLU),
WRN-28-10 (Zagoruyko and Komodakis 2016: pre-activation blocks, 160/320/640 channels) and ResNeXt-29 8x64d
(Xie et al. 2017: grouped bottlenecks 512/1024/2048 wide).

This module imports torch; the catalogue of names lives in reslint.dynamic.catalogue, which does not.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from reslint.dynamic.catalogue import REFERENCES, Reference


@dataclass(frozen=True)
class ResidualForm:
    """How a reference block combines its two paths, for explaining a user's block that differs:
    output = act(main + shortcut), or main + shortcut without `activation_after`."""

    main: str  # the layer (name inside the block) whose output ends the main branch
    shortcut: str | None  # the shortcut module inside the block; absent or None: the block's input
    activation_after: bool
    recipe: str  # the block's function, for a hint


def conv3x3(in_planes: int, out_planes: int, stride: int = 1, groups: int = 1) -> nn.Conv2d:
    return nn.Conv2d(in_planes, out_planes, 3, stride=stride, padding=1, groups=groups, bias=False)


def conv1x1(in_planes: int, out_planes: int, stride: int = 1) -> nn.Conv2d:
    return nn.Conv2d(in_planes, out_planes, 1, stride=stride, bias=False)


class BasicBlock(nn.Module):
    expansion = 1
    form = ResidualForm(
        "bn2", "downsample", True, "relu(bn2(conv2(relu(bn1(conv1(x))))) + downsample(x) or x)"
    )

    def __init__(
        self,
        inplanes: int,
        planes: int,
        stride: int = 1,
        downsample: nn.Module | None = None,
        **_: int,
    ) -> None:
        super().__init__()
        self.conv1 = conv3x3(inplanes, planes, stride)
        self.bn1 = nn.BatchNorm2d(planes)
        self.relu = nn.ReLU(inplace=True)
        self.conv2 = conv3x3(planes, planes)
        self.bn2 = nn.BatchNorm2d(planes)
        self.downsample = downsample
        self.stride = stride

    def forward(self, x: Tensor) -> Tensor:
        out = self.relu(self.bn1(self.conv1(x)))
        out = self.bn2(self.conv2(out))
        identity = (
            x if self.downsample is None else self.downsample(x)
        )  # after the main branch, as torchvision
        return self.relu(out + identity)


class Bottleneck(nn.Module):
    """ResNet v1.5 bottleneck: the stride sits on the 3x3 conv, as in torchvision."""

    expansion = 4
    form = ResidualForm(
        "bn3",
        "downsample",
        True,
        "relu(bn3(conv3(relu(bn2(conv2(relu(bn1(conv1(x)))))))) + downsample(x) or x)",
    )

    def __init__(
        self,
        inplanes: int,
        planes: int,
        stride: int = 1,
        downsample: nn.Module | None = None,
        groups: int = 1,
        base_width: int = 64,
    ) -> None:
        super().__init__()
        width = int(planes * (base_width / 64.0)) * groups
        self.conv1 = conv1x1(inplanes, width)
        self.bn1 = nn.BatchNorm2d(width)
        self.conv2 = conv3x3(width, width, stride, groups)
        self.bn2 = nn.BatchNorm2d(width)
        self.conv3 = conv1x1(width, planes * self.expansion)
        self.bn3 = nn.BatchNorm2d(planes * self.expansion)
        self.relu = nn.ReLU(inplace=True)
        self.downsample = downsample
        self.stride = stride

    def forward(self, x: Tensor) -> Tensor:
        out = self.relu(self.bn1(self.conv1(x)))
        out = self.relu(self.bn2(self.conv2(out)))
        out = self.bn3(self.conv3(out))
        identity = (
            x if self.downsample is None else self.downsample(x)
        )  # after the main branch, as torchvision
        return self.relu(out + identity)


class ResNet(nn.Module):
    """torchvision.models.ResNet, without the options reslint never compares against."""

    def __init__(
        self,
        block: type[BasicBlock] | type[Bottleneck],
        layers: list[int],
        num_classes: int = 1000,
        groups: int = 1,
        width_per_group: int = 64,
        in_channels: int = 3,
    ) -> None:
        super().__init__()
        self.inplanes = 64
        self.groups = groups
        self.base_width = width_per_group
        self.conv1 = nn.Conv2d(
            in_channels, self.inplanes, kernel_size=7, stride=2, padding=3, bias=False
        )
        self.bn1 = nn.BatchNorm2d(self.inplanes)
        self.relu = nn.ReLU(inplace=True)
        self.maxpool = nn.MaxPool2d(kernel_size=3, stride=2, padding=1)
        self.layer1 = self._make_layer(block, 64, layers[0])
        self.layer2 = self._make_layer(block, 128, layers[1], stride=2)
        self.layer3 = self._make_layer(block, 256, layers[2], stride=2)
        self.layer4 = self._make_layer(block, 512, layers[3], stride=2)
        self.avgpool = nn.AdaptiveAvgPool2d((1, 1))
        self.fc = nn.Linear(512 * block.expansion, num_classes)

    def _make_layer(
        self, block: type[BasicBlock] | type[Bottleneck], planes: int, blocks: int, stride: int = 1
    ) -> nn.Sequential:
        downsample = None
        if stride != 1 or self.inplanes != planes * block.expansion:
            downsample = nn.Sequential(
                conv1x1(self.inplanes, planes * block.expansion, stride),
                nn.BatchNorm2d(planes * block.expansion),
            )
        extra = {"groups": self.groups, "base_width": self.base_width}
        layers = [block(self.inplanes, planes, stride, downsample, **extra)]
        self.inplanes = planes * block.expansion
        layers += [block(self.inplanes, planes, **extra) for _ in range(1, blocks)]
        return nn.Sequential(*layers)

    def forward(self, x: Tensor) -> Tensor:
        x = self.maxpool(self.relu(self.bn1(self.conv1(x))))
        x = self.layer4(self.layer3(self.layer2(self.layer1(x))))
        x = torch.flatten(self.avgpool(x), 1)
        return self.fc(x)


class PadShortcut(nn.Module):
    """Option A of He et al. 2016: subsample by the stride and zero-pad the new channels (no parameters).

    The subsampling is a 1x1 average pool with the block's stride, which picks x[:, :, ::s, ::s] exactly
    but states its output size with the same formula as the strided 3x3 conv beside it, so symbolic
    shape analysis can prove the residual addition valid for every input size."""

    def __init__(self, in_planes: int, planes: int, stride: int) -> None:
        super().__init__()
        self.stride = stride
        self.pad = planes - in_planes

    def forward(self, x: Tensor) -> Tensor:
        if self.stride != 1:
            x = F.avg_pool2d(x, kernel_size=1, stride=self.stride)
        n, _, h, w = (
            x.shape
        )  # zero channels by concatenation: F.pad would pin H and W under symbolic sizes
        before, after = self.pad // 2, self.pad - self.pad // 2
        return torch.cat([x.new_zeros(n, before, h, w), x, x.new_zeros(n, after, h, w)], dim=1)


class CifarBasicBlock(nn.Module):
    expansion = 1
    form = ResidualForm(
        "bn2", "shortcut", True, "relu(bn2(conv2(relu(bn1(conv1(x))))) + shortcut(x))"
    )

    def __init__(
        self, in_planes: int, planes: int, stride: int = 1, projection: bool = False
    ) -> None:
        super().__init__()
        self.conv1 = conv3x3(in_planes, planes, stride)
        self.bn1 = nn.BatchNorm2d(planes)
        self.conv2 = conv3x3(planes, planes)
        self.bn2 = nn.BatchNorm2d(planes)
        self.shortcut: nn.Module = nn.Identity()
        if projection:  # option B, as kuangliu/pytorch-cifar
            self.shortcut = _projection(in_planes, planes, stride)
        elif stride != 1 or in_planes != planes:
            self.shortcut = PadShortcut(in_planes, planes, stride)

    def forward(self, x: Tensor) -> Tensor:
        out = F.relu(self.bn1(self.conv1(x)))
        out = self.bn2(self.conv2(out))
        return F.relu(out + self.shortcut(x))


class CifarResNet(nn.Module):
    """ResNet-(6n+2) for 32x32 inputs: conv 3x3/16, then 2n layers each at 16, 32 and 64 channels."""

    def __init__(self, blocks_per_stage: int, num_classes: int = 10, in_channels: int = 3) -> None:
        super().__init__()
        self.in_planes = 16
        self.conv1 = conv3x3(in_channels, 16)
        self.bn1 = nn.BatchNorm2d(16)
        self.layer1 = self._make_layer(16, blocks_per_stage, stride=1)
        self.layer2 = self._make_layer(32, blocks_per_stage, stride=2)
        self.layer3 = self._make_layer(64, blocks_per_stage, stride=2)
        self.avgpool = nn.AdaptiveAvgPool2d((1, 1))
        self.linear = nn.Linear(64, num_classes)

    def _make_layer(self, planes: int, blocks: int, stride: int) -> nn.Sequential:
        layers = []
        for block_stride in [stride] + [1] * (blocks - 1):
            layers.append(CifarBasicBlock(self.in_planes, planes, block_stride))
            self.in_planes = planes
        return nn.Sequential(*layers)

    def forward(self, x: Tensor) -> Tensor:
        out = F.relu(self.bn1(self.conv1(x)))
        out = self.layer3(self.layer2(self.layer1(out)))
        out = torch.flatten(self.avgpool(out), 1)
        return self.linear(out)


class CifarBottleneck(nn.Module):
    """kuangliu/pytorch-cifar's Bottleneck: 1x1, 3x3 (stride), 1x1 to 4x; 1x1 conv + BN projection."""

    expansion = 4
    form = ResidualForm(
        "bn3",
        "shortcut",
        True,
        "relu(bn3(conv3(relu(bn2(conv2(relu(bn1(conv1(x)))))))) + shortcut(x))",
    )

    def __init__(
        self, in_planes: int, planes: int, stride: int = 1, groups: int = 1, base_width: int = 64
    ) -> None:
        super().__init__()
        width = int(planes * base_width / 64) * groups  # torchvision's formula: ResNeXt widens it
        out = planes * self.expansion
        self.conv1 = conv1x1(in_planes, width)
        self.bn1 = nn.BatchNorm2d(width)
        self.conv2 = conv3x3(width, width, stride, groups)
        self.bn2 = nn.BatchNorm2d(width)
        self.conv3 = conv1x1(width, out)
        self.bn3 = nn.BatchNorm2d(out)
        self.shortcut = _projection(in_planes, out, stride)

    def forward(self, x: Tensor) -> Tensor:
        out = F.relu(self.bn1(self.conv1(x)))
        out = F.relu(self.bn2(self.conv2(out)))
        out = self.bn3(self.conv3(out))
        return F.relu(out + self.shortcut(x))


def _projection(in_planes: int, out_planes: int, stride: int, norm: bool = True) -> nn.Module:
    """Option B: a strided 1x1 conv (and BN) where the shape changes, else the identity."""
    if stride == 1 and in_planes == out_planes:
        return nn.Sequential()
    layers: list[nn.Module] = [conv1x1(in_planes, out_planes, stride)]
    return nn.Sequential(*layers, nn.BatchNorm2d(out_planes)) if norm else nn.Sequential(*layers)


class PreActBlock(nn.Module):
    """He et al. 2016b (identity mappings): BN-ReLU-conv twice, nothing after the addition; the
    projection (1x1 conv, no BN) takes the pre-activated input. Also Zagoruyko's wide block."""

    expansion = 1
    form = ResidualForm(
        "conv2",
        "shortcut",
        False,
        "conv2(relu(bn2(conv1(relu(bn1(x)))))) + shortcut(relu(bn1(x))) or x",
    )

    def __init__(self, in_planes: int, planes: int, stride: int = 1) -> None:
        super().__init__()
        self.bn1 = nn.BatchNorm2d(in_planes)
        self.conv1 = conv3x3(in_planes, planes, stride)
        self.bn2 = nn.BatchNorm2d(planes)
        self.conv2 = conv3x3(planes, planes)
        self.shortcut = _projection(in_planes, planes, stride, norm=False)

    def forward(self, x: Tensor) -> Tensor:
        out = F.relu(self.bn1(x))
        shortcut = self.shortcut(out) if len(self.shortcut) else x
        out = self.conv1(out)
        out = self.conv2(F.relu(self.bn2(out)))
        return out + shortcut


class CifarStemResNet(nn.Module):
    """The four-stage layout of kuangliu/pytorch-cifar and its kin: a 3x3 stem without max-pool, stages of
    the given widths (strides 1, 2, 2, ...), global pool, `linear`. Pre-activation blocks get the final
    BN-ReLU of He et al. 2016b (`bn`)."""

    def __init__(
        self,
        block: type[nn.Module],
        layers: Sequence[int],
        widths: Sequence[int],
        num_classes: int = 10,
        in_channels: int = 3,
        stem: int = 64,
        **block_options: int,
    ) -> None:
        super().__init__()
        self.preact = block is PreActBlock
        self.in_planes = stem
        self.conv1 = conv3x3(in_channels, stem)
        if not self.preact:
            self.bn1 = nn.BatchNorm2d(stem)
        for index, (planes, blocks) in enumerate(zip(widths, layers)):
            stride = 1 if index == 0 else 2
            self.add_module(
                f"layer{index + 1}", self._make_layer(block, planes, blocks, stride, block_options)
            )
        if self.preact:
            self.bn = nn.BatchNorm2d(self.in_planes)
        self.avgpool = nn.AdaptiveAvgPool2d((1, 1))
        self.linear = nn.Linear(self.in_planes, num_classes)
        self.stages = len(layers)

    def _make_layer(
        self, block: type[nn.Module], planes: int, blocks: int, stride: int, options: dict[str, int]
    ) -> nn.Sequential:
        layers = []
        for block_stride in [stride] + [1] * (blocks - 1):
            layers.append(block(self.in_planes, planes, block_stride, **options))
            self.in_planes = planes * block.expansion
        return nn.Sequential(*layers)

    def forward(self, x: Tensor) -> Tensor:
        out = self.conv1(x)
        if not self.preact:
            out = F.relu(self.bn1(out))
        for index in range(self.stages):
            out = getattr(self, f"layer{index + 1}")(out)
        if self.preact:
            out = F.relu(self.bn(out))
        return self.linear(torch.flatten(self.avgpool(out), 1))


def _imagenet(ref: Reference) -> Callable[..., nn.Module]:
    block = Bottleneck if ref.block == "bottleneck" else BasicBlock

    def build(num_classes: int = 1000, in_channels: int = 3) -> nn.Module:
        return ResNet(
            block,
            list(ref.layers),
            num_classes=num_classes,
            groups=ref.groups,
            width_per_group=ref.width_per_group,
            in_channels=in_channels,
        )

    return build


CIFAR_STEM_BLOCKS: dict[str, tuple[type[nn.Module], Callable[[Reference], dict[str, int]]]] = {
    "basic": (CifarBasicBlock, lambda ref: {"projection": True}),
    "bottleneck": (
        CifarBottleneck,
        lambda ref: {"groups": ref.groups, "base_width": ref.width_per_group},
    ),
    "preact": (PreActBlock, lambda ref: {}),
}


def _cifar(ref: Reference) -> Callable[..., nn.Module]:
    def build(num_classes: int = 10, in_channels: int = 3) -> nn.Module:
        if ref.shortcut == "zero-pad":
            return CifarResNet(ref.layers[0], num_classes=num_classes, in_channels=in_channels)
        block, options = CIFAR_STEM_BLOCKS[ref.block]
        return CifarStemResNet(
            block,
            ref.layers,
            ref.widths,
            num_classes,
            in_channels,
            ref.stem_width,
            **options(ref),
        )

    return build


def build_reference(
    arch: str, num_classes: int | None = None, in_channels: int | None = None
) -> nn.Module:
    """The reference model ARCH, with the user's class count and input channels when known."""
    ref = REFERENCES[arch]
    factory = _cifar(ref) if ref.family == "cifar" else _imagenet(ref)
    return factory(
        num_classes=num_classes or ref.num_classes,
        in_channels=in_channels or 3,
    )
