"""`--format full` (the default): each finding with the source line, a marker under its span and the
hint, then a summary line. The dynamic pass prints its findings with `render_findings` too."""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence
from typing import IO, TYPE_CHECKING

from reslint.findings import Finding
from reslint.reporters import FixSummary, Report
from reslint.reporters.console import (
    SEVERITY_STYLE,
    header,
    severity_of,
    visible,
    write_text_report,
)

if TYPE_CHECKING:
    from rich.console import Console
    from rich.text import Text

MAX_LINE_CELLS = 120
TAB_SIZE = 4


def render_findings(
    findings: Sequence[Finding],
    console: Console,
    source_lines: Mapping[str, str] | None = None,
    fixes: FixSummary | None = None,
) -> None:
    """Print each finding: `path:line:col: CODE [severity] message`, the source line with a ^^^ marker
    under the span, and `hint: ...`. `source_lines` maps a path to its text; paths not in it are read
    from disk, and a finding whose line is unavailable is printed without a frame. With `fixes`, a
    finding --fix would mend is marked `[*]`."""
    sources = _SourceCache(source_lines or {})
    for finding in findings:
        console.print(header(finding, fixes is not None and fixes.marks(finding)))
        line = sources.line(finding)
        if line is not None:
            for row in _frame(finding, line):
                console.print(row)
        if finding.hint:
            console.print(_hint(finding.hint))
        console.print()


def write(report: Report, out: IO[str]) -> None:
    write_text_report(
        report,
        out,
        lambda console: render_findings(report.findings, console, report.sources, report.fixes),
    )


def _hint(hint: str) -> Text:
    from rich.text import Text

    return Text.assemble(("  hint: ", "bold cyan"), visible(hint))


def _frame(finding: Finding, line: str) -> list[Text]:
    """The source line (cropped around the span when very long) and a marker row under the span."""
    from rich.cells import cell_len
    from rich.text import Text

    shown, start, width = _excerpt(
        line, finding.column, finding.end_column if finding.end_line == finding.line else None
    )
    gutter = str(finding.line)
    style = SEVERITY_STYLE[severity_of(finding)]
    source_row = Text.assemble((f" {gutter} | ", "blue"), shown)
    marker_row = Text.assemble(
        (f" {' ' * len(gutter)} | ", "blue"),
        " " * cell_len(shown[:start]),
        ("^" * max(1, cell_len(shown[start : start + width])), style),
    )
    return [source_row, marker_row]


def _excerpt(line: str, column: int, end_column: int | None) -> tuple[str, int, int]:
    """(text to show, index of the span in it, span length in characters). Tabs are expanded and control
    characters made visible, one for one; a line longer than MAX_LINE_CELLS is cropped to a window around
    the span, with '…' where it was cut."""
    text = visible(line.rstrip("\r\n"))
    start = len(text[: max(column - 1, 0)].expandtabs(TAB_SIZE))
    expanded = text.expandtabs(TAB_SIZE)
    if end_column is None or end_column <= column:
        end = len(expanded) if end_column is None else start + 1
    else:
        end = len(text[: end_column - 1].expandtabs(TAB_SIZE))
    end = max(end, start + 1)
    if len(expanded) <= MAX_LINE_CELLS:
        return expanded, start, end - start
    window_start = max(0, start - MAX_LINE_CELLS // 3)
    window_end = min(len(expanded), window_start + MAX_LINE_CELLS)
    prefix = "…" if window_start > 0 else ""
    suffix = "…" if window_end < len(expanded) else ""
    shown = prefix + expanded[window_start:window_end] + suffix
    span_start = start - window_start + len(prefix)
    span_end = min(end, window_end) - window_start + len(prefix)
    return shown, span_start, max(1, span_end - span_start)


class _SourceCache:
    """Source lines by path and notebook cell: from the texts given (stdin), or read from disk."""

    def __init__(self, given: Mapping[str, str]) -> None:
        self.given = given
        self.files: dict[str, dict[int | None, list[str]]] = {}

    def line(self, finding: Finding) -> str | None:
        if finding.path not in self.files:
            self.files[finding.path] = self._load(finding.path)
        lines = self.files[finding.path].get(finding.cell)
        if not lines or not 1 <= finding.line <= len(lines):
            return None
        return lines[finding.line - 1]

    def _load(self, path: str) -> dict[int | None, list[str]]:
        from reslint.notebook import NotANotebook, is_notebook, parse_notebook
        from reslint.source import read_source, split_lines

        text = self.given.get(path)
        if text is None and os.path.isfile(path):
            text = read_source(path).text
        if text is None:
            return {}
        if not is_notebook(path):
            return {None: split_lines(text)}
        try:
            return {cell: lines for cell, lines in parse_notebook(text).cell_lines().items()}
        except NotANotebook:
            return {}
