"""Seed 000 (a hand-typed copy of torchvision's resnet.py) has the five crash bugs --fix mends: a wrong
`super()`, a bare `downsample`, `indentity`, `nn.conv2d`, `NotImplementError`. As published, its
BasicBlock cannot be built or run and its Bottleneck fails in super(); after `reslint --fix` (safe
fixes only) BasicBlock builds and runs, and Bottleneck stops only at a bug --fix leaves alone.

The seed also has syntax errors (RN001, not fixable) and a relative import; the test repairs those
itself, the same way for the published and the fixed file, so that the module can be loaded at all.
Annotations are not evaluated (the seed names an undefined `ResNet` in them, RN117, a separate bug)."""

from __future__ import annotations

import types
from pathlib import Path

import pytest

from reslint.engine import Checks
from reslint.fixer import fix_text

SEED = (
    Path(__file__).resolve().parents[2] / "fixtures" / "seeds" / "seed000_resnet_official_copy.py"
)

# What the syntax errors' hints say to write (did you mean `...`, `:`, `]`, `norm_layer=norm_layer`).
SYNTAX_REPAIRS = {
    "Callable[..,nn.Module]": "Callable[...,nn.Module]",
    "norm_layer = Optional[": "norm_layer: Optional[",
    "Type[Union[[BasicBlock,Bottleneck]]": "Type[Union[BasicBlock,Bottleneck]]",
    "                                norm_layer))": "                                norm_layer=norm_layer))",
    "from .utils import load_state_dict_from_url": "",
}


def load(text: str) -> types.ModuleType:
    for wrong, right in SYNTAX_REPAIRS.items():
        assert wrong in text
        text = text.replace(wrong, right)
    module = types.ModuleType("seed000")
    exec(compile("from __future__ import annotations\n" + text, str(SEED), "exec"), module.__dict__)
    return module


def run_blocks(module: types.ModuleType) -> list[tuple[int, ...]]:
    """BasicBlock with and without a projection shortcut, built and run on a small input."""
    import torch

    downsample = torch.nn.Sequential(module.conv1x1(64, 128, 2), torch.nn.BatchNorm2d(128))
    blocks = [module.BasicBlock(64, 64), module.BasicBlock(64, 128, 2, downsample)]
    with torch.no_grad():
        return [tuple(block.eval()(torch.randn(1, 64, 16, 16)).shape) for block in blocks]


def test_published_blocks_crash() -> None:
    published = load(SEED.read_text(encoding="utf-8"))
    with pytest.raises((AttributeError, NameError, UnboundLocalError)):
        run_blocks(published)
    with pytest.raises(TypeError, match="super"):
        published.Bottleneck(256, 64)


def test_fixed_blocks_build_and_run() -> None:
    outcome = fix_text(SEED.read_text(encoding="utf-8"), str(SEED), Checks.every())
    assert {"RN101", "RN102", "RN103", "RN105", "RN106"} <= set(outcome.fixed)
    fixed = load(outcome.text)
    assert run_blocks(fixed) == [(1, 64, 16, 16), (1, 128, 8, 8)]
    with pytest.raises(NotImplementedError):  # the guard now raises what it meant to
        fixed.BasicBlock(64, 64, dilation=2)
    # Bottleneck gets past super() now, and stops at a bug --fix leaves alone (RN111: conv1x1 is
    # called with five arguments), which reslint still reports.
    with pytest.raises(TypeError, match="conv1x1"):
        fixed.Bottleneck(256, 64)
    assert "RN111" in {finding.code for finding in outcome.findings}
