"""RN002 unreadable-file."""

from __future__ import annotations

from reslint.rule import Rule


class UnreadableFileRule(Rule):
    """## What it does
    Reports a file that is not Python source text: binary content (NUL bytes), bytes that are not
    valid UTF-8 (or not valid in the encoding its coding declaration names), or a notebook that is not
    valid notebook JSON.

    ## Why is this bad?
    Python (or Jupyter) refuses to load such a file, and reslint cannot read it either, so nothing in
    it is checked.

    ## Example
    A model file saved as GBK or Latin-1 by an editor, with no `# -*- coding: ... -*-` line.

    Use instead:
    Save the file as UTF-8 (the default for Python source).
    """

    code = "RN002"
    name = "unreadable-file"
    file_level = True

    INVALID = ["x = 1\0\n"]
    VALID = ["name = 'café'  # UTF-8 is the default encoding of Python source\n"]
