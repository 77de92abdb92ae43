"""Spatial sizes along a residual branch (reslint.model.spatial), as RN318 asks them."""

from __future__ import annotations

from test_model import model_of

from reslint.model.queries import residuals
from reslint.model.spatial import size_after

BLOCK = """
import torch.nn as nn
class Block(nn.Module):
    def __init__(self, c, stride=1):
        super().__init__()
        self.conv1 = nn.Conv2d(c, c, 1, padding={pad})
        self.conv2 = nn.Conv2d(c, c, 3, stride=stride, padding=1)
        self.pool = nn.MaxPool2d(3, stride=1, padding=1{ceil})
        self.proj = nn.Conv2d(c, c, 1, stride=stride)
    def forward(self, x):
        return self.pool(self.conv2(self.conv1(x))) + self.proj(x)
"""


def _sizes(pad: int, ceil: str = "", stride: int = 1, size: int = 56) -> tuple:
    (instance,) = [i for i in model_of(BLOCK.format(pad=pad, ceil=ceil)).instances()]
    (residual,) = residuals(instance)
    lookup = lambda name, _domain: stride if "stride" in name else None  # noqa: E731
    return size_after(residual.main, size, lookup), size_after(residual.shortcuts[0], size, lookup)


def test_padding_that_keeps_the_size_matches_the_projection_at_every_stride() -> None:
    assert _sizes(0) == (56, 56)
    assert _sizes(0, stride=2, size=57) == (29, 29)


def test_a_padded_pointwise_conv_grows_the_branch_by_two() -> None:
    assert _sizes(1) == (58, 56)
    assert _sizes(1, stride=2) == (29, 28)


def test_a_pooling_that_may_round_up_has_no_known_size() -> None:
    assert _sizes(0, ceil=", ceil_mode=flag")[0] is None
    assert _sizes(0, ceil=", ceil_mode=False") == (56, 56)
