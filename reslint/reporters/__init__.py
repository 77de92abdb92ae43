"""Printing a run's findings: one module per output format, as ruff keeps one per format.

Each format module has `write(report, out)`. rich is imported only by the formats that draw with it,
and only when there is something to draw.
"""

from __future__ import annotations

import importlib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import IO

from reslint.findings import Finding, Severity

# --format NAME -> module in this package. `full` is the default; `text` is its old name.
FORMATS = {
    "full": "full",
    "concise": "concise",
    "json": "json",
    "json-lines": "json_lines",
    "github": "github",
    "sarif": "sarif",
}


@dataclass(frozen=True)
class Report:
    """What a run found, and how to show it."""

    findings: Sequence[Finding]
    files_checked: int
    failed: bool = False  # a path could not be linted: the run exits 2 and never says "passed"
    sources: Mapping[str, str] = field(default_factory=dict)  # text of files not on disk (stdin)
    no_color: bool = False
    quiet: bool = False  # the findings only: no summary line


def write_report(report: Report, output_format: str, out: IO[str]) -> None:
    module = importlib.import_module(f"{__name__}.{FORMATS[output_format]}")
    module.write(report, out)


def summary_line(findings: Sequence[Finding], files_checked: int, failed: bool = False) -> str:
    """'Found 12 findings (9 errors, 3 warnings) in 3 files.' or 'All checks passed: 5 files, no
    findings.' A run that `failed` (a path could not be linted) never says passed."""
    if not findings and failed:
        return f"No findings in {count(files_checked, 'file')}, but not every path could be linted."
    if not findings:
        return f"All checks passed: {count(files_checked, 'file')}, no findings."
    counts = [
        count(sum(1 for f in findings if f.severity == severity), severity.value)
        for severity in (Severity.ERROR, Severity.WARNING, Severity.INFO)
        if any(f.severity == severity for f in findings)
    ]
    files = len({finding.path for finding in findings})
    return (
        f"Found {count(len(findings), 'finding')} ({', '.join(counts)}) in {count(files, 'file')}."
    )


def count(number: int, noun: str) -> str:
    return f"{number} {noun}{'' if number == 1 else 's'}"
