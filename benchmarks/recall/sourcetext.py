"""Source text with libcst positions, and splicing edits into it while tracking where each line went.

Operators find their sites on the libcst tree but edit the text itself, so that everything they do not
touch (comments, formatting, the rest of the file) stays byte for byte as published.
"""

from __future__ import annotations

import bisect
from dataclasses import dataclass

import libcst as cst
from libcst.metadata import MetadataWrapper, PositionProvider


@dataclass(frozen=True)
class Edit:
    """Replace text[start:end] by `text`; when `marked`, every line of the new text is an expected line."""

    start: int
    end: int
    text: str
    marked: bool = False


@dataclass(frozen=True)
class Mutation:
    """One bug at one site: the edits that make it, and the original lines a linter should report it on."""

    edits: tuple[Edit, ...]
    expected_lines: tuple[int, ...] = ()


@dataclass(frozen=True)
class Applied:
    text: str
    expected_lines: tuple[int, ...]
    old_to_new: dict[int, int]


class Source:
    def __init__(self, text: str) -> None:
        self.text = text
        self.wrapper = MetadataWrapper(cst.parse_module(text))
        self.module = self.wrapper.module
        self.positions = self.wrapper.resolve(PositionProvider)
        preorder = Preorder()
        self.module.visit(preorder)
        self.order = preorder.order
        self.extent = preorder.extent
        self.line_starts = [0]
        for index, char in enumerate(text):
            if char == "\n":
                self.line_starts.append(index + 1)

    def walk(self, node: cst.CSTNode | None = None) -> list[cst.CSTNode]:
        """Every node under `node` (the module by default), in source order, `node` included."""
        start, end = self.extent[node or self.module]
        return self.order[start:end]

    def line(self, node: cst.CSTNode) -> int:
        return self.positions[node].start.line

    def end_line(self, node: cst.CSTNode) -> int:
        return self.positions[node].end.line

    def lines(self, node: cst.CSTNode) -> tuple[int, ...]:
        return tuple(range(self.line(node), self.end_line(node) + 1))

    def span(self, node: cst.CSTNode) -> tuple[int, int]:
        where = self.positions[node]
        return self.offset(where.start.line, where.start.column), self.offset(
            where.end.line, where.end.column
        )

    def offset(self, line: int, column: int) -> int:
        return self.line_starts[line - 1] + column

    def code(self, node: cst.CSTNode) -> str:
        start, end = self.span(node)
        return self.text[start:end]

    def indent(self, node: cst.CSTNode) -> str:
        start = self.line_starts[self.line(node) - 1]
        text = self.text[start : self.span(node)[0]]
        return text if not text.strip() else ""

    def whole_lines(self, node: cst.CSTNode) -> tuple[int, int] | None:
        """The offsets of the full lines a statement occupies, or None when it shares a line with other code."""
        start, end = self.span(node)
        line_start = self.line_starts[self.line(node) - 1]
        line_end = self.text.find("\n", end)
        line_end = len(self.text) if line_end < 0 else line_end + 1
        before = self.text[line_start:start]
        after = self.text[end:line_end].strip()
        if before.strip() or (after and not after.startswith("#")):
            return None
        return line_start, line_end

    def line_of_offset(self, offset: int) -> int:
        return bisect.bisect_right(self.line_starts, offset)


class Preorder(cst.CSTVisitor):
    """Every node in source order with the slice of that order its subtree spans, gathered in one pass
    (libcst's `node.children` re-visits the subtree on every call, which made mutating a file take minutes)."""

    def __init__(self) -> None:
        super().__init__()
        self.order: list[cst.CSTNode] = []
        self.extent: dict[cst.CSTNode, tuple[int, int]] = {}
        self.starts: list[int] = []

    def on_visit(self, node: cst.CSTNode) -> bool:
        self.starts.append(len(self.order))
        self.order.append(node)
        return True

    def on_leave(self, original_node: cst.CSTNode) -> None:
        self.extent[original_node] = (self.starts.pop(), len(self.order))


def apply(source: Source, mutation: Mutation) -> Applied:
    """The mutated text, its expected lines, and where each original line now stands."""
    edits = sorted(mutation.edits, key=lambda edit: edit.start)
    pieces: list[str] = []
    cursor = 0
    marked: list[int] = []
    shifts: list[tuple[int, int, int, int]] = []  # (old start, old end, new first line, line delta)
    new_line = 1
    for edit in edits:
        pieces.append(source.text[cursor : edit.start])
        new_line += source.text.count("\n", cursor, edit.start)
        if edit.marked:
            marked.extend(
                range(new_line, new_line + max(1, edit.text.rstrip("\n").count("\n") + 1))
            )
        delta = edit.text.count("\n") - source.text.count("\n", edit.start, edit.end)
        shifts.append((edit.start, edit.end, new_line, delta))
        pieces.append(edit.text)
        new_line += edit.text.count("\n")
        cursor = edit.end
    pieces.append(source.text[cursor:])
    old_to_new = {
        line: moved(source, line, shifts) for line in range(1, len(source.line_starts) + 1)
    }
    text = "".join(pieces)
    new_lines = text.splitlines()
    expected = {
        next_code_line(new_lines, old_to_new[line]) for line in mutation.expected_lines
    } | set(marked)
    return Applied(text, tuple(sorted(expected)), old_to_new)


def next_code_line(lines: list[str], line: int) -> int:
    """The line itself, or (when a deletion left it on a blank line) the next line with code on it."""
    while 0 < line <= len(lines) and not lines[line - 1].strip():
        line += 1
    return line


def moved(source: Source, line: int, shifts: list[tuple[int, int, int, int]]) -> int:
    """Where an original line stands after the edits; a line inside an edit goes to the edit's first line."""
    start = source.line_starts[line - 1]
    total = 0
    for old_start, old_end, new_first, delta in shifts:
        if old_start <= start < old_end:
            return new_first
        if old_end <= start:
            total += delta
    return line + total
