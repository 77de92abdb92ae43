"""Finds every syntax error in a file and recovers a source the rules can still analyse.

CPython's parser reports one error at a time, with good messages. To find the others, the offending
statement is repaired or blanked and the source parsed again, up to MAX_ROUNDS times. Repairs keep the
number of lines (so rule findings on the recovered source point at the user's lines) and are tried from
the most precise to the most drastic; a repair is kept only if the parser then gets further without
tripping over the repair itself. Errors that exist only because of an earlier repair are not reported.
"""

from __future__ import annotations

import ast
import io
import re
import tokenize
import warnings
from collections.abc import Iterator
from dataclasses import dataclass, field

import libcst as cst

from reslint.fast_parse import parse_module
from reslint.source import split_lines

MAX_ROUNDS = 50
TAB_SHOWN = 4  # columns an editor draws for a tab, where the author of a TabError saw the line
# Each round re-parses and re-scans the whole file: a budget in lines bounds a huge file with many errors.
MAX_WORK_LINES = 400_000

_INTERESTING = re.compile(r"""[#'"()\[\]{}\\]""")
_STRING_BODY = {
    quote: re.compile(r"\\.|" + re.escape(quote), re.S) for quote in ("'", '"', "'''", '"""')
}
_CLOSER_OF = {"(": ")", "[": "]", "{": "}"}
_ON_LINE = re.compile(r"on line (\d+)")
_MISMATCH = re.compile(
    r"closing parenthesis '(.)' does not match opening parenthesis '(.)'(?: on line (\d+))?"
)
_NEVER_CLOSED = re.compile(r"'(.)' was never closed")
_INVALID_CHARACTER = re.compile(
    r"invalid (?:non-printable )?character (?:'(.)' )?\(?U\+([0-9A-Fa-f]+)\)?"
)
_NUMBER_THEN_CHARACTER = re.compile(r"[0-9][0-9_.]*([^\x00-\x7f])")
_KEYWORD_ARGUMENT = re.compile(r"\s*[A-Za-z_]\w*\s*=(?!=)")
_IDENTIFIER = re.compile(r"[A-Za-z_]\w*\Z")
_DEF_HEADER = re.compile(r"(\s*)((?:async\s+)?def)\s+([A-Za-z_]\w*)\s*\(")
_PARAMETER_NAME = re.compile(r"[(,]\s*(\*{0,2}[A-Za-z_]\w*)\s*(?=[:=,)]|\Z)")
_PARAMETER_LINE = re.compile(r"(\s*)(\*{0,2}[A-Za-z_]\w*)\s*[:=,)]?")
_FIRST_WORD = re.compile(r"\s*([A-Za-z_]+)")

# Look-alike characters that blog platforms and CJK input methods put into code.
_CONFUSABLES = {
    "，": ",",
    "（": "(",
    "）": ")",
    "：": ":",
    "；": ";",
    "＝": "=",
    "［": "[",
    "］": "]",
    "【": "[",
    "】": "]",
    "“": '"',
    "”": '"',
    "‘": "'",
    "’": "'",
    "＋": "+",
    "－": "-",
    "＊": "*",
    "／": "/",
    "．": ".",
    "。": ".",
    "＜": "<",
    "＞": ">",
    "｛": "{",
    "｝": "}",
    "\u3000": " ",
    "\u00a0": " ",
    "\u200b": " ",
    "\ufeff": " ",
    "\u2013": "-",
    "\u2014": "-",
    "\u2212": "-",
}

# A broken compound-statement header is replaced by a header of the same family, so that its body stays
# valid and, for except/finally/else/elif, the statement it belongs to stays complete.
_HEADER_REPLACEMENT = {
    "try": "try:",
    "except": "except BaseException:",
    "finally": "finally:",
    "else": "else:",
    "elif": "elif True:",
    "case": "case _ if True:",
}


@dataclass(frozen=True)
class SyntaxIssue:
    """One syntax error, anchored where the user has to fix it. Columns are 1-based, end exclusive."""

    line: int
    column: int
    end_line: int
    end_column: int
    message: str
    hint: str = ""


@dataclass(frozen=True)
class ParseResult:
    """What the parser made of a file: its syntax errors, the recovered source and its libcst tree.

    `module` is None when no usable tree could be built (the rules are skipped then)."""

    issues: tuple[SyntaxIssue, ...]
    recovered: str | None
    module: cst.Module | None
    shifts: tuple[Shift, ...] = ()

    def original_column(self, line: int, column: int) -> int:
        """A column of the recovered source as a column of the user's file (repairs may move text)."""
        return original_column(self.shifts, line, column)


# (line, first recovered column that moved, by how much): recovered column = original column + delta.
Shift = tuple[int, int, int]


def original_column(shifts: tuple[Shift, ...], line: int, column: int) -> int:
    for shifted_line, start, delta in reversed(shifts):
        if shifted_line == line and column >= start:
            column = max(1, column - delta)
    return column


def parse_source(source: str, path: str = "<unknown>") -> ParseResult:
    """Report every syntax error of `source` and parse what can be recovered with libcst.

    A file CPython accepts has no syntax error, even where libcst gives up: then the rules run on the
    file with its over-long string concatenations cut short, or are skipped."""
    issues, recovered, shifts = _check(source)
    if recovered is None:
        return ParseResult(tuple(issues), None, None)
    if len(recovered) > _LARGE_SOURCE:
        recovered = _with_short_number_lists(recovered) or recovered
    module = _libcst_module(recovered)
    if module is None and not issues:
        shortened = _with_short_concatenations(recovered)
        module = _libcst_module(shortened) if shortened is not None else None
        recovered = shortened if module is not None else recovered
    return ParseResult(tuple(issues), recovered, module, shifts)


