"""The committed torch.nn name lists match the installed torch, and suggest() finds the intended spelling."""

from __future__ import annotations

import importlib.util
import subprocess
import sys
from pathlib import Path

import pytest

from reslint import nn_names
from reslint.nn_names import FUNCTIONAL_NAMES, INIT_NAMES, NN_NAMES, suggest

needs_torch = pytest.mark.skipif(
    importlib.util.find_spec("torch") is None,
    reason="torch is not installed (install the 'dynamic' extra to check the lists against it)",
)


@needs_torch
@pytest.mark.parametrize("constant", ["NN_NAMES", "FUNCTIONAL_NAMES", "INIT_NAMES"])
def test_lists_match_installed_torch(constant: str) -> None:
    installed = nn_names.collect_from_torch()[constant]
    committed = getattr(nn_names, constant)
    assert committed == installed, (
        f"{constant} is stale: missing {sorted(installed - committed)}, gone {sorted(committed - installed)}; "
        "run `python -m reslint.nn_names --regenerate`"
    )


@needs_torch
def test_generated_block_is_what_the_generator_writes() -> None:
    source = Path(nn_names.__file__).read_text(encoding="utf-8")
    assert nn_names.render_generated(nn_names.collect_from_torch()) in source


def test_lists_hold_the_layers_resnets_use() -> None:
    assert {
        "Conv2d",
        "BatchNorm2d",
        "ReLU",
        "Sequential",
        "ModuleList",
        "AdaptiveAvgPool2d",
    } <= NN_NAMES
    assert {"functional", "init", "utils"} <= NN_NAMES  # submodules are attributes too
    assert {"relu", "conv2d", "adaptive_avg_pool2d", "batch_norm"} <= FUNCTIONAL_NAMES
    assert {"kaiming_normal_", "constant_", "zeros_"} <= INIT_NAMES
    assert not any(name.startswith("_") for name in NN_NAMES | FUNCTIONAL_NAMES | INIT_NAMES)


def test_importing_nn_names_does_not_import_torch() -> None:
    probe = "import sys, reslint.nn_names; print('torch' in sys.modules)"
    result = subprocess.run(
        [sys.executable, "-c", probe], capture_output=True, text=True, check=True
    )
    assert result.stdout.strip() == "False"


@pytest.mark.parametrize(
    ("name", "candidates", "expected"),
    [
        ("conv2d", NN_NAMES, "Conv2d"),
        ("Batchnorm2d", NN_NAMES, "BatchNorm2d"),
        ("BatchNorm2D", NN_NAMES, "BatchNorm2d"),
        ("relu", NN_NAMES, "ReLU"),
        ("Relu", FUNCTIONAL_NAMES, "relu"),
        ("Conv2d", FUNCTIONAL_NAMES, "conv2d"),
        ("batchnorm", FUNCTIONAL_NAMES, "batch_norm"),
        ("Sequencial", NN_NAMES, "Sequential"),
        ("Identiy", NN_NAMES, "Identity"),
        ("AdaptiveAvgPool", NN_NAMES, "AdaptiveAvgPool2d"),
        ("kaiming_norm_", INIT_NAMES, "kaiming_normal_"),
    ],
)
def test_suggest_finds_the_intended_name(
    name: str, candidates: frozenset[str], expected: str
) -> None:
    assert suggest(name, candidates) == expected


def test_suggest_returns_an_existing_name_unchanged() -> None:
    assert suggest("Conv2d", NN_NAMES) == "Conv2d"


@pytest.mark.parametrize("name", ["xyzzy", "TotallyUnrelatedThing", ""])
def test_suggest_gives_nothing_when_nothing_is_close(name: str) -> None:
    assert suggest(name, NN_NAMES) is None


def test_suggest_with_no_candidates() -> None:
    assert suggest("Conv2d", []) is None
