"""model/constructions: which configurations of a block the file's own networks build."""

from __future__ import annotations

from pathlib import Path

import libcst as cst

from reslint.model import build_module_model
from reslint.model.constructions import built_by_networks

REPO = Path(__file__).resolve().parents[1]


def test_a_block_handed_on_by_a_variable_is_built_where_it_goes() -> None:
    """`unit = WideBlock` then `Stage(count, cin, cout, unit, stride)`: the stages build the block,
    so its constructions are those the stages make, not unknown."""
    path = REPO / "fixtures" / "clean" / "wide_block_handed_on_by_variable.py"
    source = path.read_text(encoding="utf-8")
    module = build_module_model(cst.parse_module(source), source, str(path))
    block = next(cls for cls in module.class_defs if cls.name == "WideBlock")
    built = built_by_networks(block, module)
    assert built is not None
    shapes = {
        (str(layer.args["cin"]), str(layer.args["cout"]), str(layer.args["stride"]))
        for layer in built
    }
    assert ("16 * k", "32 * k", "2") in shapes and ("32 * k", "32 * k", "1") in shapes
    # every strided construction widens: the stride test the block lacks is never needed
    assert all(cin != cout for cin, cout, stride in shapes if stride != "1")