def _libcst_module(source: str) -> cst.Module | None:
    try:
        return parse_module(source)
    except (cst.ParserSyntaxError, RecursionError, MemoryError):
        return None


Position = tuple[int, int]  # (line, column) as tokenize gives them


# libcst's parser fails on an implicit concatenation of more than 3,000 string literals (libcst 1.9,
# measured), which CPython accepts. A run that long is data, not model code: every literal of it but
# the first is blanked, which keeps every line, and every other token's column, where it was.
_LONG_CONCATENATION = 1000


def _with_short_concatenations(source: str) -> str | None:
    """`source` with its long implicit string concatenations cut to their first literal; None when it has
    none, or when the result would not be the same valid Python around them."""
    if "\r" in source:  # tokenize and split_lines would count lines differently
        return None
    runs: list[list[tokenize.TokenInfo]] = [[]]
    for token in tokenize.generate_tokens(io.StringIO(source).readline):
        if token.type == tokenize.STRING:
            runs[-1].append(token)
        elif token.type not in (tokenize.NL, tokenize.COMMENT) and runs[-1]:
            runs.append([])
    return _blanked(
        source,
        [
            (token.start, token.end)
            for run in runs
            if len(run) > _LONG_CONCATENATION
            for token in run[1:]
        ],
    )


# A list of numbers this long is data (a table of weights, a lookup), not model code, and libcst
# spends about 4 KB a number on it (a 4.6 MB list: 2.7 GB). Only sources this large are tokenized
# for it.
_LARGE_SOURCE = 1_000_000
_LONG_NUMBER_LIST = 10_000


def _with_short_number_lists(source: str) -> str | None:
    """`source` with each run of more than _LONG_NUMBER_LIST comma-separated numbers cut to its
    first number, in place (`[0, 1, 2, ...]` -> `[0         ]`: every line and every other token's
    column stays where it was); None when it has none, or when the result would not compile."""
    if "\r" in source:  # tokenize and split_lines would count lines differently
        return None
    long_runs: list[tuple[Position, Position]] = []  # (end of first number, run end)
    first: Position | None = None
    last: Position = (0, 0)
    count = 0
    try:
        for token in tokenize.generate_tokens(io.StringIO(source).readline):
            if token.type == tokenize.NUMBER or (
                first is not None and token.type == tokenize.OP and token.string in (",", "-")
            ):
                first = first or token.end
                last = token.end
                count += token.type == tokenize.NUMBER
            elif token.type not in (tokenize.NL, tokenize.COMMENT) and first is not None:
                if count > _LONG_NUMBER_LIST:
                    long_runs.append((first, last))
                first, count = None, 0
    except (tokenize.TokenError, SyntaxError):
        return None
    return _blanked(source, long_runs)


def _blanked(source: str, regions: list[tuple[Position, Position]]) -> str | None:
    """`source` with each region [start, end) turned into spaces, line endings kept, so that every
    line and every other token's column stays where it was; None when there is nothing to blank or
    the result would not compile."""
    if not regions:
        return None
    spans: dict[int, list[tuple[int, int]]] = {}  # line -> spans of columns (end -1: to the end)
    for start, end in regions:
        for line in range(start[0], end[0] + 1):
            first = start[1] if line == start[0] else 0
            last = end[1] if line == end[0] else -1
            spans.setdefault(line, []).append((first, last))
    lines = split_lines(source)
    for number, line_spans in spans.items():
        lines[number - 1] = _blank_spans(lines[number - 1], line_spans)
    shortened = "".join(lines)
    return shortened if _compile_error(shortened, full=False) is None else None


def _blank_spans(line: str, spans: list[tuple[int, int]]) -> str:
    """`line` with the character spans [start, end) turned into spaces (end -1: up to the line ending)."""
    body, ending = line[: len(line) - len(_ending(line))], _ending(line)
    pieces, position = [], 0
    for start, end in sorted(spans):
        end = len(body) if end == -1 else end
        pieces += [body[position:start], " " * (end - start)]
        position = end
    return "".join(pieces) + body[position:] + ending


def check_syntax(source: str) -> tuple[list[SyntaxIssue], str | None]:
    """All syntax errors of `source` (one per offending line) and a recovered source with the same lines.

    The recovered source is None when recovery gave up (too many errors, or the parser itself failed)."""
    issues, recovered, _ = _check(source)
    return issues, recovered


def _check(source: str) -> tuple[list[SyntaxIssue], str | None, tuple[Shift, ...]]:
    first = _compile_error(source, full=True)
    if first is None:
        return [], source, ()
    if isinstance(first, _Fatal):
        return [first.issue(source)], None, ()
    if _compile_error(source, full=False) is None:
        # Only the bytecode compiler objects ('return' outside function, ...): the tree is still fine.
        lines = split_lines(source)
        return [_describe(first, _Layout.scan(lines), None)], source, ()
    return _Recovery(source).run()


def find_comments(source: str) -> dict[int, str]:
    """Comment text by 1-based line, tolerant of broken files (tokenize stops at the first error)."""
    return _Layout.scan(split_lines(source)).comments


class _Fatal:
    """The parser could not run at all (nesting too deep, memory, NUL bytes)."""

    def __init__(self, reason: str) -> None:
        self.reason = reason

    def issue(self, source: str) -> SyntaxIssue:
        return SyntaxIssue(1, 1, 1, 2, f"syntax error: {self.reason}", "")


