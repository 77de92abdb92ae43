"""Printing findings: a rich text report with code frames, or one JSON array.

rich is imported only when something is printed with it, so a clean run or `--format json` does not pay
for it. The dynamic pass reuses `make_console`, `render_findings` and `summary_line` for its findings.
"""

from __future__ import annotations

import json
import os
import sys
from collections.abc import Iterable, Mapping, Sequence
from typing import IO, TYPE_CHECKING

from reslint.findings import Finding, Severity

if TYPE_CHECKING:
    from rich.console import Console
    from rich.text import Text

MAX_LINE_CELLS = 120
TAB_SIZE = 4

_SEVERITY_STYLE = {
    Severity.ERROR: "bold red",
    Severity.WARNING: "bold yellow",
    Severity.INFO: "bold blue",
}


def colors_disabled(no_color: bool = False) -> bool:
    """--no-color, or a non-empty NO_COLOR in the environment (https://no-color.org)."""
    return no_color or bool(os.environ.get("NO_COLOR"))


def make_console(no_color: bool = False, file: IO[str] | None = None) -> Console:
    """A console that writes no escape codes at all with --no-color/NO_COLOR or when `file` is not a terminal."""
    from rich.console import Console

    plain = colors_disabled(no_color)
    return Console(
        file=file or sys.stdout,
        color_system=None if plain else "auto",
        no_color=plain,
        highlight=False,
        markup=False,
        emoji=False,
        soft_wrap=True,
    )


def render_findings(
    findings: Sequence[Finding],
    console: Console,
    source_lines: Mapping[str, str | Sequence[str]] | None = None,
) -> None:
    """Print each finding: `path:line:col: CODE [severity] message`, the source line with a ^^^ marker
    under the span, and `hint: ...`. `source_lines` maps a path to its text (or list of lines); paths
    not in it are read from disk, and a finding whose line is unavailable is printed without a frame."""
    sources = _SourceCache(source_lines or {})
    for finding in findings:
        console.print(_header(finding))
        line = sources.line(finding.path, finding.line)
        if line is not None:
            for row in _frame(finding, line):
                console.print(row)
        if finding.hint:
            console.print(_hint(finding.hint))
        console.print()


def summary_line(findings: Sequence[Finding], files_checked: int, failed: bool = False) -> str:
    """'Found 12 findings (9 errors, 3 warnings) in 3 files.' or 'All checks passed: 5 files, no
    findings.' A run that `failed` (a path could not be linted) never says passed."""
    if not findings and failed:
        return (
            f"No findings in {_count(files_checked, 'file')}, but not every path could be linted."
        )
    if not findings:
        return f"All checks passed: {_count(files_checked, 'file')}, no findings."
    counts = [
        _count(sum(1 for f in findings if f.severity == severity), severity.value)
        for severity in (Severity.ERROR, Severity.WARNING, Severity.INFO)
        if any(f.severity == severity for f in findings)
    ]
    files = len({finding.path for finding in findings})
    return f"Found {_count(len(findings), 'finding')} ({', '.join(counts)}) in {_count(files, 'file')}."


def render_summary(
    findings: Sequence[Finding], files_checked: int, console: Console, failed: bool = False
) -> None:
    from rich.text import Text

    style = (
        "bold red"
        if any(f.severity == Severity.ERROR for f in findings)
        else "bold yellow"
        if findings
        else "bold green"
    )
    console.print(Text(summary_line(findings, files_checked, failed), style=style))


def print_text_report(
    findings: Sequence[Finding],
    files_checked: int,
    no_color: bool = False,
    source_lines: Mapping[str, str | Sequence[str]] | None = None,
    file: IO[str] | None = None,
    failed: bool = False,
) -> None:
    """The whole text report. A clean run prints its one line without loading rich."""
    out = file or sys.stdout
    if not findings:
        print(summary_line(findings, files_checked, failed), file=out)
        return
    console = make_console(no_color, out)
    render_findings(findings, console, source_lines)
    render_summary(findings, files_checked, console, failed)


def findings_to_json(findings: Iterable[Finding]) -> str:
    """One JSON array of Finding.to_dict() objects."""
    return json.dumps([finding.to_dict() for finding in findings], indent=2, ensure_ascii=False)


def print_json_report(findings: Iterable[Finding], file: IO[str] | None = None) -> None:
    print(findings_to_json(findings), file=file or sys.stdout)


# ----------------------------------------------------------------------------------------------------------


def _count(number: int, noun: str) -> str:
    return f"{number} {noun}{'' if number == 1 else 's'}"


def _severity(finding: Finding) -> Severity:
    try:
        return Severity(finding.severity)
    except ValueError:
        return Severity.ERROR


def _header(finding: Finding) -> Text:
    from rich.text import Text

    style = _SEVERITY_STYLE[_severity(finding)]
    return Text.assemble(
        (f"{finding.path}:{finding.line}:{finding.column}:", "bold"),
        " ",
        (finding.code, style),
        " ",
        (f"[{_severity(finding).value}]", style),
        " ",
        finding.message,
    )


def _hint(hint: str) -> Text:
    from rich.text import Text

    return Text.assemble(("  hint: ", "bold cyan"), hint)


def _frame(finding: Finding, line: str) -> list[Text]:
    """The source line (cropped around the span when very long) and a marker row under the span."""
    from rich.cells import cell_len
    from rich.text import Text

    shown, start, width = _excerpt(
        line, finding.column, finding.end_column if finding.end_line == finding.line else None
    )
    gutter = str(finding.line)
    style = _SEVERITY_STYLE[_severity(finding)]
    source_row = Text.assemble((f" {gutter} | ", "blue"), shown)
    marker_row = Text.assemble(
        (f" {' ' * len(gutter)} | ", "blue"),
        " " * cell_len(shown[:start]),
        ("^" * max(1, cell_len(shown[start : start + width])), style),
    )
    return [source_row, marker_row]


def _excerpt(line: str, column: int, end_column: int | None) -> tuple[str, int, int]:
    """(text to show, index of the span in it, span length in characters). Tabs are expanded; a line
    longer than MAX_LINE_CELLS is cropped to a window around the span, with '…' where it was cut."""
    text = line.rstrip("\r\n")
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
    def __init__(self, given: Mapping[str, str | Sequence[str]]) -> None:
        self.given = given
        self.lines: dict[str, list[str] | None] = {}

    def line(self, path: str, number: int) -> str | None:
        if path not in self.lines:
            self.lines[path] = self._load(path)
        lines = self.lines[path]
        if not lines or not 1 <= number <= len(lines):
            return None
        return lines[number - 1]

    def _load(self, path: str) -> list[str] | None:
        from reslint.source import split_lines

        given = self.given.get(path)
        if isinstance(given, str):
            return split_lines(given)
        if given is not None:
            return list(given)
        if not os.path.isfile(path):
            return None
        from reslint.source import read_source

        source = read_source(path)
        return split_lines(source.text) if source.text is not None else None
