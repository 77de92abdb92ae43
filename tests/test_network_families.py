"""Which networks the factories of a file declare are built: one per family (reslint.model.network_families)."""

from __future__ import annotations

import textwrap

import libcst as cst

from reslint.model import build_module_model
from reslint.model.symbolic import Expr

NETWORK = """
import torch.nn as nn

class Block(nn.Module):
    def __init__(self, c, groups=1):
        super().__init__()
        self.conv = nn.Conv2d(c, c, 3, padding=1, groups=groups, bias=False)
        self.bn = nn.BatchNorm2d(c)
    def forward(self, x):
        return x + self.bn(self.conv(x))

class Wide(Block):
    pass

class Net(nn.Module):
    def __init__(self, block, blocks, width=64, groups=1, depth=18):
        super().__init__()
        if depth >= 50:
            width = width * 4
        self.stem = nn.Conv2d(3, width, 7, 2, 3)
        self.body = nn.Sequential(*[block(width, groups) for _ in range(blocks)])
    def forward(self, x):
        return self.body(self.stem(x))
"""


def built_widths(factories: str) -> list[float]:
    """The stem width of each `Net` the model builds with known numbers (its generic instance, built
    with symbols, left out)."""
    source = textwrap.dedent(NETWORK) + textwrap.dedent(factories)
    model = build_module_model(cst.parse_module(source), source, "nets.py")
    model.instances()
    widths = []
    for instance in model.class_named("Net").instances():
        width = instance.attrs["stem"].args.get("out_channels")
        if isinstance(width, Expr) and width.constant is not None:
            widths.append(width.constant)
    return sorted(widths)


def test_networks_that_differ_only_in_numbers_that_size_layers_are_built_once() -> None:
    widths = built_widths("""
        def net_a():
            return Net(Block, 2)
        def net_b():
            return Net(Block, 3, width=128)
        def net_c():
            return Net(Block, 4, groups=32)
    """)
    assert widths == [64.0]


def test_a_number_the_code_tests_picks_another_network() -> None:
    widths = built_widths("""
        def net18():
            return Net(Block, 2, depth=18)
        def net34():
            return Net(Block, 3, depth=34)
        def net50():
            return Net(Block, 3, depth=50)
    """)
    # depth decides `if depth >= 50`: all three are built (18 and 34 build the same widths).
    assert widths == [64.0, 64.0, 256.0]


def test_other_blocks_or_other_values_than_numbers_are_other_networks() -> None:
    widths = built_widths("""
        def narrow():
            return Net(Block, 2)
        def wide():
            return Net(Wide, 2, width=96)
    """)
    assert widths == [64.0, 96.0]


def test_a_helper_that_leaves_its_blocks_to_its_callers_is_built_through_them_only() -> None:
    widths = built_widths("""
        def _net(block, blocks, **kwargs):
            return Net(block, blocks, **kwargs)
        def net_a():
            return _net(Block, 2, width=32)
    """)
    assert widths == [32.0]  # not also _net's own Net, at the default width