def _compile_error(text: str, full: bool) -> SyntaxError | _Fatal | None:
    flags = 0 if full else ast.PyCF_ONLY_AST
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            compile(text, "<reslint>", "exec", flags, dont_inherit=True)
    except SyntaxError as error:
        return error
    except (RecursionError, MemoryError):
        return _Fatal("the file is nested too deeply for the Python parser")
    except ValueError as error:
        return _Fatal(str(error))
    return None


# ----------------------------------------------------------------------------------------------------------
# A tolerant scan of the source: strings, comments, brackets and statement continuation, per line.


@dataclass
class _Layout:
    lines: list[str]
    bodies: list[str]  # 1-based: bodies[n] is line n without its ending; bodies[0] is unused
    continued: list[bool]  # continued[n]: line n starts inside an unfinished statement
    comments: dict[int, str]
    pairs: dict[tuple[int, int], tuple[int, int]]  # closer (line, col0) -> its matching opener
    mismatched: dict[tuple[int, int], tuple[int, int]]  # closer -> the opener it failed to match
    open_at_end: bool
    unclosed: list[
        tuple[int, int, str]
    ]  # openers never closed: (line, col0, bracket), outermost first

    @classmethod
    def scan(cls, lines: list[str]) -> _Layout:
        bodies = _bodies(lines)
        continued = [False]
        comments: dict[int, str] = {}
        pairs: dict[tuple[int, int], tuple[int, int]] = {}
        mismatched: dict[tuple[int, int], tuple[int, int]] = {}
        stack: list[tuple[int, int, str]] = []
        open_string: str | None = None
        backslash = False
        for number in range(1, len(bodies)):
            text = bodies[number]
            continued.append(bool(stack) or open_string is not None or backslash)
            backslash = False
            position = 0
            if open_string is not None:
                end = _string_end(text, 0, open_string)
                if end is None:
                    if len(open_string) == 1 and not text.endswith("\\"):
                        open_string = None
                    continue
                open_string, position = None, end
            while (found := _INTERESTING.search(text, position)) is not None:
                char, start = found.group(), found.start()
                position = start + 1
                if char == "#":
                    comments[number] = text[start:]
                    break
                if char in "'\"":
                    quote = char * 3 if text.startswith(char * 3, start) else char
                    end = _string_end(text, start + len(quote), quote)
                    if end is None:
                        if len(quote) == 3 or text.endswith("\\"):
                            open_string = quote
                        break
                    position = end
                elif char in "([{":
                    stack.append((number, start, char))
                elif char in ")]}":
                    _close(stack, (number, start), char, pairs, mismatched)
                elif start == len(text) - 1:
                    backslash = True
        return cls(
            lines,
            bodies,
            continued,
            comments,
            pairs,
            mismatched,
            bool(stack) or open_string is not None,
            stack,
        )

    def __post_init__(self) -> None:
        self.count = len(self.bodies) - 1

    def never_closed_before(self, error: SyntaxError) -> tuple[int, int, str] | None:
        """For "too many nested parentheses": the outermost bracket open there that is never closed.
        CPython stops at the 201st open bracket; the user's first mistake is the first one left open."""
        if (error.msg or "") != "too many nested parentheses" or not self.unclosed:
            return None
        line, column, bracket = self.unclosed[0]
        return (line, column, bracket) if line <= (error.lineno or 1) else None

    def statement(self, line: int, base: int | None = None) -> tuple[int, int]:
        """First and last line of the logical statement that holds `line`. `base`: the indentation the
        statement should have, when its own is broken."""
        start = line
        while start > 1 and self.continued[start]:
            start -= 1
        end = line
        while end < self.count and self.continued[end + 1]:
            end += 1
        if end == self.count and self.open_at_end:
            end = self._end_of_unclosed(
                start, line, indent_width(self.bodies[start]) if base is None else base
            )
        return start, end

    def _end_of_unclosed(self, start: int, line: int, base: int) -> int:
        # A bracket that is never closed swallows the rest of the file. The statement most likely ends
        # before the next line indented no deeper than the statement, or earlier, at a header's ':'
        # followed by an indented body.
        end = self.count
        for number in range(line + 1, self.count + 1):
            text = self.bodies[number].strip()
            if text and text[0] not in ")]}#" and indent_width(self.bodies[number]) <= base:
                end = number - 1
                break
        for number in range(start, end):
            if self.bodies[number].split("#")[0].rstrip().endswith(":"):
                following = self.next_code_line(number)
                if following is not None and indent_width(self.bodies[following]) > base:
                    return number
        return end

    def block_end(self, start: int, end: int) -> int:
        """Last line of the indented block that follows the statement start..end (end if none)."""
        base = indent_width(self.bodies[start])
        last = end
        for number in range(end + 1, self.count + 1):
            text = self.bodies[number].strip()
            if not text or text.startswith("#"):
                continue
            if not self.continued[number] and indent_width(self.bodies[number]) <= base:
                break
            last = number
        return last

    def indented_run_end(self, line: int) -> int:
        """Last line of the run of lines indented at least as deep as `line` (an over-indented block)."""
        base = indent_width(self.bodies[line])
        last = line
        for number in range(line + 1, self.count + 1):
            text = self.bodies[number].strip()
            if not text or text.startswith("#"):
                continue
            if not self.continued[number] and indent_width(self.bodies[number]) < base:
                break
            last = number
        return last

    def body_follows(self, end: int, start: int) -> bool:
        following = self.next_code_line(end)
        return following is not None and indent_width(self.bodies[following]) > indent_width(
            self.bodies[start]
        )

    def next_code_line(self, line: int) -> int | None:
        for number in range(line + 1, self.count + 1):
            text = self.bodies[number].strip()
            if text and not text.startswith("#"):
                return number
        return None

    def previous_code_line(self, line: int) -> int | None:
        return _previous_code_line(self.bodies, line)


