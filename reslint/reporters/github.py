"""`--format github`: GitHub Actions workflow commands, so findings appear on the pull request.

    ::error file=models/resnet.py,line=33,col=12,endLine=33,endColumn=21,title=RN105::`nn.conv2d` ...

https://docs.github.com/actions/reference/workflow-commands-for-github-actions
"""

from __future__ import annotations

from typing import IO

from reslint.findings import Finding, Severity
from reslint.reporters import Report

_COMMAND = {Severity.ERROR: "error", Severity.WARNING: "warning", Severity.INFO: "notice"}


def write(report: Report, out: IO[str]) -> None:
    for finding in report.findings:
        print(annotation(finding), file=out)


def annotation(finding: Finding) -> str:
    properties = {
        "file": finding.path,
        "line": finding.line,
        "col": finding.column,
        "endLine": finding.end_line,
        "endColumn": finding.end_column,
        "title": finding.code,
    }
    listed = ",".join(f"{key}={_escape_property(str(value))}" for key, value in properties.items())
    # Annotations know files and lines, not notebook cells: the cell is named in the message.
    cell = f"cell {finding.cell}: " if finding.cell is not None else ""
    message = cell + finding.message + (f"\nhint: {finding.hint}" if finding.hint else "")
    return f"::{_COMMAND.get(finding.severity, 'error')} {listed}::{_escape_data(message)}"


def _escape_data(text: str) -> str:
    return text.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")


def _escape_property(text: str) -> str:
    return _escape_data(text).replace(":", "%3A").replace(",", "%2C")
