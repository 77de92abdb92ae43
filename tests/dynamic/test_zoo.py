"""The reference zoo: exact parameter counts, torchvision's state_dict layout, and inputs it accepts."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest
from conftest import NO_TORCH

torch = pytest.importorskip("torch", reason=NO_TORCH)

from reslint.dynamic.catalogue import REFERENCES  # noqa: E402
from reslint.dynamic.statedict import format_layout, parse_layout  # noqa: E402
from reslint.dynamic.zoo import PadShortcut, build_reference  # noqa: E402

sys.path.insert(0, str(Path(__file__).parent))
from published_layouts import CIFAR, FIXTURES, IMAGENET, published_layout, trainable_count  # noqa: E402

# torchvision's published parameter counts (torchvision.models docs, "Params" column).
TORCHVISION = {
    "resnet18": 11_689_512,
    "resnet34": 21_797_672,
    "resnet50": 25_557_032,
    "resnet101": 44_549_160,
    "resnet152": 60_192_808,
    "resnext50_32x4d": 25_028_904,
    "resnext101_32x8d": 88_791_336,
    "resnext101_64x4d": 83_455_272,
    "wide_resnet50_2": 68_883_240,
    "wide_resnet101_2": 126_886_696,
}


def cifar_count(depth: int, classes: int = 10) -> int:
    """He et al. 2016 4.2 with option A, by hand: 3x3 convs without bias, BN (2 per channel), Linear(64)."""
    n = (depth - 2) // 6
    total = 3 * 16 * 9 + 2 * 16  # stem
    inplanes = 16
    for planes in (16, 32, 64):
        for _ in range(n):
            total += inplanes * planes * 9 + planes * planes * 9 + 4 * planes
            inplanes = planes
    return total + 64 * classes + classes


def meta_model(arch: str, **kwargs: int) -> torch.nn.Module:
    with torch.device("meta"):
        return build_reference(arch, **kwargs)


def count(model: torch.nn.Module) -> int:
    return sum(p.numel() for p in model.parameters())


def layout(model: torch.nn.Module) -> dict[str, list[int]]:
    return {key: list(value.shape) for key, value in model.state_dict().items()}


def test_the_catalogue_lists_every_reference_once() -> None:
    assert set(REFERENCES) == set(TORCHVISION) | set(CIFAR) | set(CIFAR_STEM)


@pytest.mark.parametrize("arch", sorted(TORCHVISION))
def test_imagenet_parameter_counts_equal_torchvision(arch: str) -> None:
    assert count(meta_model(arch)) == TORCHVISION[arch]
    assert REFERENCES[arch].parameters == TORCHVISION[arch]


@pytest.mark.parametrize("arch", sorted(CIFAR))
def test_cifar_parameter_counts_follow_the_paper(arch: str) -> None:
    depth = int(arch.removeprefix("resnet"))
    assert count(meta_model(arch)) == cifar_count(depth)
    assert REFERENCES[arch].parameters == cifar_count(depth)


def test_cifar_counts_round_to_the_papers_figures() -> None:
    """Table 6 of He et al. 2016: 0.27M, 0.46M, 0.66M, 0.85M, 1.7M."""
    paper = {
        "resnet20": 0.27,
        "resnet32": 0.46,
        "resnet44": 0.66,
        "resnet56": 0.85,
        "resnet110": 1.7,
    }
    for arch, millions in paper.items():
        digits = 1 if millions >= 1 else 2
        assert round(REFERENCES[arch].parameters / 1e6, digits) == millions


@pytest.mark.parametrize("arch", sorted([*IMAGENET, *CIFAR]))
def test_state_dict_layout_equals_the_published_one(arch: str) -> None:
    expected = parse_layout((FIXTURES / f"{arch}.txt").read_text())
    assert layout(meta_model(arch)) == expected  # keys, order and shapes


@pytest.mark.parametrize("arch", sorted([*IMAGENET, *CIFAR]))
def test_layout_fixtures_are_what_the_formulas_give(arch: str) -> None:
    """The fixture files are not stale: regenerating them from the block formulas changes nothing."""
    text = (FIXTURES / f"{arch}.txt").read_text()
    body = "".join(line + "\n" for line in text.splitlines() if not line.startswith("#"))
    assert body == format_layout(published_layout(arch))
    expected = TORCHVISION.get(arch) or cifar_count(int(arch.removeprefix("resnet")))
    assert trainable_count(published_layout(arch)) == expected


def test_classes_and_input_channels_follow_the_user() -> None:
    model = meta_model("resnet50", num_classes=10, in_channels=1)
    assert model.fc.out_features == 10 and model.conv1.in_channels == 1
    cifar = meta_model("resnet20", num_classes=100, in_channels=4)
    assert cifar.linear.out_features == 100 and cifar.conv1.in_channels == 4


@pytest.mark.parametrize(
    "arch", ["resnet18", "resnext50_32x4d", "resnet20", "preact_resnet18", "resnext29_8x64d"]
)
@pytest.mark.parametrize("batch,height,width", [(1, 1, 1), (2, 7, 33), (1, 224, 97), (3, 31, 2)])
def test_references_accept_every_size(arch: str, batch: int, height: int, width: int) -> None:
    """The claim the comparison relies on (catalogue.REFERENCE_VALID_FROM): any N x C x H x W >= 1 works
    in eval mode and gives [N, classes]."""
    model = meta_model(arch).eval()
    with torch.no_grad():
        out = model(torch.empty(batch, 3, height, width, device="meta"))
    assert tuple(out.shape) == (batch, REFERENCES[arch].num_classes)


def test_option_a_shortcut_subsamples_and_zero_pads() -> None:
    x = torch.arange(2 * 16 * 5 * 7, dtype=torch.float32).reshape(2, 16, 5, 7)
    out = PadShortcut(16, 32, 2)(x)
    assert out.shape == (2, 32, 3, 4)
    assert torch.equal(out[:, 8:24], x[:, :, ::2, ::2])
    assert not out[:, :8].any() and not out[:, 24:].any()


# The CIFAR-stem layouts: (block, blocks per stage, planes per stage, stem width, groups).
CIFAR_STEM = {
    "resnet18_cifar": ("basic", (2, 2, 2, 2), (64, 128, 256, 512), 64, 1),
    "resnet34_cifar": ("basic", (3, 4, 6, 3), (64, 128, 256, 512), 64, 1),
    "resnet50_cifar": ("bottleneck", (3, 4, 6, 3), (64, 128, 256, 512), 64, 1),
    "resnet101_cifar": ("bottleneck", (3, 4, 23, 3), (64, 128, 256, 512), 64, 1),
    "resnet152_cifar": ("bottleneck", (3, 8, 36, 3), (64, 128, 256, 512), 64, 1),
    "preact_resnet18": ("preact", (2, 2, 2, 2), (64, 128, 256, 512), 64, 1),
    "preact_resnet34": ("preact", (3, 4, 6, 3), (64, 128, 256, 512), 64, 1),
    "wrn28_10": ("preact", (4, 4, 4), (160, 320, 640), 16, 1),
    "resnext29_8x64d": ("bottleneck", (3, 3, 3), (64, 128, 256), 64, 8),
}


def cifar_stem_count(arch: str, classes: int = 10) -> int:
    """By hand: a 3x3 stem (BN after it unless pre-activation), stages at strides 1, 2, 2...; basic blocks
    3x3 + 3x3, bottlenecks 1x1 + 3x3 (grouped, width = planes x groups) + 1x1 to 4x; a 1x1 projection
    (+ BN, none in pre-activation blocks) where the shape changes; pre-activation blocks put a BN before
    each conv and one after the last stage; the classifier on the last stage's channels."""
    block, layers, widths, stem, groups = CIFAR_STEM[arch]

    def conv(cin: int, cout: int, kernel: int, group: int = 1) -> int:
        return cin // group * cout * kernel * kernel

    total = conv(3, stem, 3) + (0 if block == "preact" else 2 * stem)
    cin = stem
    for index, (planes, blocks) in enumerate(zip(widths, layers)):
        for number in range(blocks):
            stride = 2 if index and not number else 1
            if block == "bottleneck":
                width, out = planes * groups, 4 * planes
                total += conv(cin, width, 1) + conv(width, width, 3, groups) + conv(width, out, 1)
                total += 2 * (width + width + out)
            else:
                out = planes
                total += conv(cin, planes, 3) + conv(planes, planes, 3)
                total += 2 * (cin + planes) if block == "preact" else 4 * planes
            if stride != 1 or cin != out:
                total += conv(cin, out, 1) + (0 if block == "preact" else 2 * out)
            cin = out
    if block == "preact":
        total += 2 * cin
    return total + cin * classes + classes


@pytest.mark.parametrize("arch", sorted(CIFAR_STEM))
def test_cifar_stem_counts_follow_the_layout(arch: str) -> None:
    assert count(meta_model(arch)) == cifar_stem_count(arch)
    assert REFERENCES[arch].parameters == cifar_stem_count(arch)


def test_wide_and_resnext_counts_round_to_the_papers_figures() -> None:
    """WRN-28-10: 36.5M (Zagoruyko and Komodakis 2016); ResNeXt-29 8x64d: 34.4M (Xie et al. 2017, Table 7)."""
    assert round(REFERENCES["wrn28_10"].parameters / 1e6, 1) == 36.5
    assert round(REFERENCES["resnext29_8x64d"].parameters / 1e6, 1) == 34.4
