"""Where nodes stand in the source: libcst's PositionProvider, computed for one statement at a time.

The places are exactly those of `MetadataWrapper(module).resolve(PositionProvider)`: the same code
generation, with libcst's own calls to record a node's syntactic span. What is left out is work that
resolving does for nothing: the wrapper walks the whole tree once more for providers of another kind
(there are none here) and copies the result, and the provider's code-generation state builds two
objects a node, splits every token with a regex and enters a generator context manager for every
node with a syntactic span. On the fixture folder of bench_static.py that was most of the time spent
placing findings.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from types import TracebackType

import libcst as cst
from libcst._nodes.internal import CodegenState

# (line, column, end_line, end_column): lines 1-based, columns 0-based, as libcst's CodeRange.
Span = tuple[int, int, int, int]

# libcst's position provider counts "\r\n", "\r" and "\n" as one line break each.
_NEWLINE = re.compile(r"\r\n?|\n")


@dataclass(frozen=True)
class PlacedStatement:
    """The span of every node of a top-level statement, counted as if it stood alone at the top of the
    file, and the number of "\\n" in its code (its lines, where the file has no other line break)."""

    spans: dict[int, Span]  # by id of the node
    newlines: int


def place_statement(statement: cst.CSTNode, module: cst.Module) -> PlacedStatement:
    """`statement` (of `module`: its indentation and newlines) placed."""
    state = _PlacingState(module.default_indent, module.default_newline)
    statement._codegen(state)
    return PlacedStatement(state.spans, state.newlines)


class _PlacingState(CodegenState):
    """libcst's PositionProvidingCodegenState, keeping only the line and column: no token list."""

    __slots__ = ("line", "column", "newlines", "spans", "_starts")

    def __init__(self, default_indent: str, default_newline: str) -> None:
        super().__init__(default_indent=default_indent, default_newline=default_newline)
        self.line = 1
        self.column = 0
        self.newlines = 0
        self.spans: dict[int, Span] = {}  # by id: a node's __hash__ is a Python call
        self._starts: list[tuple[int, int]] = []

    def add_indent_tokens(self) -> None:
        for token in self.indent_tokens:
            self.add_token(token)

    def add_token(self, value: str) -> None:
        if "\n" not in value and "\r" not in value:
            self.column += len(value)
            return
        self.newlines += value.count("\n")
        pieces = _NEWLINE.split(value)
        self.line += len(pieces) - 1
        self.column = len(pieces[-1])

    def before_codegen(self, node: cst.CSTNode) -> None:
        self._starts.append((self.line, self.column))

    def after_codegen(self, node: cst.CSTNode) -> None:
        line, column = self._starts.pop()
        key = id(node)
        if key not in self.spans:  # a syntactic span recorded inside is kept
            self.spans[key] = (line, column, self.line, self.column)

    def record_syntactic_position(  # type: ignore[override]
        self,
        node: cst.CSTNode,
        *,
        start_node: cst.CSTNode | None = None,
        end_node: cst.CSTNode | None = None,
    ) -> _SyntacticSpan:
        return _SyntacticSpan(self, node, start_node, end_node)


class _SyntacticSpan:
    """What libcst's `record_syntactic_position` context manager does, without a generator: the span
    from entry to exit, its start or end taken from a child's span where libcst names one."""

    __slots__ = ("state", "node", "start_node", "end_node", "line", "column")

    def __init__(
        self,
        state: _PlacingState,
        node: cst.CSTNode,
        start_node: cst.CSTNode | None,
        end_node: cst.CSTNode | None,
    ) -> None:
        self.state = state
        self.node = node
        self.start_node = start_node
        self.end_node = end_node
        self.line = state.line
        self.column = state.column

    def __enter__(self) -> None:
        return None

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        state = self.state
        spans = state.spans
        line, column = (
            spans[id(self.start_node)][:2]
            if self.start_node is not None
            else (self.line, self.column)
        )
        end_line, end_column = (
            spans[id(self.end_node)][2:]
            if self.end_node is not None
            else (state.line, state.column)
        )
        spans[id(self.node)] = (line, column, end_line, end_column)
