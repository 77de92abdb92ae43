"""Show a comparison: a side-by-side rich table and the findings (text), or one JSON object.
Parent side: no torch."""

from __future__ import annotations

import json
import sys
from collections.abc import Sequence
from typing import IO, Any

from reslint.findings import Finding, Severity

MARK = "✗"


def findings_of(result: dict[str, Any]) -> list[Finding]:
    found = []
    for data in result.get("findings", []):
        found.append(Finding(**{**data, "severity": Severity(data["severity"])}))
    return found


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


def _layer_table(result: dict[str, Any], plain: bool):
    from rich import box
    from rich.table import Table

    batch = (result.get("input_shape") or [1])[0]
    table = Table(box=box.SIMPLE_HEAD, show_edge=False, pad_edge=False, title=None)
    for header, justify, squeezable in (
        ("", "left", False),
        ("model layer", "left", True),
        ("output shape", "left", False),
        ("params", "right", False),
        ("‖", "center", False),
        ("reference layer", "left", True),
        ("output shape", "left", False),
        ("params", "right", False),
    ):
        # Names may be shortened with an ellipsis on a narrow terminal; shapes and counts never are.
        table.add_column(
            header,
            justify=justify,
            no_wrap=True,
            overflow="ellipsis" if squeezable else "fold",
            ratio=1 if squeezable else None,
        )
    subtotals = {s["stage"]: s for s in result.get("stages", [])}
    rows = result.get("layers", [])
    for index, row in enumerate(rows):
        model, ref = row.get("model") or {}, row.get("reference") or {}
        style = None if not row["differs"] or plain else "red"
        table.add_row(
            MARK if row["differs"] else "",
            f"{model.get('name', '')} ({model['type']})" if model else "",
            _shape(model.get("shape"), batch) if model else "",
            _params(model.get("params")) if model else "",
            "‖",
            f"{ref.get('name', '')} ({ref['type']})" if ref else "",
            _shape(ref.get("shape"), batch) if ref else "",
            _params(ref.get("params")) if ref else "",
            style=style,
        )
        last_of_stage = index + 1 == len(rows) or rows[index + 1]["stage"] != row["stage"]
        if last_of_stage and row["stage"] in subtotals:
            _subtotal(table, subtotals.pop(row["stage"]), plain)
    for leftover in subtotals.values():
        _subtotal(table, leftover, plain)
    return table


def _natural_width(result: dict[str, Any]) -> int:
    longest = {"model": [0, 0, 0], "reference": [0, 0, 0]}
    batch = (result.get("input_shape") or [1])[0]
    for row in result.get("layers", []):
        for side in longest:
            call = row.get(side) or {}
            if call:
                cells = (
                    f"{call['name']} ({call['type']})",
                    _shape(call.get("shape"), batch),
                    _params(call["params"]),
                )
                longest[side] = [max(a, len(b)) for a, b in zip(longest[side], cells)]
    return sum(longest["model"]) + sum(longest["reference"]) + 30


def _subtotal(table: Any, stage: dict[str, Any], plain: bool) -> None:
    differs = stage["model"] != stage["reference"]
    name = stage["stage"] + (
        f" ({stage['model_name']})"
        if stage.get("model_name") and stage["model_name"] != stage["stage"]
        else ""
    )
    table.add_row(
        MARK if differs else "",
        f"{name} subtotal",
        "",
        _params(stage["model"]),
        "‖",
        f"{stage['stage']} subtotal",
        "",
        _params(stage["reference"]),
        style=None if plain else ("bold red" if differs else "bold"),
        end_section=True,
    )


def print_text(
    result: dict[str, Any], no_color: bool = False, file: IO[str] | None = None, table: str = "diff"
) -> None:
    from reslint.report import colors_disabled, make_console, render_findings

    console = make_console(no_color, file)
    plain = colors_disabled(no_color)
    verdict = result.get("verdict", "error")
    if result.get("layers") and table != "none":
        table = _layer_table(result, plain)
        # Off a terminal nothing wraps, so print the table at its natural width.
        if not console.is_terminal:
            console.width = max(console.width, _natural_width(result))
        console.print(table)
        console.print()
    findings = findings_of(result)
    if findings:
        render_findings(findings, console)
    params = result.get("parameters") or {}
    console.print(_closing_line(result, verdict, params))


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
