"""The one vocabulary of findings shared by the static and the dynamic pass."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from enum import Enum


class Severity(str, Enum):
    ERROR = "error"
    WARNING = "warning"
    INFO = "info"


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

    def to_dict(self) -> dict[str, object]:
        """JSON-ready; `cell` only for notebook findings."""
        data = asdict(self)
        data["severity"] = self.severity.value
        if self.cell is None:
            del data["cell"]
        return data

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
