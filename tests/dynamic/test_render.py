"""The text report of the dynamic pass (no torch): the layer table fits 80 and 200 columns without
cutting a shape or a count, a differing row is marked with a character, and --table picks what is shown."""

from __future__ import annotations

import io
import re

import pytest

from reslint.dynamic import render

pytestmark = pytest.mark.torch_free  # no torch needed: runs in the static suite too

LONG = "backbone.stages.3.blocks.2.residual_branch"


def call(name: str, type_: str, shape: list[int], params: int) -> dict:
    return {"name": name, "type": type_, "shape": shape, "params": params, "raised": False}


def row(stage: str, model: dict | None, ref: dict | None, differs: bool = False) -> dict:
    return {"stage": stage, "model": model, "reference": ref, "differs": differs, "differences": []}


def result(verdict: str = "differs", matching_rows: int = 30) -> dict:
    """A ResNet-152-sized table: long user names, 7-digit counts, two differing rows and a missing one."""
    layers = [
        row(
            "layer4",
            call(f"{LONG}.conv{i}", "Conv2d", [1, 2048, 7, 7], 1_048_576 + i),
            call(f"layer4.2.conv{i}", "Conv2d", [1, 2048, 7, 7], 1_048_576 + i),
        )
        for i in range(matching_rows)
    ]
    layers[10] = row(
        "layer4",
        call(f"{LONG}.conv10", "Conv2d", [1, 512, 7, 7], 262_144),
        call("layer4.2.conv10", "Conv2d", [1, 2048, 7, 7], 1_048_576),
        differs=verdict == "differs",
    )
    layers[20] = row(
        "layer4",
        None,
        call("layer4.2.bn3", "BatchNorm2d", [1, 2048, 7, 7], 4096),
        verdict == "differs",
    )
    stages = [
        {
            "stage": "layer4",
            "model_name": "backbone.stages.3",
            "model": 14_964_736,
            "reference": 15_000_000,
        },
        {"stage": "head", "model_name": None, "model": 2_049_000, "reference": 2_049_000},
    ]
    return {
        "verdict": verdict,
        "arch": "resnet152",
        "target": "model.py:Net",
        "parameters": {"model": 60_000_000, "reference": 60_192_808},
        "layers": layers,
        "stages": stages,
        "findings": [],
        "input_shape": [1, 3, 224, 224],
    }


def text(data: dict, table: str, width: int | None) -> str:
    out = io.StringIO()
    render.print_text(data, no_color=True, file=out, table=table, width=width)
    return out.getvalue()


def table_part(output: str) -> list[str]:
    """The table: the lines before the first blank one."""
    return output.split("\n\n")[0].splitlines()


def numbers_of(data: dict, shown: list[dict]) -> list[str]:
    cells = []
    for entry in shown:
        for side in ("model", "reference"):
            if entry[side]:
                cells.append(f"{entry[side]['params']:,}")
                cells.append("[N, " + ", ".join(map(str, entry[side]["shape"][1:])) + "]")
    return cells


@pytest.mark.parametrize("width", [80, 200])
def test_the_full_table_fits_the_width_and_keeps_every_number_whole(width: int) -> None:
    data = result()
    lines = table_part(text(data, "full", width))
    assert lines and all(len(line) <= width for line in lines), max(lines, key=len)
    joined = "\n".join(lines)
    for cell in numbers_of(data, data["layers"]):
        assert re.search(rf"(?<![\d,]){re.escape(cell)}(?![\d,])", joined), cell
    for stage in data["stages"]:
        assert f"{stage['model']:,}" in joined and f"{stage['reference']:,}" in joined
    marked = [line for line in lines if line.lstrip().startswith(render.MARK)]
    assert len(marked) >= 3  # the two differing rows and the layer4 subtotal, marked without colour
    assert ("type" in lines[0].split()) is (width == 200)  # narrow: the type columns go first


def test_a_narrow_terminal_folds_names_but_never_numbers() -> None:
    data = result()
    lines = table_part(text(data, "full", 60))
    joined = "\n".join(lines)
    assert all(len(line) <= 60 for line in lines), max(lines, key=len)
    for cell in numbers_of(data, data["layers"]):
        assert cell in joined, cell


def test_diff_shows_the_differing_rows_with_context_and_says_how_many_are_hidden() -> None:
    data = result()
    lines = table_part(text(data, "diff", 200))
    hidden = [int(n) for n in re.findall(r"⋮ (\d+) matching layers", "\n".join(lines))]
    shown = [line for line in lines[1:] if "⋮" not in line and "subtotal" not in line]
    assert len(shown) == 2 * (1 + 2 * render.CONTEXT)  # each differing row and its neighbours
    assert sum(hidden) + len(shown) == len(data["layers"])
    assert any("layer4" in line and "subtotal" in line for line in lines)


def test_a_matching_model_is_one_line_and_none_prints_no_table() -> None:
    data = result("matches")
    assert len(table_part(text(data, "diff", 80))) == 1
    assert "model layer" not in text(data, "none", 80)
    assert len(table_part(text(data, "full", 200))) > len(data["layers"])
