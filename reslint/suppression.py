"""`# noqa` comments: which findings they silence, and which of them silence nothing (RN005).

`# noqa` at the end of a line silences every finding on that line; `# noqa: RN203, RN1` only those
codes or prefixes. `# reslint: noqa` anywhere in a file silences the whole file; `# reslint: noqa:
RN109` only those codes in it. Comments are found with the tokenizer, so `# noqa` inside a string does
not count.
"""

from __future__ import annotations

import io
import re
from collections.abc import Iterable
from dataclasses import dataclass, field

from reslint.findings import Finding
from reslint.source import split_lines
from reslint.syntax import find_comments

_CODES = (
    r"(?P<codes>[A-Za-z][A-Za-z0-9]*(?:\s*,\s*[A-Za-z][A-Za-z0-9]*|\s+[A-Za-z]+[0-9][A-Za-z0-9]*)*)"
)
_NOQA = re.compile(rf"#\s*noqa\b(?:\s*:\s*{_CODES})?", re.I)
_FILE_NOQA = re.compile(rf"#\s*reslint\s*:\s*noqa\b(?:\s*:\s*{_CODES})?", re.I)
_CODE = re.compile(r"[A-Z][A-Z0-9]*")
# Codes with other prefixes belong to other linters (E501, F401, ...): never reported as unknown.
OWN_PREFIXES = ("RN", "RD")


@dataclass(frozen=True)
class Noqa:
    """One noqa comment: `codes` None silences everything (on its line, or in the file)."""

    line: int
    codes: frozenset[str] | None
    column: int = 1
    width: int = 1  # of the comment, for the span of an RN005 finding

    def silences(self, finding: Finding) -> bool:
        return self.codes is None or any(finding.code.startswith(code) for code in self.codes)


@dataclass(frozen=True)
class Suppressions:
    by_line: dict[int, Noqa] = field(default_factory=dict)
    file: Noqa | None = None

    @classmethod
    def of(cls, text: str) -> Suppressions:
        if "noqa" not in text.lower():
            return cls()
        by_line: dict[int, Noqa] = {}
        file: Noqa | None = None
        lines = split_lines(text)
        for line, comment in comments(text).items():
            column = _column(lines, line, comment)
            whole_file = _FILE_NOQA.search(comment)
            if whole_file is not None:
                codes = _codes(whole_file.group("codes"))
                file = file or Noqa(line, codes, column, len(whole_file.group(0)))
                continue
            match = _NOQA.search(comment)
            if match is not None:
                codes = _codes(match.group("codes"))
                by_line[line] = Noqa(line, codes, column + match.start(), len(match.group(0)))
        return cls(by_line, file)

    def noqa_for(self, finding: Finding) -> Noqa | None:
        """The comment that silences `finding`, if any."""
        for noqa in (self.by_line.get(finding.line), self.file):
            if noqa is not None and noqa.silences(finding):
                return noqa
        return None

    def comments(self) -> list[Noqa]:
        return [*self.by_line.values(), *([self.file] if self.file else [])]


@dataclass(frozen=True)
class UnusedCode:
    """A code in a noqa comment that is not a reslint code, or silences nothing here."""

    noqa: Noqa
    code: str
    known: bool


def unused_codes(
    suppressions: Suppressions,
    silenced: Iterable[tuple[Noqa, Finding]],
    known: Iterable[str],
    checked: frozenset[str],
) -> list[UnusedCode]:
    """The own-prefix codes of noqa comments that are unknown, or that silenced nothing although every
    code they name was checked (`checked`): where a rule did not run, reslint cannot tell."""
    known_codes = list(known)
    used = {(id(noqa), finding.code) for noqa, finding in silenced}
    unused: list[UnusedCode] = []
    for noqa in suppressions.comments():
        for code in sorted(noqa.codes or ()):
            if not code.startswith(OWN_PREFIXES):
                continue
            named = [known_code for known_code in known_codes if known_code.startswith(code)]
            if not named:
                unused.append(UnusedCode(noqa, code, known=False))
            elif all(name in checked for name in named) and not any(
                (id(noqa), name) in used for name in named
            ):
                unused.append(UnusedCode(noqa, code, known=True))
    return unused


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


def _codes(listed: str | None) -> frozenset[str] | None:
    return frozenset(_CODE.findall(listed.upper())) if listed else None


def _column(lines: list[str], line: int, comment: str) -> int:
    text = lines[line - 1] if 0 < line <= len(lines) else ""
    return max(text.rfind(comment), 0) + 1
