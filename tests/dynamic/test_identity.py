"""Name what it is: the reference the model is, its blocks per stage and the known variants it has (RD111),
and hints that name the variant instead of "remove it". In this process (no worker)."""

from __future__ import annotations

from pathlib import Path

import pytest
from conftest import NO_TORCH

torch = pytest.importorskip("torch", reason=NO_TORCH)

from reslint.dynamic.compare import Request, compare  # noqa: E402

REPO = Path(__file__).resolve().parents[2]


@pytest.fixture(autouse=True, scope="module")
def one_thread() -> None:
    torch.set_num_threads(1)  # a shared CI machine: threads only contend


def run(arch: str, target: str) -> dict:
    return compare(Request(arch, str(REPO / target)), lambda *args, **kwargs: None)


def first(result: dict, code: str) -> dict:
    return next(f for f in result["findings"] if f["code"] == code)


CASES = [
    # (arch, target, blocks, closest, variants, words of RD111, words of the RD101 hint)
    (
        "resnet50",
        "fixtures/models/tv_resnet.py:resnet34",
        [3, 4, 6, 3],
        "resnet34",
        [],
        "this is resnet34: blocks [3, 4, 6, 3] of basic blocks",
        None,
    ),
    (
        "resnet50",
        "fixtures/clean/kuangliu_resnet.py:ResNet50",
        [3, 4, 6, 3],
        "resnet50_cifar",
        ["cifar-stem"],
        "this is resnet50_cifar",
        "CIFAR stem",
    ),
    (
        "resnet50",
        "fixtures/models/resnet50_variants.py:deep_stem",
        [3, 4, 6, 3],
        None,
        ["deep-stem"],
        "deep stem",
        "deep stem",
    ),
    (
        "resnet50",
        "fixtures/models/resnet50_variants.py:stride_on_1x1",
        [3, 4, 6, 3],
        "resnet50",
        ["v1-stride"],
        "ResNet v1",
        "ResNet v1",
    ),
    (
        "resnet50",
        "fixtures/models/resnet50_variants.py:extra_block",
        [3, 4, 7, 3],
        None,
        [],
        "[3, 4, 7, 3]",
        "layer3 has 7 blocks where resnet50 has 6",
    ),
    (
        "resnet20",
        "fixtures/models/cifar_variants.py:OptionB",
        [3, 3, 3],
        None,
        ["projection-shortcuts"],
        "option-B",
        "option-B",
    ),
    (
        "resnet50",
        "fixtures/models/bug_conv_bias.py:resnet50",
        [3, 4, 6, 3],
        None,
        ["conv-bias"],
        "a bias on every conv",
        None,
    ),
]


@pytest.mark.parametrize(
    ("arch", "target", "blocks", "closest", "variants", "says", "hint"),
    CASES,
    ids=[case[1].rpartition("/")[2] for case in CASES],
)
def test_the_model_is_named_with_its_variant(
    arch: str,
    target: str,
    blocks: list[int],
    closest: str | None,
    variants: list[str],
    says: str,
    hint: str | None,
) -> None:
    result = run(arch, target)
    assert result["verdict"] == "differs"
    identity = result["identity"]
    assert (identity["blocks"], identity["closest"], identity["variants"]) == (
        blocks,
        closest,
        variants,
    )
    note = result["findings"][0]
    assert note["code"] == "RD111" and says in note["message"], result["findings"]
    if hint is not None:
        shape = first(result, "RD101")
        assert hint in shape["hint"] and "remove" not in shape["hint"], shape


def test_state_dict_hint_renames_only_the_modules_that_differ() -> None:
    """kuangliu names the projection `shortcut` where torchvision says `downsample`: only those keys are
    listed, and the hint renames them to the reference's names."""
    report = first(run("resnet50", "fixtures/clean/kuangliu_resnet.py:ResNet50"), "RD105")
    assert "26 missing" in report["message"] and "layer1.0.shortcut.0.weight" in report["message"]
    assert "layer1.0.conv1.weight" not in report["message"]  # a key that loads is not listed
    assert "layer1.0.shortcut.0 → layer1.0.downsample.0" in report["hint"]


def test_state_dict_hint_uses_the_references_own_head_name() -> None:
    """A CIFAR reference's classifier is `linear`, not torchvision's `fc`."""
    result = run("resnet20", "tests/dynamic/samples/cifar_styles.py:StagedNet")
    hint = first(result, "RD105")["hint"]
    assert "head → linear" in hint and "fc" not in hint.split(), hint
