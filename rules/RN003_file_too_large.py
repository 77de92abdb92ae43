"""RN003 file-too-large."""

from __future__ import annotations

from reslint.findings import Severity
from reslint.rule import Rule


class FileTooLargeRule(Rule):
    """## What it does
    Reports a file that reslint skipped because it is larger than the size limit (5 MB).

    ## Why is this bad?
    A Python file that large is almost always generated code or data, not a model definition; parsing
    it would make the run slow without finding anything useful. Nothing in it is checked.

    ## Example
    A 40 MB `weights.py` holding a state dict as literals.

    Use instead:
    Keep data in data files (`.pt`, `.npz`, `.json`) and lint the model code.
    """

    code = "RN003"
    name = "file-too-large"
    severity = Severity.WARNING
    file_level = True
    # No examples: an INVALID one would be 5 MB; tests/test_engine.py writes such a file instead.
