"""Name-binding facts from pyflakes (reslint.model.bindings), and the torch facts the name rules keep."""

from __future__ import annotations

import textwrap

import libcst as cst
import pytest

from reslint.model import build_module_model
from reslint.model.bindings import names_lost_in_repair
from reslint.syntax import parse_source

NAME_LISTS_NEED_TORCH = "the name lists are checked against an installed torch"


def undefined(source: str, original: str | None = None) -> list[tuple[str, int, int]]:
    """(name, line, column) of each undefined read, placed by libcst."""
    source = textwrap.dedent(source)
    module = build_module_model(cst.parse_module(source), source, "example.py", original=original)
    return [(u.name, *module.position(u.node)[:2]) for u in module.undefined_names]


def test_undefined_names_are_placed_on_the_libcst_node() -> None:
    source = """
    import torch.nn as nn
    class Resnet(nn.Module):
        pass
    def resnet18() -> ResNet:
        return Resnet(conv3x3)
    """
    assert undefined(source) == [("ResNet", 5, 19), ("conv3x3", 6, 19)]


def test_columns_after_non_ascii_text() -> None:
    # ast counts bytes, libcst characters: the name after the Chinese string is still found.
    source = 'def f():\n    print("残差网络", x)\n'
    assert undefined(source) == [("x", 2, 19)]


def test_scoping_is_pythons() -> None:
    source = """
    class Block:
        expansion = 4
        width = 64 * expansion
        def forward(self, x):
            return x * expansion  # a class attribute is not a name in a method
    def later():
        return defined_after
    defined_after = 1
    try:
        import numpy
    except ImportError:
        numpy = None
    """
    assert undefined(source) == [("expansion", 6, 20)]


def test_nothing_is_claimed_under_a_star_import() -> None:
    assert (
        undefined("from torch.nn import *\nlayer = Conv2d(3, 8, 3)\nother = undefined_too\n") == []
    )


def test_names_a_syntax_repair_may_have_removed_are_not_claimed() -> None:
    # The broken definition is blanked (`pass`), so the repaired source reads a name it never binds.
    original = "conv3x3 = = lambda a, b: nn.Conv2d(a, b, 3)\nlayer = conv3x3(1, 2)\n"
    parsed = parse_source(original)
    assert parsed.module is not None and parsed.recovered is not None
    module = build_module_model(parsed.module, parsed.recovered, "x.py", original=original)
    assert "conv3x3" in module.lost_in_repair
    assert [u.name for u in module.undefined_names] == []
    # Without the original text the same repaired source would claim it.
    bare = build_module_model(parsed.module, parsed.recovered, "x.py")
    assert [u.name for u in bare.undefined_names] == ["conv3x3"]


def test_lost_in_repair_lists_identifiers_of_changed_lines_only() -> None:
    assert names_lost_in_repair("a = 1\nb c\n", "a = 1\n\n") == frozenset({"b", "c"})
    assert names_lost_in_repair("same\n", "same\n") == frozenset()


# ----- the torch facts the name rules keep, against the installed torch ----------------------------


def test_nn_module_attributes_match_torch() -> None:
    torch = pytest.importorskip("torch", reason=NAME_LISTS_NEED_TORCH)
    from reslint.rules.RN116_undefined_self_attribute import NN_MODULE_ATTRIBUTES

    actual = {name for name in dir(torch.nn.Module()) if not name.startswith("__")}
    assert actual == NN_MODULE_ATTRIBUTES


def test_torch_functional_names_match_torch() -> None:
    pytest.importorskip("torch", reason=NAME_LISTS_NEED_TORCH)
    import torch.functional

    from reslint.rules.RN119_torch_functional_import import TORCH_FUNCTIONAL_NAMES

    actual = {name for name in dir(torch.functional) if not name.startswith("__")}
    assert actual == TORCH_FUNCTIONAL_NAMES


def test_parameterized_layers_match_torch_signatures() -> None:
    torch = pytest.importorskip("torch", reason="the table is checked against an installed torch")
    import inspect

    from reslint.knowledge.layers import PARAMETERIZED_LAYERS

    for name, switch in PARAMETERIZED_LAYERS.items():
        layer = getattr(torch.nn, name)
        assert issubclass(layer, torch.nn.Module), name
        if switch is None:
            continue
        keyword, position, default = switch
        params = [p for p in inspect.signature(layer.__init__).parameters.values()][1:]
        assert params[position].name == keyword, name
        assert params[position].default is default, name