def _bodies(lines: list[str]) -> list[str]:
    """Lines without their endings, 1-based (index 0 unused)."""
    return [""] + [line.rstrip("\r\n") for line in lines]


def _previous_code_line(bodies: list[str], line: int) -> int | None:
    for number in range(min(line, len(bodies)) - 1, 0, -1):
        text = bodies[number].strip()
        if text and not text.startswith("#"):
            return number
    return None


def _string_end(text: str, position: int, quote: str) -> int | None:
    for found in _STRING_BODY[quote].finditer(text, position):
        if found.group() == quote:
            return found.end()
    return None


def _close(stack, where, char, pairs, mismatched) -> None:
    # A closer that does not match the innermost opener closes the nearest opener it does match; the
    # openers in between are left unclosed (that is how a missing ']' usually looks).
    if not stack:
        return
    if _CLOSER_OF[stack[-1][2]] != char:
        mismatched[where] = stack[-1][:2]
        depth = next(
            (i for i in range(len(stack) - 1, -1, -1) if _CLOSER_OF[stack[i][2]] == char), None
        )
        if depth is None:
            return
        del stack[depth + 1 :]
    pairs[where] = stack.pop()[:2]


def indent_width(text: str) -> int:
    expanded = text.expandtabs(8)
    return len(expanded) - len(expanded.lstrip(" \t\f"))


def _indentation(text: str) -> str:
    return text[: len(text) - len(text.lstrip(" \t\f"))]


# ----------------------------------------------------------------------------------------------------------
# Recovery loop.


@dataclass
class _Repair:
    lines: list[str]
    region: tuple[int, int] | None = None  # lines rewritten wholesale
    after: tuple[int, int] | None = None  # token repair: the parser must get past this (line, col)
    shifts: tuple[Shift, ...] = ()  # text moved sideways on kept lines
    blanks: bool = True  # False when the region's lines are kept (moved), not emptied
    message: str | None = None
    hint: str | None = None
    anchor: tuple[int, int, int, int] | None = None


@dataclass
class _Recovery:
    source: str
    regions: list[tuple[int, int]] = field(default_factory=list)
    shifts: list[Shift] = field(default_factory=list)
    work: int = 0  # lines parsed or scanned so far

    def run(self) -> tuple[list[SyntaxIssue], str | None, tuple[Shift, ...]]:
        lines = split_lines(self.source)
        issues: dict[int, SyntaxIssue] = {}
        error = _compile_error(self.source, full=False)
        rounds = 0
        while error is not None:
            if isinstance(error, _Fatal) or self.work > MAX_WORK_LINES or rounds == MAX_ROUNDS:
                break
            rounds += 1
            self.work += len(lines)
            layout = _Layout.scan(lines)
            cascade = self._is_cascade(error, layout.bodies, self.regions)
            repair, following = self._repair(lines, error, layout)
            if not cascade:
                _record(issues, _describe(error, layout, repair))
            lines, error = repair.lines, following
            self.shifts.extend(repair.shifts)
            if repair.region:
                self.regions.append(repair.region)
        else:
            return (
                sorted(issues.values(), key=lambda issue: issue.line),
                "".join(lines),
                tuple(self.shifts),
            )
        if isinstance(error, _Fatal) and not issues:
            issues[1] = error.issue(self.source)
        else:
            _record(issues, _stopped(error, lines, len(issues)))
        return sorted(issues.values(), key=lambda issue: issue.line), None, ()

    def _repair(
        self, lines: list[str], error: SyntaxError, layout: _Layout
    ) -> tuple[_Repair, SyntaxError | _Fatal | None]:
        seen: set[str] = set()
        for repair in _candidates(lines, error, layout):
            if repair.region and repair.blanks and not _safe_to_blank(layout, *repair.region):
                continue
            text = "".join(repair.lines)
            if text in seen:
                continue
            seen.add(text)
            self.work += len(lines)
            following = _compile_error(text, full=False)
            if self._acceptable(error, repair, following):
                return repair, following
        blank = [_blank(line) for line in lines]
        return _Repair(blank, region=(1, max(1, len(lines)))), None

    def _acceptable(
        self, error: SyntaxError, repair: _Repair, following: SyntaxError | _Fatal | None
    ) -> bool:
        """Did the repair get the parser past this error without inventing a new one?"""
        if following is None:
            return True
        if isinstance(following, _Fatal):
            return False
        before = (error.lineno or 1, error.offset or 0)
        after = (following.lineno or 1, following.offset or 0)
        if following.msg == error.msg and after == before:
            return False
        regions = self.regions + ([repair.region] if repair.region else [])
        if self._is_cascade(following, _bodies(repair.lines), regions):
            return False
        # Some tokenizer errors are reported before any parser error, wherever they are in the file: one
        # that shows up now, before the old one, can only have been made by the repair.
        if _takes_precedence(following):
            return _stops_tokenizer(error) and after > before
        if _takes_precedence(error):
            return True
        if repair.after is not None:
            return after > repair.after
        return repair.region is not None and after[0] > repair.region[1]

    @staticmethod
    def _is_cascade(error: SyntaxError, bodies: list[str], regions: list[tuple[int, int]]) -> bool:
        """Is this error an artefact of an earlier repair rather than the user's?"""
        if not regions:
            return False

        def edited(line: int | None) -> bool:
            return line is not None and any(start <= line <= end for start, end in regions)

        line = error.lineno or 1
        referenced = [int(number) for number in _ON_LINE.findall(error.msg or "")]
        if edited(line) or any(edited(number) for number in referenced):
            return True
        if isinstance(error, IndentationError) and edited(_previous_code_line(bodies, line)):
            return True
        if (error.msg or "").startswith("expected an indented block") and referenced:
            between = range(referenced[0] + 1, line)
            return any(edited(number) for number in between) and all(
                not bodies[number].strip() for number in between if number < len(bodies)
            )
        return False


