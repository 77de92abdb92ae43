"""The one vocabulary of findings shared by the static and the dynamic pass."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from enum import Enum
from typing import Any


class Severity(str, Enum):
    ERROR = "error"
    WARNING = "warning"
    INFO = "info"


class Applicability(str, Enum):
    """SAFE: the meaning the author evidently intended, nothing else changes (applied by --fix).
    UNSAFE: it changes what the network computes (applied only with --unsafe-fixes)."""

    SAFE = "safe"
    UNSAFE = "unsafe"


@dataclass(frozen=True)
class TextEdit:
    """Replace the text from (line, column) up to (end_line, end_column), 1-based, end exclusive, with
    `content`. An insertion has an empty span."""

    line: int
    column: int
    end_line: int
    end_column: int
    content: str

    def to_dict(self) -> dict[str, Any]:
        """As ruff writes an edit."""
        return {
            "content": self.content,
            "location": {"row": self.line, "column": self.column},
            "end_location": {"row": self.end_line, "column": self.end_column},
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> TextEdit:
        start, end = data["location"], data["end_location"]
        return cls(start["row"], start["column"], end["row"], end["column"], data["content"])


@dataclass(frozen=True)
class FindingFix:
    """The edits that mend a finding, applied all together or not at all."""

    applicability: Applicability
    edits: tuple[TextEdit, ...]

    @property
    def safe(self) -> bool:
        return self.applicability is Applicability.SAFE

    def to_dict(self) -> dict[str, Any]:
        return {
            "applicability": self.applicability.value,
            "edits": [edit.to_dict() for edit in self.edits],
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> FindingFix:
        edits = tuple(TextEdit.from_dict(edit) for edit in data["edits"])
        return cls(Applicability(data["applicability"]), edits)


@dataclass(frozen=True, order=True)
class Finding:
    """One problem at one place. Lines and columns are 1-based, end inclusive of the last line. In a
    notebook, `cell` is the cell's number and the lines are counted within the cell."""

    path: str
    line: int
    column: int
    end_line: int
    end_column: int
    code: str
    severity: Severity
    message: str
    hint: str = ""
    cell: int | None = None
    # How --fix would mend it. Not part of what the finding is: two findings differing only in their
    # fix are the same problem.
    fix: FindingFix | None = field(default=None, compare=False)

    def to_dict(self) -> dict[str, object]:
        """JSON-ready; `cell` only for notebook findings, `fix` only for fixable ones."""
        data = asdict(self)
        data["severity"] = self.severity.value
        if self.cell is None:
            del data["cell"]
        if self.fix is None:
            del data["fix"]
        else:
            data["fix"] = self.fix.to_dict()
        return data

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Finding:
        """The finding `to_dict` gave."""
        fix = data.get("fix")
        return cls(
            **{
                **data,
                "severity": Severity(data["severity"]),
                "fix": FindingFix.from_dict(fix) if fix is not None else None,
            }
        )

    def location(self) -> str:
        """`path:line:col`, or `nb.ipynb:cell 3:12:5` in a notebook."""
        cell = f"cell {self.cell}:" if self.cell is not None else ""
        return f"{self.path}:{cell}{self.line}:{self.column}"


@dataclass
class FileResult:
    """What linting one file gave. `empty`: nothing but whitespace, so nothing was checked."""

    path: str
    findings: list[Finding] = field(default_factory=list)
    empty: bool = False


def finding_order(finding: Finding) -> tuple[str, int, int, int, int, str]:
    """Findings sorted by file, notebook cell, position, code."""
    return (
        finding.path,
        finding.cell or 0,
        finding.line,
        finding.column,
        finding.end_line,
        finding.code,
    )
