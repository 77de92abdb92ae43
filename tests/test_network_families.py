"""Which networks the factories of a file declare are built: one per family (reslint.model.network_families)."""

from __future__ import annotations

import textwrap

import libcst as cst

from reslint.model import build_module_model
from reslint.model.symbolic import Expr
from reslint.model.values import Layer

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


ANNOTATED = """
import torch.nn as nn

class Block(nn.Module):
    def __init__(self, c):
        super().__init__()
        self.conv = nn.Conv2d(c, c, 3, padding=1, bias=False)
    def forward(self, x):
        return x + self.conv(x)

class Other(Block):
    pass

class Net(nn.Module):
    def __init__(self, block: type[Block | Other], width=64):
        super().__init__()
        self.body = block(width)
    def forward(self, x):
        return self.body(x)
"""


def networks_built(factories: str) -> list[tuple[str, object]]:
    """Each `Net` built with a block class: (the class, its width)."""
    source = textwrap.dedent(ANNOTATED) + textwrap.dedent(factories)
    model = build_module_model(cst.parse_module(source), source, "nets.py")
    model.instances()
    built = []
    for instance in model.class_named("Net").instances():
        body = instance.attrs.get("body")
        if isinstance(body, Layer) and body.cls is not None:
            width = body.args["c"]
            built.append(
                (body.cls.name, width.constant if width.constant is not None else str(width))
            )
    return sorted(built, key=str)


def test_a_class_an_annotation_offers_is_tried_unless_a_factory_builds_the_network_with_it() -> (
    None
):
    # No factory: Net is tried with each annotated block, its width left open.
    assert networks_built("") == [("Block", "width"), ("Other", "width")]
    # A factory builds Net with Block: that network stands for the annotation's Block (Net is
    # built with Block once, not also with its arguments but the class left open; the width the
    # file always passes is the width of every Net).
    assert networks_built("""
        def net():
            return Net(Block, width=32)
    """) == [("Block", 32.0), ("Other", 32.0)]