_PRECEDENCE = (
    "unterminated string literal",
    "unterminated triple-quoted string literal",
    "invalid character",
    "invalid non-printable character",
    "unmatched ",
    "closing parenthesis",
    "too many nested parentheses",
    "invalid decimal literal",
    "invalid hexadecimal literal",
    "invalid octal literal",
    "invalid binary literal",
    "invalid digit",
    "leading zeros",
)


def _stopped(error: SyntaxError | _Fatal, lines: list[str], found: int) -> SyntaxIssue:
    """Says that the list was cut: where recovery stopped (the next error, as far as it is known)."""
    line = (
        _target_line(error, _Layout.scan(lines)) if isinstance(error, SyntaxError) else len(lines)
    )
    line = max(1, line)
    return SyntaxIssue(
        line,
        1,
        line,
        2,
        f"syntax error: reslint stopped looking for syntax errors after {found}; the file may hold more",
        "fix the errors reported and run reslint again",
    )


def _takes_precedence(error: SyntaxError) -> bool:
    return (error.msg or "").startswith(_PRECEDENCE)


def _stops_tokenizer(error: SyntaxError) -> bool:
    """A tokenizer error ends tokenizing, so the precedence errors after it were not looked for yet."""
    return _takes_precedence(error) or (error.msg or "").startswith(
        ("unindent does not match", "inconsistent use of tabs", "too many levels of indentation")
    )


def _record(issues: dict[int, SyntaxIssue], issue: SyntaxIssue) -> None:
    """One finding per line: a second error on a line already reported joins the first one's message."""
    known = issues.get(issue.line)
    if known is None:
        issues[issue.line] = issue
        return
    if issue.message in known.message:
        return
    message = f"{known.message}; {issue.message.removeprefix('syntax error: ')}"
    hint = "; ".join(part for part in (known.hint, issue.hint) if part)
    issues[issue.line] = SyntaxIssue(
        known.line, known.column, known.end_line, known.end_column, message, hint
    )


def _ending(line: str) -> str:
    return line[len(line.rstrip("\r\n")) :]


def _blank(line: str) -> str:
    """An emptied line; a last line without an ending keeps a space so that it does not disappear."""
    return _ending(line) or " "


def _replace(lines: list[str], start: int, end: int, first: str | None) -> list[str]:
    """Lines start..end (1-based) emptied; line `start` becomes `first` when given. Endings are kept."""
    result = list(lines)
    for number in range(start, min(end, len(lines)) + 1):
        result[number - 1] = _blank(lines[number - 1])
    if first is not None and start <= len(lines):
        result[start - 1] = first + _ending(lines[start - 1])
    return result


def _with_line(lines: list[str], number: int, body: str) -> list[str]:
    result = list(lines)
    result[number - 1] = body + _ending(lines[number - 1])
    return result


# ----------------------------------------------------------------------------------------------------------
# Where an error is and what to tell the user.


def _target_line(error: SyntaxError, layout: _Layout) -> int:
    """The line a repair should work on: the opening bracket's line for bracket errors, the header for a
    missing block, otherwise the error's own line."""
    message = error.msg or ""
    line = error.lineno or 1
    mismatch = _MISMATCH.match(message)
    never_closed = layout.never_closed_before(error)
    if mismatch and mismatch.group(3):
        line = int(mismatch.group(3))
    elif never_closed:
        line = never_closed[0]
    elif message.startswith("expected an indented block") and _ON_LINE.search(message):
        line = int(_ON_LINE.search(message).group(1))
    return max(1, min(line, max(layout.count, 1)))


def _describe(error: SyntaxError, layout: _Layout, repair: _Repair | None) -> SyntaxIssue:
    message = error.msg or "invalid syntax"
    line = max(1, min(error.lineno or 1, max(layout.count, 1)))
    text = layout.bodies[line] if line <= layout.count else ""
    column = max(1, error.offset or 1)
    same_line_end = error.end_lineno == error.lineno and (error.end_offset or 0) > column
    end_column = error.end_offset if same_line_end else column + 1
    hint = _generic_hint(message)
    mismatch = _MISMATCH.match(message)
    never_closed = layout.never_closed_before(error)
    if never_closed:
        line, column, bracket = never_closed[0], never_closed[1] + 1, never_closed[2]
        end_column = column + 1
        message = f"'{bracket}' was never closed"
        hint = _generic_hint(message)
    elif mismatch:
        closer, opener, opener_line = mismatch.groups()
        found = layout.mismatched.get((error.lineno or 1, (error.offset or 1) - 1))
        where = f" on line {error.lineno}" if opener_line else ""
        message = (
            f"closing parenthesis '{closer}'{where} does not match opening parenthesis '{opener}'"
        )
        if found:
            line, column = found[0], found[1] + 1
        elif opener_line:
            line, column = int(opener_line), 1
        end_column = column + 1
        hint = f"close the '{opener}' with '{_CLOSER_OF[opener]}' before the '{closer}'{where}, or remove it"
    elif isinstance(error, IndentationError) and not message.startswith(
        "expected an indented block"
    ):
        column = len(_indentation(text)) + 1
        end_column = max(column + 1, len(text.rstrip()) + 1)
    elif message == "invalid syntax" and same_line_end:
        token = text[column - 1 : end_column - 1]
        if token.strip():
            message = f"invalid syntax at '{token}'"
    if repair is not None:
        message = repair.message or message
        hint = repair.hint if repair.hint is not None else hint
        if repair.anchor:
            line, column, _, end_column = repair.anchor
    return SyntaxIssue(
        line, column, line, max(end_column, column + 1), f"syntax error: {message}", hint
    )


