"""model.switches: code behind an instance flag that the file only ever turns off."""

import libcst as cst

from reslint.model import build_module_model
from reslint.model.switches import behind_switch_left_off

SOURCE = """
import torch.nn as nn
class Stage(nn.Module):
    def __init__(self):
        super().__init__()
        self.fast = False
        self.mode = None
        self.on = False
    def turn_on(self):
        self.on = True
    def forward(self, x):
        if self.fast:
            x = self.a(x)
        if not self.fast:
            x = self.b(x)
        if self.mode is not None:
            x = self.c(x)
        if self.on:
            x = self.d(x)
        return self.e(x) if self.fast else x
"""


def _reads() -> tuple[dict[str, cst.Attribute], object]:
    source = SOURCE.strip() + "\n"
    module = build_module_model(cst.parse_module(source), source, "example.py")
    reads = {
        attribute.attr.value: attribute
        for attribute, _ in module.names.attributes
        if attribute.attr.value in {"a", "b", "c", "d", "e"}
    }
    return reads, module


def test_a_read_behind_a_flag_the_file_only_turns_off_is_switched_off() -> None:
    reads, module = _reads()
    assert behind_switch_left_off(reads["a"], "self", module)
    assert behind_switch_left_off(reads["c"], "self", module)  # `is not None`, only None given
    # the body of a conditional expression
    assert behind_switch_left_off(reads["e"], "self", module)


def test_the_other_way_or_a_flag_the_file_turns_on_is_not() -> None:
    reads, module = _reads()
    assert not behind_switch_left_off(reads["b"], "self", module)
    assert not behind_switch_left_off(reads["d"], "self", module)  # `turn_on` sets it True
