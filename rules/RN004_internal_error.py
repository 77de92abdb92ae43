"""RN004 internal-error."""

from __future__ import annotations

from reslint.rule import Rule


class InternalErrorRule(Rule):
    """## What it does
    Reports that reslint itself failed on a file (or one rule failed on it), with the error and where
    in reslint it was raised; the rest of the run goes on.

    ## Why is this bad?
    It is reslint's bug, not yours, but it means the file (or that rule) was not checked: a clean
    result for it would not be true. Please report it with the file, or a smaller one that shows it;
    `RESLINT_DEBUG=1` prints the traceback.

    ## Example
    A file whose expressions nest so deeply that the analysis runs out of stack (`RecursionError`).

    Use instead:
    Report it; until it is fixed, `# reslint: noqa: RN004` in the file, or
    `per-file-ignores = {"that_file.py" = ["RN004"]}` in the configuration, keeps the run clean.
    """

    code = "RN004"
    name = "internal-error"
    file_level = True
    # No examples: a real input that breaks reslint is a bug to fix, not an example to keep.
