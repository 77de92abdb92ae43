"""The model's per-file indexes (calls and attributes by function and method, subclasses, method
lookup, ancestors) answer exactly what a scan of the whole file answers, on every fixture; and the
hierarchy budget cuts where it says."""

from __future__ import annotations

from pathlib import Path

import libcst as cst
import pytest

from reslint.model import build_module_model
from reslint.model.classes import MAX_ANCESTORS, ClassModel
from reslint.model.module import ModuleModel

REPO = Path(__file__).resolve().parents[1]


def parses(path: Path) -> bool:
    try:
        cst.parse_module(path.read_text(encoding="utf-8"))
    except (cst.ParserSyntaxError, UnicodeDecodeError):
        return False
    return True


PARSEABLE = [path for path in sorted((REPO / "fixtures").rglob("*.py")) if parses(path)]


def model_of(source: str, path: str = "m.py") -> ModuleModel:
    return build_module_model(cst.parse_module(source), source, path)


def fixture_model(path: Path) -> ModuleModel:
    return model_of(path.read_text(encoding="utf-8"), str(path))


def ids(nodes) -> list[int]:
    return [id(node) for node in nodes]


def naive_ancestors(cls: ClassModel) -> list[ClassModel]:
    """Breadth first over local bases, each class once (the definition before the index)."""
    seen: list[ClassModel] = []
    pending = list(cls.local_bases())
    while pending:
        base = pending.pop(0)
        if base not in seen and base is not cls:
            seen.append(base)
            pending.extend(base.local_bases())
    return seen


@pytest.mark.parametrize("path", PARSEABLE, ids=lambda p: str(p.relative_to(REPO)))
def test_indexes_equal_a_scan_of_the_file(path: Path) -> None:
    model = fixture_model(path)
    functions = {id(f): f for _, f in model.names.calls + model.names.attributes if f is not None}
    for function in functions.values():
        method = model.enclosing_method(function)
        assert ids(model.calls_in(function)) == ids(
            call for call, where in model.names.calls if where is function
        )
        assert ids(model.attributes_in(function)) == ids(
            node for node, where in model.names.attributes if where is function
        )
        assert ids(model.attributes_in_method(method)) == ids(
            node
            for node, where in model.names.attributes
            if where is not None and model.enclosing_method(where) is method
        )
        assert ids(model.attribute_stores_in_method(method)) == ids(
            node
            for node, where in model.names.attribute_stores
            if where is not None and model.enclosing_method(where) is method
        )
    names = {name for cls in model.class_defs for name in cls.methods}
    for cls in model.class_defs:
        every = naive_ancestors(cls)
        assert cls.ancestors() == every[:MAX_ANCESTORS]
        assert cls.hierarchy_cut == (len(every) > MAX_ANCESTORS)
        assert model.subclasses(cls) == [o for o in model.class_defs if cls in o.ancestors()]
        for name in names:
            first = next(
                (c.methods[name] for c in [cls, *cls.ancestors()] if name in c.methods), None
            )
            assert cls.method(name) is first


def chain(depth: int) -> str:
    classes = [f"class Level{i}(Level{i - 1}):\n    pass\n" for i in range(1, depth)]
    return "import torch.nn as nn\nclass Level0(nn.Module):\n    pass\n" + "".join(classes)


def test_a_hierarchy_at_the_budget_is_analysed_in_full() -> None:
    deepest = model_of(chain(MAX_ANCESTORS + 1)).class_defs[-1]
    assert len(deepest.ancestors()) == MAX_ANCESTORS
    assert not deepest.hierarchy_cut
    assert deepest.is_module and not deepest.has_unresolved_bases


def test_past_the_budget_a_class_counts_as_built_on_an_unknown_base() -> None:
    model = model_of(chain(MAX_ANCESTORS + 3))
    cut = [cls.name for cls in model.class_defs if cls.hierarchy_cut]
    assert cut == [f"Level{MAX_ANCESTORS + 1}", f"Level{MAX_ANCESTORS + 2}"]
    deepest = model.class_defs[-1]
    assert len(deepest.ancestors()) == MAX_ANCESTORS
    assert deepest.has_unresolved_bases and not deepest.is_module


def test_a_base_named_through_the_import_the_class_shadows_resolves_to_nothing() -> None:
    # `import torch.nn as Block` then `class Block(Block.Module)`: resolving the base asked for the
    # bases being resolved, without end (found by the fuzz benchmark).
    model = model_of(
        "import torch.nn as Block\n\n\n"
        "class Block(Block.Module):\n"
        "    def __init__(self, c):\n"
        "        super().__init__()\n"
        "        self.conv = Block.Conv2d(c, c, 3)\n\n"
        "    def forward(self, x):\n"
        "        return self.conv(x) + x\n"
    )
    (block,) = model.class_defs
    assert block.local_bases() == []
    assert block.ancestors() == []


def test_a_block_that_builds_itself_is_asked_for_its_weights_once_per_instance() -> None:
    # A class whose __init__ builds three instances of itself (a fuzz mutant merged two classes):
    # asking whether it owns weights walked 3 ** depth instances, minutes per file.
    source = (
        "import torch.nn as nn\n\n\n"
        "class Unit(nn.Module):\n"
        "    def __init__(self, c: int, k: int = 3):\n"
        "        super().__init__()\n"
        "        self.a = Unit(c, k=1)\n"
        "        self.b = Unit(c)\n"
        "        self.c = Unit(c, k=1)\n\n"
        "    def forward(self, x):\n"
        "        return self.c(self.b(self.a(x)))\n"
    )
    model = model_of(source)
    calls = 0
    original = ClassModel.calls_any

    def counting(self: ClassModel, names: frozenset[str]) -> bool:
        nonlocal calls
        calls += 1
        return original(self, names)

    ClassModel.calls_any = counting  # type: ignore[method-assign]
    try:
        owns = [instance.holds_weights() for instance in model.instances()]
    finally:
        ClassModel.calls_any = original  # type: ignore[method-assign]
    assert owns and not any(owns)
    assert calls < 200
