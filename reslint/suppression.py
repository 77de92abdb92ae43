"""`# noqa` comments: which findings they silence.

`# noqa` at the end of a line silences every finding on that line; `# noqa: RN203, RN1` only those
codes or prefixes. Comments are found with the tokenizer, so `# noqa` inside a string does not count.
"""

from __future__ import annotations

import io
import re
from dataclasses import dataclass

from reslint.findings import Finding
from reslint.syntax import find_comments

_NOQA = re.compile(
    r"#\s*noqa\b(?:\s*:\s*(?P<codes>[A-Za-z]+[0-9]*(?:\s*,\s*[A-Za-z]+[0-9]*|\s+[A-Za-z]+[0-9]+)*))?",
    re.I,
)
_CODE = re.compile(r"[A-Z]+[0-9]*")


@dataclass(frozen=True)
class Noqa:
    """One `# noqa` comment: `codes` None silences everything on its line."""

    line: int
    codes: frozenset[str] | None

    def silences(self, finding: Finding) -> bool:
        return self.codes is None or any(finding.code.startswith(code) for code in self.codes)


@dataclass(frozen=True)
class Suppressions:
    by_line: dict[int, Noqa]

    @classmethod
    def of(cls, text: str) -> Suppressions:
        return cls(noqa_by_line(text))

    def silences(self, finding: Finding) -> bool:
        noqa = self.by_line.get(finding.line)
        return noqa is not None and noqa.silences(finding)


def noqa_by_line(text: str) -> dict[int, Noqa]:
    found: dict[int, Noqa] = {}
    for line, comment in comments(text).items():
        match = _NOQA.search(comment)
        if match is None:
            continue
        codes = match.group("codes")
        found[line] = Noqa(line, frozenset(_CODE.findall(codes.upper())) if codes else None)
    return found


def comments(text: str) -> dict[int, str]:
    """Comments by line from the tokenizer. tokenize stops at the first error of a broken file; the
    tolerant scanner of reslint.syntax takes over then."""
    import tokenize

    found: dict[int, str] = {}
    try:
        for token in tokenize.generate_tokens(io.StringIO(text).readline):
            if token.type == tokenize.COMMENT:
                found[token.start[0]] = token.string
    except (tokenize.TokenError, SyntaxError):
        return find_comments(text)
    return found
