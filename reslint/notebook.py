"""Jupyter notebooks: the code cells joined into one Python source, and positions mapped back to cells.

IPython syntax is not Python: line magics (`%matplotlib inline`), shell escapes (`!pip install`,
`files = !ls`), help (`nn.Conv2d?`) and cell magics (`%%bash`) are blanked so that the rest parses.
A blanked line keeps its line (as `pass`, or `name = ...` for an assignment, so that the name stays
bound); a cell whose magic runs another language is blanked whole. As IPython does, a cell whose
first line is indented loses that indentation on every line that has it (code pasted from a function
body runs). Cells are numbered from 1, counting every cell (markdown ones too), as notebook editors
show them.
"""

from __future__ import annotations

import bisect
import json
import re
from dataclasses import dataclass, replace
from typing import Any

from reslint.findings import Finding
from reslint.source import split_lines

SUFFIX = ".ipynb"

# Cell magics whose body is Python: only their first line is blanked.
PYTHON_CELL_MAGICS = frozenset({"time", "timeit", "capture", "prun", "debug"})

# `%name ...` (not `% b`, the continuation of a modulo) and `!command`; `name = %magic` / `name = !cmd`;
# `obj?`, `obj??`, `?obj`.
_MAGIC = r"(?:%[A-Za-z]|!)"
_MAGIC_ASSIGNMENT = re.compile(rf"(\s*)([A-Za-z_][\w.]*(?:\s*,\s*[A-Za-z_][\w.]*)*)\s*=\s*{_MAGIC}")
_MAGIC_LINE = re.compile(rf"\s*(?:{_MAGIC}|\?{{1,2}}[A-Za-z_]|[A-Za-z_][\w.]*\?{{1,2}}\s*$)")
_CELL_MAGIC = re.compile(r"%%(\w+)")


class NotANotebook(ValueError):
    """The file is not notebook JSON (the message says why)."""


@dataclass(frozen=True)
class Cell:
    number: int  # 1-based, among all cells
    first_line: int  # where the cell starts in the joined source, 1-based
    source: str  # as written in the notebook
    indent: int = 0  # the leading indentation taken off its lines (IPython's leading_indent)

    @property
    def line_count(self) -> int:
        return len(split_lines(self.source))


@dataclass(frozen=True)
class Notebook:
    cells: tuple[Cell, ...]  # the code cells
    text: str  # the code cells joined, IPython syntax blanked

    def locate(self, finding: Finding) -> Finding:
        """`finding` (in the joined source) with its cell and its lines counted within the cell."""
        index = bisect.bisect_right([cell.first_line for cell in self.cells], finding.line) - 1
        if index < 0:
            return finding
        cell = self.cells[index]
        line = finding.line - cell.first_line + 1
        if finding.end_line - cell.first_line + 1 <= cell.line_count:
            end_line, end_column = finding.end_line - cell.first_line + 1, finding.end_column
        else:  # a span that runs past the cell (an unclosed bracket): keep its start
            end_line, end_column = line, finding.column + 1
        return replace(
            finding,
            line=line,
            column=finding.column + cell.indent,
            end_line=end_line,
            end_column=end_column + cell.indent,
            cell=cell.number,
        )

    def cell_lines(self) -> dict[int, list[str]]:
        return {cell.number: split_lines(cell.source) for cell in self.cells}


def is_notebook(path: str) -> bool:
    return path.endswith(SUFFIX)


def parse_notebook(text: str) -> Notebook:
    """The notebook in `text`; NotANotebook when it is not notebook JSON."""
    try:
        document = json.loads(text)
    except json.JSONDecodeError as error:
        raise NotANotebook(
            f"not valid JSON ({error.msg} at line {error.lineno} column {error.colno})"
        ) from None
    cells = document.get("cells") if isinstance(document, dict) else None
    if not isinstance(cells, list):
        raise NotANotebook("no list of cells in it")
    if not _is_python(document):
        return Notebook((), "")
    code: list[Cell] = []
    parts: list[str] = []
    next_line = 1
    for number, cell in enumerate(cells, 1):
        source = _code_source(cell, number)
        if source is None:
            continue
        code.append(Cell(number, next_line, source, len(_leading_indent(source))))
        python = python_of(source)
        parts.append(python)
        next_line += len(split_lines(python))
    return Notebook(tuple(code), "".join(parts))


def python_of(source: str) -> str:
    """A cell's source as Python, line for line, ending with a newline."""
    lines = [line.rstrip("\r\n") for line in split_lines(source)]
    if not lines:
        return ""
    indent = _leading_indent(source)
    if indent:
        lines = [line.removeprefix(indent) for line in lines]
    magic = _CELL_MAGIC.match(lines[0])
    if magic is not None:
        if magic.group(1) not in PYTHON_CELL_MAGICS:
            return "\n" * len(lines)  # another language (%%bash, %%writefile, ...): nothing to lint
        lines[0] = "pass"
    return "".join(_blank_magic(line) + "\n" for line in lines)


def _leading_indent(source: str) -> str:
    """The spaces and tabs the cell's first non-blank line starts with: IPython drops the blank
    lines before it and removes them from every line that starts with them before it runs the cell."""
    first = next((line for line in source.split("\n") if line.strip()), "")
    return first[: len(first) - len(first.lstrip(" \t"))]


def _blank_magic(line: str) -> str:
    assignment = _MAGIC_ASSIGNMENT.match(line)
    if assignment is not None:
        return f"{assignment.group(1)}{assignment.group(2)} = ..."
    if _MAGIC_LINE.match(line):
        return line[: len(line) - len(line.lstrip())] + "pass"
    return line


def _code_source(cell: Any, number: int) -> str | None:
    if not isinstance(cell, dict) or not isinstance(cell.get("cell_type"), str):
        raise NotANotebook(f"cell {number} is not a notebook cell")
    if cell["cell_type"] != "code":
        return None
    source = cell.get("source", "")
    if isinstance(source, list) and all(isinstance(part, str) for part in source):
        return "".join(source)
    if isinstance(source, str):
        return source
    raise NotANotebook(f"cell {number} has no source text")


def _is_python(document: dict[str, Any]) -> bool:
    """Notebooks of other kernels (R, Julia) have no Python to lint; no metadata means Python."""
    metadata = document.get("metadata")
    if not isinstance(metadata, dict):
        return True
    for key, field in (("kernelspec", "language"), ("language_info", "name")):
        section = metadata.get(key)
        if isinstance(section, dict) and isinstance(section.get(field), str):
            return section[field].lower() == "python"
    return True
