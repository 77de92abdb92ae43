"""The CIFAR-stem references against the models written the way kuangliu/pytorch-cifar writes them
(fixtures/clean/): same parameters (the counts tests/dynamic/test_zoo.py derives by hand), same layers,
same function, and the checkpoint layout loads. In this process (no worker): these run in seconds."""

from __future__ import annotations

from pathlib import Path

import pytest
from conftest import NO_TORCH

torch = pytest.importorskip("torch", reason=NO_TORCH)

from test_zoo import cifar_stem_count  # noqa: E402

from reslint.dynamic.compare import Request, compare  # noqa: E402

CLEAN = Path(__file__).resolve().parents[2] / "fixtures" / "clean"


def run(arch: str, target: str) -> dict:
    return compare(Request(arch, f"{CLEAN}/{target}"), lambda *args, **kwargs: None)


@pytest.fixture(autouse=True, scope="module")
def one_thread() -> None:
    torch.set_num_threads(1)  # a shared CI machine: threads only contend


@pytest.mark.parametrize(
    ("arch", "target"),
    [
        ("resnet18_cifar", "kuangliu_resnet.py:ResNet18"),
        ("resnet50_cifar", "kuangliu_resnet.py:ResNet50"),
        ("preact_resnet18", "preact_resnet.py:PreActResNet18"),
    ],
)
def test_kuangliu_style_models_match_the_cifar_stem_references(arch: str, target: str) -> None:
    result = run(arch, target)
    assert result["verdict"] == "matches", result["findings"]
    count = cifar_stem_count(arch)
    assert result["parameters"] == {"model": count, "reference": count}
    assert result["equivalence"]["status"] == "matches"
    assert result["state_dict"]["loads"], result["state_dict"]
    assert not any(row["differs"] for row in result["layers"])
