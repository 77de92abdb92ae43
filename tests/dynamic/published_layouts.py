"""Expected state_dict layouts, written from the published architectures, independently of reslint's zoo.

torchvision (models/resnet.py): stem conv1 7x7/64 + bn1; four stages of [64, 128, 256, 512] planes;
BasicBlock = conv1 3x3, bn1, conv2 3x3, bn2; Bottleneck = conv1 1x1 to `width`, bn1, conv2 3x3 (groups),
bn2, conv3 1x1 to 4*planes, bn3, where width = int(planes * width_per_group / 64) * groups; the first block
of a stage gets downsample.0 (1x1 conv) + downsample.1 (BN) when the stride or the channels change;
classifier fc. CIFAR (He et al. 2016 section 4.2, akamaster/pytorch_resnet_cifar10 keys): conv1 3x3/16 +
bn1; three stages of [16, 32, 64] channels with 3x3 BasicBlocks and parameter-free option-A shortcuts;
classifier `linear`.

Run `python tests/dynamic/published_layouts.py` to rewrite fixtures/reference/*.txt from these formulas.
"""

from __future__ import annotations

from pathlib import Path

FIXTURES = Path(__file__).resolve().parents[2] / "fixtures" / "reference"

# name: (block, layers, groups, width_per_group)
IMAGENET = {
    "resnet18": ("basic", (2, 2, 2, 2), 1, 64),
    "resnet34": ("basic", (3, 4, 6, 3), 1, 64),
    "resnet50": ("bottleneck", (3, 4, 6, 3), 1, 64),
    "resnet101": ("bottleneck", (3, 4, 23, 3), 1, 64),
    "resnet152": ("bottleneck", (3, 8, 36, 3), 1, 64),
    "resnext50_32x4d": ("bottleneck", (3, 4, 6, 3), 32, 4),
    "resnext101_32x8d": ("bottleneck", (3, 4, 23, 3), 32, 8),
    "resnext101_64x4d": ("bottleneck", (3, 4, 23, 3), 64, 4),
    "wide_resnet50_2": ("bottleneck", (3, 4, 6, 3), 1, 128),
    "wide_resnet101_2": ("bottleneck", (3, 4, 23, 3), 1, 128),
}
CIFAR = {"resnet20": 3, "resnet32": 5, "resnet44": 7, "resnet56": 9, "resnet110": 18}


def _bn(prefix: str, channels: int) -> list[tuple[str, list[int]]]:
    return [
        (f"{prefix}.weight", [channels]),
        (f"{prefix}.bias", [channels]),
        (f"{prefix}.running_mean", [channels]),
        (f"{prefix}.running_var", [channels]),
        (f"{prefix}.num_batches_tracked", []),
    ]


def _conv(prefix: str, out: int, inp: int, k: int) -> list[tuple[str, list[int]]]:
    return [(f"{prefix}.weight", [out, inp, k, k])]


def imagenet_layout(name: str, num_classes: int = 1000) -> dict[str, list[int]]:
    block, layers, groups, width_per_group = IMAGENET[name]
    expansion = 4 if block == "bottleneck" else 1
    entries = _conv("conv1", 64, 3, 7) + _bn("bn1", 64)
    inplanes = 64
    for stage, (planes, blocks) in enumerate(zip((64, 128, 256, 512), layers), start=1):
        for index in range(blocks):
            p = f"layer{stage}.{index}"
            if block == "basic":
                entries += _conv(f"{p}.conv1", planes, inplanes, 3) + _bn(f"{p}.bn1", planes)
                entries += _conv(f"{p}.conv2", planes, planes, 3) + _bn(f"{p}.bn2", planes)
            else:
                width = int(planes * width_per_group / 64) * groups
                entries += _conv(f"{p}.conv1", width, inplanes, 1) + _bn(f"{p}.bn1", width)
                entries += _conv(f"{p}.conv2", width, width // groups, 3) + _bn(f"{p}.bn2", width)
                entries += _conv(f"{p}.conv3", planes * 4, width, 1) + _bn(f"{p}.bn3", planes * 4)
            first_of_strided_stage = index == 0 and stage > 1
            if index == 0 and (first_of_strided_stage or inplanes != planes * expansion):
                entries += _conv(f"{p}.downsample.0", planes * expansion, inplanes, 1)
                entries += _bn(f"{p}.downsample.1", planes * expansion)
            inplanes = planes * expansion
    entries += [("fc.weight", [num_classes, 512 * expansion]), ("fc.bias", [num_classes])]
    return dict(entries)


def cifar_layout(name: str, num_classes: int = 10) -> dict[str, list[int]]:
    blocks = CIFAR[name]
    entries = _conv("conv1", 16, 3, 3) + _bn("bn1", 16)
    inplanes = 16
    for stage, planes in enumerate((16, 32, 64), start=1):
        for index in range(blocks):
            p = f"layer{stage}.{index}"
            entries += _conv(f"{p}.conv1", planes, inplanes, 3) + _bn(f"{p}.bn1", planes)
            entries += _conv(f"{p}.conv2", planes, planes, 3) + _bn(f"{p}.bn2", planes)
            inplanes = planes
    entries += [("linear.weight", [num_classes, 64]), ("linear.bias", [num_classes])]
    return dict(entries)


def published_layout(name: str) -> dict[str, list[int]]:
    return imagenet_layout(name) if name in IMAGENET else cifar_layout(name)


def trainable_count(layout: dict[str, list[int]]) -> int:
    """Parameters (not buffers) in a layout: everything but BN running statistics."""
    total = 0
    for key, shape in layout.items():
        if key.endswith(("running_mean", "running_var", "num_batches_tracked")):
            continue
        count = 1
        for size in shape:
            count *= size
        total += count
    return total


def main() -> None:
    import sys

    sys.path.insert(0, str(FIXTURES.parents[1]))
    from reslint.dynamic.statedict import format_layout

    FIXTURES.mkdir(parents=True, exist_ok=True)
    for name in [*IMAGENET, *CIFAR]:
        header = f"# {name}: state_dict key and shape per line, from the published architecture\n"
        (FIXTURES / f"{name}.txt").write_text(header + format_layout(published_layout(name)))


if __name__ == "__main__":
    main()
