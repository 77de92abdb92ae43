"""`--format concise`: one line a finding (`path:line:col: CODE [severity] message`), then the summary."""

from __future__ import annotations

from typing import IO

from reslint.reporters import Report, summary_line
from reslint.reporters.console import header, make_console, render_summary


def write(report: Report, out: IO[str]) -> None:
    if not report.findings:
        if not report.quiet:
            print(summary_line(report.findings, report.files_checked, report.failed), file=out)
        return
    console = make_console(report.no_color, out)
    for finding in report.findings:
        console.print(header(finding))
    if not report.quiet:
        render_summary(report.findings, report.files_checked, console, report.failed)