def _generic_hint(message: str) -> str:
    never_closed = _NEVER_CLOSED.match(message)
    if never_closed:
        opener = never_closed.group(1)
        return f"close the '{opener}' with '{_CLOSER_OF.get(opener, opener)}'"
    if message.startswith("unmatched "):
        return "remove the extra closing bracket or add the opening one"
    if message == "unexpected indent":
        return "indent this line like the statement above it"
    if message.startswith("unindent does not match"):
        return "indent this line to the level of an enclosing block"
    if message.startswith("expected an indented block"):
        return "indent the block under the header (write `pass` for an empty block)"
    if message == "expected ':'":
        return "add ':' at the end of the header"
    return ""


# ----------------------------------------------------------------------------------------------------------
# Repairs, most precise first.


def _candidates(lines: list[str], error: SyntaxError, layout: _Layout) -> Iterator[_Repair]:
    yield from _token_repairs(lines, error, layout)
    target = _target_line(error, layout)
    misindented = isinstance(error, IndentationError) and not (error.msg or "").startswith(
        "expected an indented block"
    )
    valid_indentation = _valid_indentation(layout, target) if misindented else None
    start, end = layout.statement(
        target, None if valid_indentation is None else indent_width(valid_indentation)
    )
    if (error.msg or "").startswith("unterminated triple-quoted string"):
        # Everything after the opening quotes is string content; parsing it as code would only invent errors.
        yield _Repair(
            _replace(lines, start, layout.count, _indentation(layout.bodies[start]) + "pass"),
            region=(start, layout.count),
        )
        return
    if misindented:
        yield from _reindent(
            lines, layout, target, whole_run_first=error.msg == "unexpected indent"
        )
    if error.msg == "unexpected indent":
        run_end = layout.indented_run_end(target)
        yield _Repair(_replace(lines, target, run_end, None), region=(target, run_end))
    header = layout.body_follows(end, start)
    if target != start:
        yield from _parameter_line(lines, layout, target, start)
        if _safe_to_blank(layout, target, target):
            yield _Repair(_replace(lines, target, target, None), region=(target, target))
    yield from _def_salvage(lines, layout, start, end, header)
    indentation = (
        _indentation(layout.bodies[start]) if valid_indentation is None else valid_indentation
    )
    if header:
        word = _FIRST_WORD.match(layout.bodies[start])
        keyword = _HEADER_REPLACEMENT.get(word.group(1) if word else "", "if True:")
        yield _Repair(_replace(lines, start, end, indentation + keyword), region=(start, end))
        yield _Repair(_replace(lines, start, end, indentation + "if True:"), region=(start, end))
    yield _Repair(_replace(lines, start, end, indentation + "pass"), region=(start, end))
    block_end = layout.block_end(start, end)
    if block_end > end:
        yield _Repair(
            _replace(lines, start, block_end, indentation + "pass"), region=(start, block_end)
        )
    yield _Repair(_replace(lines, start, block_end, None), region=(start, block_end))
    yield _Repair(
        _replace(lines, start, layout.count, indentation + "pass"), region=(start, layout.count)
    )


def _reindent(
    lines: list[str], layout: _Layout, line: int, whole_run_first: bool
) -> Iterator[_Repair]:
    """Move a badly indented line (and the lines under it) to the nearest indentation level in use before
    it: text moves sideways, but nothing is lost. A tab-indented line among space-indented ones
    (TabError) gets spaces: first as many as its tabs showed in its author's editor, if that is a level
    in use, then the nearest level."""
    width = indent_width(layout.bodies[line])
    previous = layout.previous_code_line(line)
    if previous is None:
        return
    levels = {
        indent_width(layout.bodies[number])
        for number in range(1, line)
        if layout.bodies[number].strip()
        and not layout.continued[number]
        and not layout.bodies[number].lstrip().startswith("#")
    }
    levels = {level for level in levels if level <= indent_width(layout.bodies[previous]) + 8} - {
        width
    }
    run_end = layout.indented_run_end(line)
    statement_end = layout.statement(line)[1]
    shown = _editor_width(layout.bodies[line])
    tried = [shown] if shown in levels else []
    tried += sorted(levels - {shown}, key=lambda level: (abs(level - width), -level))[:2]
    for level in tried:
        for last in (run_end, statement_end) if whole_run_first else (statement_end, run_end):
            moved = _moved(lines, layout, line, last, level - width)
            if moved is not None:
                yield moved


def _editor_width(text: str) -> int:
    """The indentation of a line as an editor showing a tab as 4 columns (the common setting) draws it:
    where its author saw it."""
    return indent_width(_indentation(text).expandtabs(TAB_SHOWN))


def _valid_indentation(layout: _Layout, line: int) -> str:
    """The indentation a statement at `line` could have: that of the statement before it, one level
    deeper after a header."""
    previous = layout.previous_code_line(line)
    if previous is None:
        return ""
    start, _ = layout.statement(previous)
    indentation = _indentation(layout.bodies[start])
    code = layout.bodies[previous].split("#")[0].rstrip()
    return indentation + "    " if code.endswith(":") else indentation


