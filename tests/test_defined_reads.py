"""The proof that lets the undefined-name check skip pyflakes (reslint.model.defined_reads): a read it
proves defined is never one pyflakes reports, in every file it is shown; and a plain model file is
proven whole, so pyflakes does not run on it."""

from __future__ import annotations

import textwrap
from pathlib import Path

import libcst as cst
import pytest

from reslint.fast_parse import parse_module
from reslint.model import ModuleModel, bindings, build_module_model
from reslint.model.bindings import NOTEBOOK_BUILTINS, _undefined_places
from reslint.model.defined_reads import ReadProof, every_read_defined
from reslint.model.module import BUILTIN_NAMES

FIXTURES = sorted((Path(__file__).resolve().parents[1] / "fixtures").rglob("*.py"))

# Each snippet reads a name pyflakes reports as undefined where a looser proof would call it bound.
TRAPS = {
    "deleted": "x = 1\ndel x\nprint(x)\n",
    "deleted parameter": "def f(a):\n    del a\n    return a\n",
    "annotation only": "x: int\nprint(x)\n",
    "annotation only in a function": "def f():\n    a: int\n    return a\n",
    "annotation only in a class body": "class A:\n    i: int\n    y = i\n",
    "except name after the handler": (
        "try:\n    pass\nexcept ValueError as error:\n    pass\nprint(error)\n"
    ),
    "except name in a function": (
        "def f():\n    try:\n        pass\n    except ValueError as e:\n        g = lambda: e\n"
        "    return e\n"
    ),
    "class attribute in a method": (
        "class A:\n    width = 4\n    def f(self):\n        return width\n"
    ),
    "loop variable of a class body in a method": (
        "class A:\n    for i in range(3):\n        pass\n    def f(self):\n        return i\n"
    ),
    "module order": "print(later)\nlater = 1\nclass B(Base):\n    pass\nclass Base:\n    pass\n",
    "decorator defined later": "@register\ndef f():\n    pass\ndef register(g):\n    return g\n",
    "local read before it is set": "def f():\n    y = out\n    out = 1\n    return y\n",
    "comprehension variable outside": "def f():\n    [i for i in range(3)]\n    return i\n",
    "default reads a parameter": "def f(x, y=x):\n    return y\n",
    "annotation reads a later class": "def f() -> Net:\n    pass\nclass Net:\n    pass\n",
    "branch of an if": "def f(c):\n    if c:\n        pass\n    else:\n        a = 1\n    print(b)\n",
    "same statement": "def f(xs):\n    for x in x:\n        pass\n    while y:\n        y = 1\n",
    "nested scopes": (
        "def f():\n    class A:\n        k = 1\n        ys = [k for _ in range(2)]\n    return k\n"
    ),
}

MODEL = """
import torch
from torch import nn
import torch.nn.functional as F


def conv3x3(planes, stride=1):
    return nn.Conv2d(planes, planes, 3, stride, 1, bias=False)


class Block(nn.Module):
    expansion = 1

    def __init__(self, planes, stride=1, norm=nn.BatchNorm2d):
        super().__init__()
        self.conv = conv3x3(planes, stride)
        self.bn = norm(planes)
        self.act = lambda t: F.relu(t)
        self.shortcut = nn.Sequential()
        if stride != 1:
            self.shortcut = nn.Sequential(conv3x3(planes, stride), norm(planes))

    def forward(self, x):
        out = self.bn(self.conv(x))
        for layer in [self.shortcut]:
            with torch.no_grad():
                identity = layer(x)
            out = out + identity
        try:
            scale = sum(p.numel() for p in self.parameters())
        except RuntimeError as error:
            raise ValueError(str(error)) from error
        return self.act(out) * scale
"""


def _model(source: str) -> ModuleModel:
    return build_module_model(parse_module(source), source, "example.py")


def _proven_and_undefined(source: str) -> tuple[set[tuple[int, int]], set[tuple[int, int]]]:
    """The places of the reads pyflakes reports undefined, and of those of the same names the proof
    accepts."""
    module = _model(source)
    proof = ReadProof(module.names, module.tree, BUILTIN_NAMES | NOTEBOOK_BUILTINS)
    places = _undefined_places(module.source, module.path, module.file_line)
    proven, undefined = set(), set()
    for use in module.names.reads:
        if use.node.value not in places:
            continue  # only reads of names pyflakes reports are placed (placing is slow)
        place = module.position(use.node)[:2]
        if proof.defined(use.node):
            proven.add(place)
        if place in places[use.node.value]:
            undefined.add(place)
    return proven, undefined


@pytest.mark.parametrize("name", sorted(TRAPS))
def test_a_proven_read_is_never_undefined(name: str) -> None:
    proven, undefined = _proven_and_undefined(TRAPS[name])
    assert undefined, "the snippet should hold an undefined read"
    assert not proven & undefined


def test_fixtures_hold_no_proven_undefined_read() -> None:
    for path in FIXTURES:
        try:
            proven, undefined = _proven_and_undefined(path.read_text(encoding="utf-8"))
        except cst.ParserSyntaxError:
            continue  # the syntax-error fixtures
        assert not proven & undefined, path.name


def test_a_plain_model_file_is_proven_whole(monkeypatch: pytest.MonkeyPatch) -> None:
    source = textwrap.dedent(MODEL)
    module = _model(source)
    assert every_read_defined(module.names, module.tree, BUILTIN_NAMES | NOTEBOOK_BUILTINS)

    def no_pyflakes(*args: object) -> None:
        raise AssertionError("pyflakes ran")

    monkeypatch.setattr(bindings, "_undefined_places", no_pyflakes)
    assert _model(source).undefined_names == ()


def test_one_unproven_read_leaves_the_decision_to_pyflakes() -> None:
    source = textwrap.dedent(MODEL).replace("return self.act(out) * scale", "return actt(out)")
    module = _model(source)
    assert not every_read_defined(module.names, module.tree, BUILTIN_NAMES | NOTEBOOK_BUILTINS)
    assert [u.name for u in module.undefined_names] == ["actt"]
