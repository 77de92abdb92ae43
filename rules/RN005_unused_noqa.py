"""RN005 unused-noqa."""

from __future__ import annotations

from reslint.findings import Severity
from reslint.rule import Rule


class UnusedNoqaRule(Rule):
    """## What it does
    Reports a reslint code in a `# noqa` comment (or a file's `# reslint: noqa`) that is not a
    reslint code at all, or that silences nothing. Off unless selected (`--extend-select RN005`),
    as ruff's RUF100.

    ## Why is this bad?
    A misspelt code silences nothing and hides that the finding it meant is still there; a comment
    left behind after a fix silences the next real bug on that line. Codes of other linters (`E501`,
    `F401`) are left alone, and where a rule did not run (deselected, or a file with syntax errors)
    reslint cannot tell whether a code is used, so it says nothing.

    ## Example
    ```python
    self.bn = nn.BatchNorm2d(planes)  # noqa: RN2O3
    ```

    Use instead:
    ```python
    self.bn = nn.BatchNorm2d(planes)
    ```
    """

    code = "RN005"
    name = "unused-noqa"
    severity = Severity.WARNING
    file_level = True
    opt_in = True

    INVALID = [
        """
        self.bn = nn.BatchNorm2d(planes)  # noqa: RN2O3
        """,
        """
        # reslint: noqa: RN999
        x = 1
        """,
    ]
    VALID = [
        """
        line = "a line longer than the other linter wants"  # noqa: E501
        """,
    ]