def _moved(lines: list[str], layout: _Layout, first: int, last: int, delta: int) -> _Repair | None:
    result = list(lines)
    shifts: list[Shift] = []
    for number in range(first, last + 1):
        body = layout.bodies[number]
        indentation = _indentation(body)
        if not body.strip() or (layout.continued[number] and number != first):
            continue
        width = (
            indent_width(body) + delta
        )  # tabs count to the next multiple of 8, as Python reads them
        if indentation.strip(" \t") or width < 0:
            return None
        result[number - 1] = " " * width + body[len(indentation) :] + _ending(lines[number - 1])
        shifts.append((number, 1, width - len(indentation)))
    return _Repair(result, region=(first, last), shifts=tuple(shifts), blanks=False)


def _safe_to_blank(layout: _Layout, start: int, end: int) -> bool:
    """Blanking lines that hold one half of a matched bracket pair would unbalance the rest."""
    for closer, opener in layout.pairs.items():
        if (start <= closer[0] <= end) != (start <= opener[0] <= end):
            return False
    return True


def _parameter_line(
    lines: list[str], layout: _Layout, target: int, start: int
) -> Iterator[_Repair]:
    """A broken line of a multi-line `def` signature keeps just its parameter name: `block,`."""
    if not _DEF_HEADER.match(layout.bodies[start]):
        return
    found = _PARAMETER_LINE.match(layout.bodies[target])
    if found and found.group(2) not in {"def", "async"}:
        body = layout.bodies[target].split("#")[0].rstrip()
        comma = "," if body.endswith(",") or not body.endswith(")") else ""
        yield _Repair(
            _with_line(lines, target, f"{found.group(1)}{found.group(2)}{comma}"),
            region=(target, target),
        )


def _def_salvage(
    lines: list[str], layout: _Layout, start: int, end: int, header: bool
) -> Iterator[_Repair]:
    """A broken `def` header becomes `def name(<the parameter names we can read>, *args, **kwargs):`, so the
    method and its body survive (defaults and annotations are dropped; that only makes rules know less)."""
    found = _DEF_HEADER.match(layout.bodies[start])
    if not found or not header:
        return
    signature = " ".join(layout.bodies[number].split("#")[0] for number in range(start, end + 1))
    names: list[str] = []
    for name in _PARAMETER_NAME.findall("," + signature[found.end() :]):
        if name.lstrip("*") not in {n.lstrip("*") for n in names}:
            names.append(name)
    star = [name for name in names if name.startswith("*") and not name.startswith("**")]
    double = [name for name in names if name.startswith("**")]
    plain = [name for name in names if not name.startswith("*")]
    parameters = plain + (star[:1] or ["*args"]) + (double[:1] or ["**kwargs"])
    first = f"{found.group(1)}{found.group(2)} {found.group(3)}({', '.join(parameters)}):"
    yield _Repair(_replace(lines, start, end, first), region=(start, end))


def _token_repairs(lines: list[str], error: SyntaxError, layout: _Layout) -> Iterator[_Repair]:
    line = error.lineno or 0
    if not 1 <= line <= layout.count:
        return
    text = layout.bodies[line]
    index = (error.offset or 1) - 1
    message = error.msg or ""
    after = (line, error.offset or 0)
    if (
        message == "invalid syntax"
        and text.startswith("..", index)
        and not text.startswith("...", index)
    ):
        if index == 0 or text[index - 1] != ".":
            yield _Repair(
                _with_line(lines, line, text[:index] + "..." + text[index + 2 :]),
                after=after,
                message="invalid syntax at '..'",
                hint="did you mean `...` (Ellipsis)?",
                anchor=(line, index + 1, line, index + 3),
                shifts=((line, index + 4, 1),),
            )
    if (
        message == "invalid syntax"
        and text.startswith("=", index)
        and not text.startswith("==", index)
    ):
        yield from _double_default(lines, layout, line, index, after)
    if message.startswith("positional argument follows keyword argument"):
        yield from _positional_after_keyword(lines, layout, error)
    character = _INVALID_CHARACTER.match(message)
    if character:
        found = chr(int(character.group(2), 16))
        yield from _replace_character(lines, text, line, index, found, after)
    elif message == "invalid decimal literal":
        # Before 3.11.4 the tokenizer reports `1）` as a bad number, not as the character after it.
        glued = _NUMBER_THEN_CHARACTER.match(text, index)
        if glued and glued.group(1) in _CONFUSABLES:
            found = glued.group(1)
            message = f"invalid character '{found}' (U+{ord(found):04X})"
            yield from _replace_character(lines, text, line, glued.start(1), found, after, message)
    if message == "expected ':'" and not text[index:].split("#")[0].strip():
        yield _Repair(
            _with_line(lines, line, text[:index] + ":" + text[index:]),
            after=after,
            shifts=((line, index + 2, 1),),
        )
    if message.startswith("unmatched ") and text[index : index + 1] in ")]}":
        yield _Repair(_with_line(lines, line, text[:index] + " " + text[index + 1 :]), after=after)


def _double_default(lines, layout: _Layout, line: int, index: int, after) -> Iterator[_Repair]:
    """`norm_layer = Optional[...] = None` in a signature: the first '=' was meant to be ':'."""
    start, _ = layout.statement(line)
    if not _DEF_HEADER.match(layout.bodies[start]):
        return
    text = layout.bodies[line]
    parameter_start = _parameter_start(text, index, at_line_start=layout.continued[line])
    if parameter_start is None:
        return
    found = _KEYWORD_ARGUMENT.match(text, parameter_start)
    if not found:
        return
    name = text[parameter_start : found.end() - 1].strip()
    equals = found.end() - 1
    annotation = text[equals + 1 : index].strip()
    default = text[index + 1 : _argument_end(text, index + 1)].strip()
    repaired = text[:equals] + ":" + text[equals + 1 :]
    yield _Repair(
        _with_line(lines, line, repaired),
        after=after,
        message=f"parameter `{name}` has two '=' (an annotation is written with ':')",
        hint=f"did you mean `{name}: {annotation} = {default}`?",
    )


