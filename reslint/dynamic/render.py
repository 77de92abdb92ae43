"""Show a comparison: the layer table and the findings (text), or one JSON object. Parent side: no torch.

The table fits the width it is given without cutting a name's digits, a shape or a count: when the natural
layout is too wide the type columns go, then each row takes two lines (the model's layer over the
reference's) and long names fold. A differing row carries a mark, not only a colour.
`table` (--table): "full" every row with the stage subtotals in place; "diff" (default) the differing rows
with a little context and the stage subtotals when one differs, or one line when every row matches;
"none" no table.
"""

from __future__ import annotations

import json
import os
import sys
from collections.abc import Sequence
from dataclasses import dataclass
from typing import IO, Any

from reslint.findings import Finding

MARK = "✗"
CONTEXT = 1  # matching rows shown before and after each differing one ("diff")
GAP = "  "
HEADERS = (
    "",
    "model layer",
    "type",
    "output shape",
    "params",
    "‖",
    "reference layer",
    "type",
    "output shape",
    "params",
)
NUMERIC = {4, 9}  # right-aligned columns
NAMES = {1, 6}  # the only columns that may fold
TYPES = {2, 7}


@dataclass
class Line:
    cells: tuple[str, ...]  # one per HEADERS column
    differs: bool = False
    subtotal: bool = False
    note: str = ""  # a line of its own ("⋮ 12 matching layers"), instead of cells


def findings_of(result: dict[str, Any]) -> list[Finding]:
    return [Finding.from_dict(data) for data in result.get("findings", [])]


def print_json(result: dict[str, Any], file: IO[str] | None = None) -> None:
    stream = file or sys.stdout
    stream.write(json.dumps(result, indent=2) + "\n")


def _shape(shape: Sequence[Any] | None, batch: int) -> str:
    if not shape:
        return "-"
    dims = [str(d) for d in shape]
    if shape[0] == batch:
        dims[0] = "N"
    return "[" + ", ".join(dims) + "]"


def _params(count: int | None) -> str:
    return "-" if count is None else f"{count:,}"


def _side(call: dict[str, Any] | None, batch: int) -> tuple[str, str, str, str]:
    if not call:
        return "", "", "", ""
    return (
        call["name"] or "(model)",
        call["type"],
        _shape(call.get("shape"), batch),
        _params(call.get("params")),
    )


def _layer_line(row: dict[str, Any], batch: int) -> Line:
    cells = (
        MARK if row["differs"] else "",
        *_side(row.get("model"), batch),
        "‖",
        *_side(row.get("reference"), batch),
    )
    return Line(cells, differs=row["differs"])


def _subtotal_line(stage: dict[str, Any]) -> Line:
    differs = stage["model"] != stage["reference"]
    own = stage.get("model_name")
    name = stage["stage"] + (f" ({own})" if own and own != stage["stage"] else "")
    cells = (
        MARK if differs else "",
        f"{name} subtotal",
        "",
        "",
        _params(stage["model"]),
        "‖",
        f"{stage['stage']} subtotal",
        "",
        "",
        _params(stage["reference"]),
    )
    return Line(cells, differs=differs, subtotal=True)


def table_lines(result: dict[str, Any], mode: str) -> list[Line]:
    """The rows the table shows: every one with subtotals in place ("full"), or the differing ones with
    CONTEXT rows around them, gaps said, and the stage subtotals after them ("diff")."""
    batch = (result.get("input_shape") or [1])[0]
    rows = result.get("layers") or []
    stages = {s["stage"]: s for s in result.get("stages") or []}
    if mode == "full":
        lines = []
        for index, row in enumerate(rows):
            lines.append(_layer_line(row, batch))
            last_of_stage = index + 1 == len(rows) or rows[index + 1]["stage"] != row["stage"]
            if last_of_stage and row["stage"] in stages:
                lines.append(_subtotal_line(stages.pop(row["stage"])))
        return lines + [_subtotal_line(stage) for stage in stages.values()]
    shown = sorted(
        {
            i
            for index, row in enumerate(rows)
            if row["differs"]
            for i in range(index - CONTEXT, index + CONTEXT + 1)
            if 0 <= i < len(rows)
        }
    )
    lines, previous = [], -1
    for index in shown:
        if index > previous + 1:
            lines.append(Line((), note=f"⋮ {index - previous - 1} matching layers"))
        lines.append(_layer_line(rows[index], batch))
        previous = index
    if shown and previous < len(rows) - 1:
        lines.append(Line((), note=f"⋮ {len(rows) - 1 - previous} matching layers"))
    subtotals = [_subtotal_line(stage) for stage in stages.values()]
    return lines + (subtotals if any(line.differs for line in subtotals) else [])


def layout(lines: Sequence[Line], width: int | None) -> list[tuple[str, Line | None]]:
    """Text lines for `lines` within `width` columns (None: the natural width)."""
    header = Line(HEADERS)
    rows = [header, *[line for line in lines if not line.note]]
    natural = [max(len(line.cells[c]) for line in rows) for c in range(len(HEADERS))]
    for dropped in (set(), TYPES):
        columns = [c for c in range(len(HEADERS)) if c not in dropped]
        total = sum(natural[c] for c in columns) + len(GAP) * (len(columns) - 1)
        if width is None or total <= width:
            return [
                (_note(line) if line.note else _row(line, columns, natural), line)
                for line in [header, *lines]
            ]
    return _stacked(lines, width)


