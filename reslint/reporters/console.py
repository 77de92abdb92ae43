"""The rich console the text formats (and the dynamic pass) draw on, and the pieces they share."""

from __future__ import annotations

import os
import sys
from collections.abc import Callable, Sequence
from typing import IO, TYPE_CHECKING

from reslint.findings import Finding, Severity
from reslint.reporters import Report, summary_line

if TYPE_CHECKING:
    from rich.console import Console
    from rich.text import Text

SEVERITY_STYLE = {
    Severity.ERROR: "bold red",
    Severity.WARNING: "bold yellow",
    Severity.INFO: "bold blue",
}


# Control characters in text that reslint did not write (a model's output and exception messages, a source
# line, a file or layer name) must not drive the terminal: C0 controls but tab and newline, and DEL, show as
# their Unicode control pictures (one character for one, so columns stay put), C1 controls as U+FFFD.
_CONTROL_PICTURES = {
    **{code: 0x2400 + code for code in range(32) if chr(code) not in "\t\n"},
    0x7F: 0x2421,
    **{code: 0xFFFD for code in range(0x80, 0xA0)},
}


def visible(text: str) -> str:
    """`text` with its control characters made visible and harmless (see _CONTROL_PICTURES)."""
    return text.translate(_CONTROL_PICTURES)


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


def severity_of(finding: Finding) -> Severity:
    try:
        return Severity(finding.severity)
    except ValueError:
        return Severity.ERROR


def header(finding: Finding, fixable: bool = False) -> Text:
    """`path:line:col: CODE [severity] message`, with `[*]` after the code when --fix would mend it."""
    from rich.text import Text

    style = SEVERITY_STYLE[severity_of(finding)]
    return Text.assemble(
        (f"{visible(finding.location())}:", "bold"),
        " ",
        (finding.code, style),
        " ",
        ("[*] ", "bold cyan") if fixable else "",
        (f"[{severity_of(finding).value}]", style),
        " ",
        visible(finding.message),
    )


def render_summary(
    findings: Sequence[Finding], files_checked: int, console: Console, failed: bool = False
) -> None:
    from rich.text import Text

    style = (
        "bold red"
        if any(f.severity == Severity.ERROR for f in findings) or failed
        else "bold yellow"
        if findings
        else "bold green"
    )
    console.print(Text(summary_line(findings, files_checked, failed), style=style))


def write_text_report(report: Report, out: IO[str], body: Callable[[Console], None]) -> None:
    """A text format: its `body` then the summary line (none with --quiet). A clean run prints its
    one line without loading rich."""
    fix_lines = report.fixes.lines(report.findings) if report.fixes is not None else []
    if not report.findings:
        if not report.quiet:
            print(summary_line(report.findings, report.files_checked, report.failed), file=out)
            for line in fix_lines:
                print(line, file=out)
        return
    console = make_console(report.no_color, out)
    body(console)
    if not report.quiet:
        render_summary(report.findings, report.files_checked, console, report.failed)
        for line in fix_lines:
            console.print(line)