def _parameter_start(text: str, index: int, at_line_start: bool) -> int | None:
    """Index just after the ',' or '(' that starts the parameter holding text[index] (same line only; a
    continuation line of a multi-line signature may also start the parameter itself)."""
    depth = 0
    for position in range(index - 1, -1, -1):
        char = text[position]
        if char in ")]}":
            depth += 1
        elif char in "([{":
            if depth == 0:
                return position + 1 if char == "(" else None
            depth -= 1
        elif char == "," and depth == 0:
            return position + 1
    return 0 if at_line_start and depth == 0 else None


def _argument_end(text: str, index: int) -> int:
    """Index of the ',' or closing bracket (or comment) that ends the item starting at text[index]."""
    depth, position = 0, index
    while position < len(text):
        char = text[position]
        position += 1
        if char in "'\"":
            end = _string_end(text, position, char)
            position = len(text) if end is None else end
        elif char == "#":
            return position - 1
        elif char in "([{":
            depth += 1
        elif char in ")]}":
            if depth == 0:
                return position - 1
            depth -= 1
        elif char == "," and depth == 0:
            return position - 1
    return len(text)


def _positional_after_keyword(
    lines: list[str], layout: _Layout, error: SyntaxError
) -> Iterator[_Repair]:
    """`block(a, groups=g, norm_layer)`: blank the positional argument (and its comma) so the call survives."""
    closer = ((error.lineno or 1), (error.offset or 1) - 1)
    opener = layout.pairs.get(closer)
    if opener is None:
        return
    text = "".join(lines)
    starts = _line_starts(lines)
    begin = starts[opener[0] - 1] + opener[1] + 1
    finish = starts[closer[0] - 1] + closer[1]
    arguments = _split_arguments(text, begin, finish)
    seen_keyword = False
    for index, (arg_start, arg_end) in enumerate(arguments):
        argument = text[arg_start:arg_end]
        if argument.lstrip().startswith("**") or _KEYWORD_ARGUMENT.match(argument):
            seen_keyword = True
            continue
        if not seen_keyword or argument.lstrip().startswith("*") or not argument.strip():
            continue
        cut_end = arguments[index + 1][0] if index + 1 < len(arguments) else arg_end
        blanked = (
            text[:arg_start] + re.sub(r"[^\r\n]", " ", text[arg_start:cut_end]) + text[cut_end:]
        )
        stripped = argument.strip()
        offset = arg_start + len(argument) - len(argument.lstrip())
        line = _line_of(starts, offset)
        column = offset - starts[line - 1] + 1
        hint = (
            f"did you mean `{stripped}={stripped}`?"
            if _IDENTIFIER.match(stripped)
            else f"move `{stripped}` before the keyword arguments"
        )
        yield _Repair(
            split_lines(blanked),
            after=(error.lineno or 1, error.offset or 0),
            hint=hint,
            anchor=(line, column, line, column + len(stripped.splitlines()[0])),
        )
        return


def _split_arguments(text: str, begin: int, finish: int) -> list[tuple[int, int]]:
    """Spans of the top-level comma-separated items of text[begin:finish] (strings and brackets skipped)."""
    spans: list[tuple[int, int]] = []
    depth, item_start, position = 0, begin, begin
    while position < finish:
        char = text[position]
        if char in "'\"":
            quote = char * 3 if text.startswith(char * 3, position) else char
            end = _string_end(text, position + len(quote), quote)
            position = min(end if end is not None else finish, finish)
            continue
        if char == "#":
            newline = text.find("\n", position)
            position = finish if newline < 0 else newline
            continue
        if char in "([{":
            depth += 1
        elif char in ")]}":
            depth -= 1
        elif char == "," and depth == 0:
            spans.append((item_start, position))
            item_start = position + 1
        position += 1
    if text[item_start:finish].strip():
        spans.append((item_start, finish))
    return spans


def _line_starts(lines: list[str]) -> list[int]:
    starts, total = [], 0
    for line in lines:
        starts.append(total)
        total += len(line)
    return starts


def _line_of(starts: list[int], offset: int) -> int:
    low, high = 0, len(starts) - 1
    while low < high:
        middle = (low + high + 1) // 2
        if starts[middle] <= offset:
            low = middle
        else:
            high = middle - 1
    return low + 1


def _replace_character(
    lines, text: str, line: int, index: int, character: str, after, message: str | None = None
) -> Iterator[_Repair]:
    """Replace `character` (at `index`, else its first place on the line) by its ASCII look-alike,
    or remove it; `message` names it when the error did not."""
    if text[index : index + 1] != character:
        index = text.find(character)
        if index < 0:
            return
    replacement = _CONFUSABLES.get(character)
    if replacement is None:
        yield _Repair(
            _with_line(lines, line, text[:index] + " " + text[index + 1 :]),
            after=after,
            message=message,
            hint="remove this character",
        )
        return
    shown = "a space" if replacement == " " else f"'{replacement}'"
    yield _Repair(
        _with_line(lines, line, text[:index] + replacement + text[index + 1 :]),
        after=after,
        message=message,
        hint=f"replace it with {shown}",
    )
