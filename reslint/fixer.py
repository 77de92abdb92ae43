"""--fix on one text: apply the findings' fixes, lint again, repeat until nothing changes (as ruff does).

A round applies every fix that does not overlap one taken before it (fixes are taken in the order of
their position), then checks that the result still parses; if it does not, the round is redone one fix
at a time and each fix that breaks parsing is dropped. Edits are text spans, so everything outside them
stays byte for byte.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

from reslint.findings import Finding, TextEdit

if TYPE_CHECKING:
    from reslint.engine import Checks, FileGroup

# A fix that makes another fixable finding appear can chain; ten rounds is far beyond any real chain
# and stops a pair of rules that would undo each other forever.
MAX_ROUNDS = 10

_LINE_END = re.compile(r"\r\n|\r|\n")  # the line ends libcst and the tokenizer count

Span = tuple[int, int]


@dataclass
class FixOutcome:
    """The text after fixing, what is still found in it, and how many fixes of each code were applied."""

    text: str
    findings: list[Finding]
    fixed: Counter[str]

    @property
    def fixed_count(self) -> int:
        return sum(self.fixed.values())


def applicable(finding: Finding, unsafe: bool) -> bool:
    """Whether --fix (with --unsafe-fixes when `unsafe`) applies the finding's fix."""
    return finding.fix is not None and (unsafe or finding.fix.safe)


def fix_text(
    text: str, path: str, checks: Checks, group: FileGroup | None = None, unsafe: bool = False
) -> FixOutcome:
    """`text` (the file `path`) with its fixes applied round after round, and what is left to report."""
    from reslint.engine import lint_source

    fixed: Counter[str] = Counter()
    findings = lint_source(text, path, checks, group)
    for _ in range(MAX_ROUNDS):
        text_after, applied = apply_fixes(text, [f for f in findings if applicable(f, unsafe)])
        if not applied or text_after == text:
            break
        text = text_after
        fixed.update(finding.code for finding in applied)
        findings = lint_source(text, path, checks, group)
    return FixOutcome(text, findings, fixed)


def apply_fixes(text: str, findings: Sequence[Finding]) -> tuple[str, list[Finding]]:
    """The text with the fixes of `findings` that do not overlap, and the findings whose fix was
    applied. The result parses at least as well as `text` did (see no_worse)."""
    starts = line_starts(text)
    first_end = _LINE_END.search(text)
    newline = first_end.group() if first_end else "\n"
    fixes = [(f, _spans(f, starts, newline)) for f in findings if f.fix is not None and f.fix.edits]
    chosen = _without_overlaps(fixes)
    before = syntax_errors(text)
    result = _edited(text, chosen)
    if no_worse(before, result):
        return result, [finding for finding, _ in chosen]
    kept: list[tuple[Finding, list[tuple[Span, str]]]] = []
    for candidate in chosen:  # one at a time: drop each fix that breaks parsing
        if no_worse(before, _edited(text, [*kept, candidate])):
            kept.append(candidate)
    return _edited(text, kept), [finding for finding, _ in kept]


def syntax_errors(text: str) -> Counter[str] | None:
    """The syntax errors of `text` (their messages), None when libcst gives no tree for it."""
    from reslint.syntax import parse_source

    parsed = parse_source(text)
    return Counter(issue.message for issue in parsed.issues) if parsed.module is not None else None


def no_worse(before: Counter[str] | None, text: str) -> bool:
    """Whether `text` parses at least as well as the text it was made from: a tree, and no syntax
    error that was not there before (a file without errors must stay without). Made from a text
    that gave no tree either (inconsistent tabs past what the repair mends), it is no worse."""
    after = syntax_errors(text)
    if after is None:
        return before is None
    return before is None or after <= before


def line_starts(text: str) -> list[int]:
    """The offset at which each line of `text` starts (line 1 at index 0), and one more: where the line
    after the last would start (an edit of whole lines ends there)."""
    starts = [0, *(match.end() for match in _LINE_END.finditer(text))]
    return starts if starts[-1] == len(text) else [*starts, len(text)]


def offset(starts: list[int], line: int, column: int) -> int:
    """The offset of a 1-based (line, column) position."""
    return starts[line - 1] + column - 1


def _spans(finding: Finding, starts: list[int], newline: str) -> list[tuple[Span, str]]:
    """The fix's edits as offsets, the lines they add ending as the file's lines do."""
    assert finding.fix is not None
    return sorted(
        (_span(edit, starts), edit.content.replace("\n", newline)) for edit in finding.fix.edits
    )


def _span(edit: TextEdit, starts: list[int]) -> Span:
    return offset(starts, edit.line, edit.column), offset(starts, edit.end_line, edit.end_column)


def _without_overlaps(
    fixes: list[tuple[Finding, list[tuple[Span, str]]]],
) -> list[tuple[Finding, list[tuple[Span, str]]]]:
    """Fixes in the order of their first edit, each kept only when none of its edits touches an edit
    of a fix kept before it (the next round re-lints and gets the others if they still apply)."""
    taken: list[Span] = []
    kept = []
    for finding, edits in sorted(fixes, key=lambda fix: fix[1][0][0]):
        spans = [span for span, _ in edits]
        if any(_touch(span, other) for span in spans for other in taken):
            continue
        taken.extend(spans)
        kept.append((finding, edits))
    return kept


def _touch(one: Span, other: Span) -> bool:
    # Touching counts: two insertions at one place, or an insertion at the end of a replacement,
    # would leave their order to chance.
    return one[0] <= other[1] and other[0] <= one[1]


def _edited(text: str, fixes: Sequence[tuple[Finding, list[tuple[Span, str]]]]) -> str:
    edits = sorted((edit for _, edits in fixes for edit in edits), reverse=True)
    for (start, end), content in edits:  # from the end, so earlier offsets stay valid
        text = text[:start] + content + text[end:]
    return text
