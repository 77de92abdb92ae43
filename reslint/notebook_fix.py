"""--fix in a notebook: the fixes found in the joined code cells, written back into the cells.

A fix is mapped from the joined source to the one cell it is in; a fix that spans cells or touches a
line that was blanked (IPython syntax) is left out. Each cell's fixes are applied as in a .py file
(reslint.fixer: no overlaps, never parsing worse), and rounds repeat until nothing changes. The
notebook is written back only when its JSON is laid out as Jupyter writes it (then re-serialising it
changes nothing but the fixed cells); otherwise it is not fixed, and the caller says so.
"""

from __future__ import annotations

import bisect
import json
import re
from collections import Counter
from dataclasses import replace
from typing import TYPE_CHECKING, Any

from reslint.findings import Finding, FindingFix, TextEdit
from reslint.fixer import MAX_ROUNDS, FixOutcome, applicable, apply_fixes
from reslint.notebook import Cell, Notebook, parse_notebook
from reslint.source import split_lines

if TYPE_CHECKING:
    from reslint.engine import Checks, FileGroup

_NOTEBOOK_LINE = re.compile(r"[^\n]*\n|[^\n]+\Z")  # how nbformat splits a cell's source into a list


def fix_notebook(
    raw: str, path: str, checks: Checks, group: FileGroup | None = None, unsafe: bool = False
) -> FixOutcome | None:
    """The notebook's JSON with its fixes applied and its findings (in cells); None when its JSON is
    not in a layout reslint can write back unchanged but for the fixes."""
    from reslint.engine import lint_source

    layout = _layout(raw)
    if layout is None:
        return None
    fixed: Counter[str] = Counter()
    notebook = parse_notebook(raw)
    findings = lint_source(notebook.text, path, checks, group)
    for _ in range(MAX_ROUNDS):
        document = json.loads(raw)
        applied = _apply_in_cells(
            document, notebook, [f for f in findings if applicable(f, unsafe)]
        )
        text_after = _dump(document, layout)
        if not applied or text_after == raw:
            break
        raw, notebook = text_after, parse_notebook(text_after)
        fixed.update(finding.code for finding in applied)
        findings = lint_source(notebook.text, path, checks, group)
    return FixOutcome(raw, [in_its_cell(finding, notebook) for finding in findings], fixed)


def in_its_cell(finding: Finding, notebook: Notebook) -> Finding:
    """A finding of the joined source counted within its cell, and so is its fix (None when the fix
    is not within one cell)."""
    placed = in_cell(finding, notebook) if finding.fix is not None else None
    return replace(notebook.locate(finding), fix=placed[1].fix if placed is not None else None)


def _apply_in_cells(
    document: dict[str, Any], notebook: Notebook, findings: list[Finding]
) -> list[Finding]:
    """Apply the fixes in the cells of `document` (in place); the findings whose fix was applied."""
    by_cell: dict[int, list[Finding]] = {}
    for finding in findings:
        placed = in_cell(finding, notebook)
        if placed is not None:
            by_cell.setdefault(placed[0].number, []).append(placed[1])
    applied: list[Finding] = []
    for cell in notebook.cells:
        if cell.number not in by_cell:
            continue
        source, taken = apply_fixes(cell.source, by_cell[cell.number])
        entry = document["cells"][cell.number - 1]
        entry["source"] = (
            _NOTEBOOK_LINE.findall(source) if isinstance(entry["source"], list) else source
        )
        applied.extend(taken)
    return applied


def in_cell(finding: Finding, notebook: Notebook) -> tuple[Cell, Finding] | None:
    """The cell the whole fix is in, and the finding with its edits counted within the cell."""
    assert finding.fix is not None
    starts = [cell.first_line for cell in notebook.cells]
    joined = split_lines(notebook.text)
    cells = set()
    edits = []
    for edit in finding.fix.edits:
        cell = notebook.cells[bisect.bisect_right(starts, edit.line) - 1]
        own = split_lines(cell.source)
        first = edit.line - cell.first_line + 1
        last = min(edit.end_line - cell.first_line + 1, len(own))  # a whole-line edit ends past it
        if first > len(own) or edit.end_line - cell.first_line + 1 > len(own) + 1:
            return None  # runs into the next cell
        if any(
            joined[cell.first_line + n - 2].rstrip("\r\n") != own[n - 1].rstrip("\r\n")
            for n in range(first, last + 1)
        ):
            return None  # a line blanked for IPython syntax: the cell does not say what the fix saw
        cells.add(cell.number)
        edits.append(
            TextEdit(
                first,
                edit.column,
                edit.end_line - cell.first_line + 1,
                edit.end_column,
                edit.content,
            )
        )
    if len(cells) != 1:
        return None
    cell = next(cell for cell in notebook.cells if cell.number in cells)
    return cell, replace(finding, fix=FindingFix(finding.fix.applicability, tuple(edits)))


# The layouts Jupyter (nbformat) and other tools write: reslint only rewrites what it can reproduce.
_LAYOUTS = (
    {"indent": 1, "sort_keys": True, "ensure_ascii": False},
    {"indent": 1, "ensure_ascii": False},
    {"indent": 2, "ensure_ascii": False},
)


def _layout(raw: str) -> dict[str, Any] | None:
    document = json.loads(raw)
    return next((layout for layout in _LAYOUTS if _dump(document, layout) == raw), None)


def _dump(document: dict[str, Any], layout: dict[str, Any]) -> str:
    return json.dumps(document, **layout) + "\n"
