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
    fixes: FixSummary | None = None  # set when fixes may be applied or were (see reslint.fixer)


@dataclass(frozen=True)
class FixSummary:
    """What --fix did, and which fixes the findings left offer."""

    fixed: int = 0  # fixes applied
    unsafe_fixes: bool = False  # --unsafe-fixes: unsafe fixes count as applicable
    applied: bool = False  # --fix or --diff was given

    def marks(self, finding: Finding) -> bool:
        """Whether the finding gets `[*]`: --fix (with the flags given) would mend it."""
        return finding.fix is not None and (finding.fix.safe or self.unsafe_fixes)

    def lines(self, findings: Sequence[Finding]) -> list[str]:
        """'Fixed 3 findings.', '[*] 2 fixable with --fix.', '1 more fix with --unsafe-fixes.'"""
        lines = [f"Fixed {count(self.fixed, 'finding')}."] if self.fixed else []
        fixable = sum(1 for finding in findings if self.marks(finding))
        hidden = sum(1 for finding in findings if finding.fix is not None) - fixable
        if fixable and not self.applied:
            flags = "--fix --unsafe-fixes" if self.unsafe_fixes else "--fix"
            lines.append(f"[*] {fixable} fixable with {flags}.")
        if hidden:
            lines.append(
                f"{count(hidden, 'more fix', 'more fixes')} available with --unsafe-fixes."
            )
        return lines


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


def count(number: int, noun: str, plural: str | None = None) -> str:
    return f"{number} {noun if number == 1 else plural or noun + 's'}"
