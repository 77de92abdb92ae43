"""`--format concise`: one line a finding (`path:line:col: CODE [severity] message`), then the summary."""

from __future__ import annotations

from typing import IO, TYPE_CHECKING

from reslint.reporters import Report
from reslint.reporters.console import header, write_text_report

if TYPE_CHECKING:
    from rich.console import Console


def write(report: Report, out: IO[str]) -> None:
    def body(console: Console) -> None:
        for finding in report.findings:
            console.print(header(finding, report.fixes is not None and report.fixes.marks(finding)))

    write_text_report(report, out, body)