def _note(line: Line) -> str:
    return GAP + line.note


def _row(line: Line, columns: list[int], widths: list[int]) -> str:
    cells = [
        line.cells[c].rjust(widths[c]) if c in NUMERIC else line.cells[c].ljust(widths[c])
        for c in columns
    ]
    return GAP.join(cells).rstrip()


def _stacked(lines: Sequence[Line], width: int) -> list[tuple[str, Line | None]]:
    """Two lines a row: the model's layer, then the reference's under it; names fold to fit, numbers
    never do."""
    sides = [(1, 3, 4), (6, 8, 9)]  # name, shape, params columns of each side
    shape_width = max(
        [len(line.cells[c]) for line in lines if not line.note for _, c, _ in sides] + [0]
    )
    params_width = max(
        [len(line.cells[c]) for line in lines if not line.note for _, _, c in sides] + [0]
    )
    prefix = 4  # the mark or "‖", then a space, indented under it
    name_width = max(8, width - prefix - shape_width - params_width - 2 * len(GAP))
    out: list[tuple[str, Line | None]] = [(f"{'':{prefix}}model layer / ‖ reference layer", None)]
    for line in lines:
        if line.note:
            out.append((_note(line), line))
            continue
        for lead, (name, shape, params) in zip((line.cells[0] or " ", "‖"), sides):
            chunks = _fold(line.cells[name] or "(no layer)", name_width)
            first = f"{lead:<{prefix - 1}} {chunks[0]:<{name_width}}{GAP}{line.cells[shape]:<{shape_width}}{GAP}{line.cells[params]:>{params_width}}"
            out.append((first.rstrip(), line))
            out += [(f"{'':{prefix}}{chunk}", line) for chunk in chunks[1:]]
    return out


def _fold(text: str, width: int) -> list[str]:
    """`text` in pieces of at most `width`, cut after a dot where one is near."""
    pieces = []
    while len(text) > width:
        cut = text.rfind(".", 0, width) + 1 or width
        if cut < width // 2:
            cut = width
        pieces.append(text[:cut])
        text = text[cut:]
    return pieces + [text]


def print_text(
    result: dict[str, Any],
    no_color: bool = False,
    file: IO[str] | None = None,
    table: str = "diff",
    width: int | None = None,
) -> None:
    """The text report on stdout (or `file`), `width` columns wide (default: the terminal's)."""
    from reslint.reporters.console import colors_disabled, make_console

    console = make_console(no_color, file)
    write_text(
        result,
        console,
        colors_disabled(no_color),
        table,
        width or _terminal_width(console),
    )


def write_text(
    result: dict[str, Any],
    console: Any,
    plain: bool,
    table: str = "diff",
    width: int | None = None,
) -> None:
    """The layer table, the findings and the closing line, on a rich console."""
    from rich.text import Text

    from reslint.reporters.console import visible
    from reslint.reporters.full import render_findings

    verdict = result.get("verdict", "error")
    if result.get("layers") and table != "none":
        if table == "diff" and not any(row["differs"] for row in result["layers"]):
            console.print(_summary(result))
        else:
            for text, line in layout(table_lines(result, table), width):
                console.print(Text(visible(text), style="" if plain else _style(line)))
        console.print()
    findings = findings_of(result)
    if findings:
        render_findings(findings, console)
    console.print(_closing_line(result, verdict, result.get("parameters") or {}))


def _terminal_width(console: Any) -> int | None:
    """The terminal's width (or COLUMNS); off a terminal nothing wraps, so the natural width (None)."""
    return console.width if console.is_terminal or os.environ.get("COLUMNS") else None


def _style(line: Line | None) -> str:
    if line is None:
        return "bold"
    if line.differs:
        return "bold red" if line.subtotal else "red"
    return "bold" if line.subtotal else ""


def _summary(result: dict[str, Any]) -> str:
    rows = len(result.get("layers") or [])
    same = (result.get("equivalence") or {}).get("status") == "matches"
    function = "; given the same weights, every block computes the same function" if same else ""
    return f"All {rows} layers line up with {result.get('arch')}'s: types, output shapes and parameters{function}."


def _closing_line(result: dict[str, Any], verdict: str, params: dict[str, Any]) -> str:
    target, arch = result.get("target", "model"), result.get("arch", "reference")
    if verdict == "error":
        return f"Could not compare {target} with {arch}."
    counts = f"{_params(params.get('model'))} vs {_params(params.get('reference'))} parameters"
    domain = result.get("input_domain") or {}
    tried = result.get("inputs_tried", 0)
    sampled = f"{tried} input{'' if tried == 1 else 's'} sampled"
    if domain:
        sampled += f" (N {_span(domain['batch'])}, H {_span(domain['height'])}, W {_span(domain['width'])})"
    valid = result.get("valid_input_range") or {}
    found = ""
    if valid.get("height") and (valid.get("method") == "symbolic" or result.get("failing_input")):
        found = (
            f"; valid for H {_span(valid['height'])}, W {_span(valid['width'])} ({valid['method']})"
        )
    word = "matches" if verdict == "matches" else "differs from"
    return f"{target} {word} {arch}: {counts}; {sampled}{found}."


def _span(pair: Sequence[Any] | None) -> str:
    if not pair:
        return "none"
    low, high = pair
    return f"{low}..{'∞' if high is None else high}"
