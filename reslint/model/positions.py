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

import ast
import contextlib
import re
from collections.abc import Iterator, Sequence
from contextlib import AbstractContextManager
from dataclasses import dataclass
from types import TracebackType
from typing import Any

import libcst as cst
from libcst._nodes.expression import _BaseParenthesizedNode
from libcst._nodes.internal import CodegenState

from reslint.fast_parse import collection_paused
from reslint.model.walk import children

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


def place_statement(
    statement: cst.CSTNode, module: cst.Module, indents: Sequence[str] = ()
) -> PlacedStatement:
    """`statement` (of `module`: its indentation and newlines) placed; `indents` are those of the
    blocks it stands in, so that its columns are the file's."""
    state = _PlacingState(module.default_indent, module.default_newline)
    state.indent_tokens.extend(indents)
    with _parentheses_without_generators():
        statement._codegen(state)
    return PlacedStatement(state.spans, state.newlines)


def code_of(node: cst.CSTNode, module: cst.Module) -> str:
    """`module.code_for_node(node)`: the same code generation, with the bookkeeping left out as above."""
    state = _TextState(module.default_indent, module.default_newline)
    with _parentheses_without_generators():
        node._codegen(state)
    return "".join(state.tokens)


def statement_lines(tree: cst.Module, source: str) -> dict[int, int] | None:
    """The line each top-level statement and each class or function definition starts on (its first
    token, after its comments and decorators: where its span starts), by id, as Python's own parser
    reads `source`. With it a node is placed by generating only the definition around it, not the
    whole class and every statement above it. None where Python cannot parse the source (a newer
    syntax, nesting too deep) or the two parsers do not count the same statements."""
    with collection_paused():  # Python's tree is dropped before the collector runs again
        return _statement_lines(tree, source)


def _statement_lines(tree: cst.Module, source: str) -> dict[int, int] | None:
    try:
        parsed = ast.parse(source)
    except (SyntaxError, ValueError, RecursionError, MemoryError):
        return None
    lines: dict[int, int] = {}
    python_statements = iter(parsed.body)
    for statement in tree.body:
        first = next(python_statements, None)
        if first is None:
            return None
        lines[id(statement)] = first.lineno
        if isinstance(statement, cst.SimpleStatementLine):  # `a = 1; b = 2` are two to Python
            for _ in statement.body[1:]:
                next(python_statements, None)
    definitions = list(_definitions(tree))
    python_definitions = sorted(
        node.lineno
        for node in ast.walk(parsed)
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef)
    )  # no two definitions start on one line, so line order is source order
    if next(python_statements, None) is not None or len(definitions) != len(python_definitions):
        return None
    lines.update(zip(map(id, definitions), python_definitions, strict=True))
    return lines


_HOLDS_STATEMENTS = (
    cst.Module,
    cst.BaseCompoundStatement,
    cst.BaseSuite,
    cst.Else,
    cst.ExceptHandler,
    cst.ExceptStarHandler,
    cst.Finally,
    cst.MatchCase,
)


# Whether each node type met so far holds statements: asked by type, once, since isinstance
# against libcst's abstract bases is slow and every statement's direct children are asked.
_HOLDS_BY_TYPE: dict[type, bool] = {}


def _definitions(tree: cst.Module) -> Iterator[cst.FunctionDef | cst.ClassDef]:
    """Every class and function definition, in source order; expressions, which hold none, are
    not entered."""
    stack: list[cst.CSTNode] = [tree]
    while stack:
        node = stack.pop()
        kind = type(node)
        if type(node) is cst.FunctionDef or type(node) is cst.ClassDef:
            yield node
        holds = _HOLDS_BY_TYPE.get(kind)
        if holds is None:
            holds = _HOLDS_BY_TYPE[kind] = issubclass(kind, _HOLDS_STATEMENTS)
        if holds:
            stack.extend(reversed(children(node)))


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


class _TextState(CodegenState):
    """libcst's CodegenState, recording no positions: without a generator per node with a span."""

    def record_syntactic_position(  # type: ignore[override]
        self,
        node: cst.CSTNode,
        *,
        start_node: cst.CSTNode | None = None,
        end_node: cst.CSTNode | None = None,
    ) -> contextlib.nullcontext[None]:
        return _NOTHING_RECORDED


_NOTHING_RECORDED = contextlib.nullcontext()


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


class _Parenthesized:
    """What libcst's `_parenthesize` context manager does (a node's parentheses around its code and
    its syntactic span), without a generator: it runs for every expression generated, and the
    generator machinery cost more than the code generation itself."""

    __slots__ = ("node", "state", "span")

    def __init__(self, node: Any, state: CodegenState) -> None:
        self.node = node
        self.state = state

    def __enter__(self) -> None:
        for lpar in self.node.lpar:
            lpar._codegen(self.state)
        # the span starts after the parentheses, as in libcst
        self.span: AbstractContextManager[None] = self.state.record_syntactic_position(self.node)
        self.span.__enter__()

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.span.__exit__(kind, error, traceback)
        if kind is None:
            for rpar in self.node.rpar:
                rpar._codegen(self.state)


def _parenthesized(node: Any, state: CodegenState) -> _Parenthesized:
    return _Parenthesized(node, state)


_GENERATOR_PARENTHESES = _BaseParenthesizedNode._parenthesize


@contextlib.contextmanager
def _parentheses_without_generators() -> Iterator[None]:
    """libcst's `_parenthesize` replaced for one code generation, as fast_parse replaces node
    validation for one parse."""
    _BaseParenthesizedNode._parenthesize = _parenthesized  # type: ignore[assignment,method-assign]
    try:
        yield
    finally:
        # the original, not whatever was there on entry: two threads at once cannot leave it replaced
        _BaseParenthesizedNode._parenthesize = _GENERATOR_PARENTHESES  # type: ignore[method-assign]
