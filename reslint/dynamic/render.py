"""Show a comparison: a side-by-side rich table and the findings (text), or one JSON object.
Parent side: no torch."""

from __future__ import annotations

import json
import sys
from typing import IO, Any, Sequence

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
    for header, justify in (("", "left"), ("model layer", "left"), ("output shape", "left"), ("params", "right"),
                            ("‖", "center"), ("reference layer", "left"), ("output shape", "left"),
                            ("params", "right")):
        table.add_column(header, justify=justify, no_wrap=True)
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


def _subtotal(table: Any, stage: dict[str, Any], plain: bool) -> None:
    differs = stage["model"] != stage["reference"]
    name = stage["stage"] + (f" ({stage['model_name']})" if stage.get("model_name") and
                             stage["model_name"] != stage["stage"] else "")
    table.add_row(
        MARK if differs else "", f"{name} subtotal", "", _params(stage["model"]), "‖", f"{stage['stage']} subtotal",
        "", _params(stage["reference"]), style=None if plain else ("bold red" if differs else "bold"),
        end_section=True,
    )


def print_text(result: dict[str, Any], no_color: bool = False, file: IO[str] | None = None) -> None:
    from reslint.report import colors_disabled, make_console, render_findings

    console = make_console(no_color, file)
    plain = colors_disabled(no_color)
    verdict = result.get("verdict", "error")
    if result.get("layers"):
        console.print(_layer_table(result, plain))
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
    tried = result.get("inputs_tried", 0)
    analysis = result.get("analysis", "sampled")
    valid = result.get("valid_input_range") or {}
    span = ""
    if valid.get("height"):
        low, high = valid["height"]
        span = f", valid H {low}..{'∞' if high is None else high}"
    how = f"{tried} inputs sampled" + (", symbolic sizes" if analysis == "symbolic" else "") + span
    word = "matches" if verdict == "matches" else "differs from"
    return f"{target} {word} {arch}: {counts}; {how}."
