"""reslint.model.positions places every node exactly where libcst's PositionProvider does, one
top-level statement at a time: on sources made to exercise every way code spans lines, and on a sample
of the fixtures."""

from __future__ import annotations

from pathlib import Path

import libcst as cst
import pytest
from libcst.metadata import MetadataWrapper, PositionProvider

from reslint.model.module import build_module_model
from reslint.model.positions import Span, place_statement, statement_lines
from reslint.model.walk import descendants

REPO = Path(__file__).resolve().parents[1]

SOURCES = {
    "decorated, commented, blank lines": (
        "# header\n\nimport torch.nn as nn\n\n\n# leading comment\n@decorator(\n    1,\n)\n"
        "@other  # trailing\nclass Net(nn.Module):\n    '''doc\n    string'''\n\n"
        "    def forward(self, x):  # comment\n        y = self.conv(x); z = y + x\n"
        "        # footer comment\n    # dedented comment\n\n    x = 1\n"
    ),
    "continuations and brackets": (
        "total = 1 + \\\n    2\nvalues = [\n    1,  # one\n\n    2,\n]\n"
        "call(a,\n     b=(c\n        + d),\n     *e, **f)\n"
    ),
    "strings": (
        "a = '''x\ny\n''' + f\"{b!r:>{width}}\" + 'c' 'd'\n"
        "s = (\n    'first'\n    'second'\n)\nr = rb'\\n'\n"
    ),
    "compound statements": (
        "if a:\n    pass\nelif b:\n    x = 1\nelse:\n    y = 2\n"
        "for i in range(3):\n    continue\nelse:\n    pass\n"
        "while True:\n    break\n"
        "try:\n    f()\nexcept (A, B) as error:\n    raise\nfinally:\n    g()\n"
        "with open(p) as h, lock:\n    pass\n"
        "async def main():\n    async with c:\n        await d\n    async for e in f:\n        yield e\n"
        "match point:\n    case [x, *rest] if x > 0:\n        pass\n    case {'k': v, **kw}:\n"
        "        pass\n    case Point(x=0) | None:\n        pass\n"
    ),
    "expressions": (
        "f = lambda x, *a, k=1, **kw: x if a else -k\n"
        "g = [i * 2 for i in range(9) if i % 2 for j in (1, 2)]\n"
        "h = {k: v for k, v in d.items()} | {1, 2} | {**m}\n"
        "n = (yield_ := 5) and not b or c[1:2, ::3] @ d ** -e\n"
        "def typed(a: int = 1, /, b: 'str' = '', *, c: list[int] | None = None) -> None:\n"
        "    global q\n    del a[0], b\n    assert a, 'msg'\n    return\n"
    ),
    "windows newlines": "class A:\r\n    x = 1\r\n\r\n    def f(self):\r\n        return (1,\r\n                2)\r\n",
    "old mac newlines": "a = 1\rif a:\r    b = '''x\ry'''\r",
    "tabs": "if a:\n\tb = 1\n\tif b:\n\t\tc = 2\n",
    "nested definitions": (
        "import x\n\n\nclass A(B):\n  '''doc'''\n  n = 1\n\n  # comment\n  @staticmethod\n"
        "  @other(\n      2)\n  def f(a,\n        b):\n    def g():\n        class C:\n"
        "            def h(self): return 1\n        return C\n    return g\n\n"
        "  async def k(self):\n    if self.n:\n      pass\n    try:\n      def m(): pass\n"
        "    except E:\n      pass\n    match self.n:\n      case 1:\n        def q(): pass\n"
        "x = 1; y = 2\nz = (3,\n     4); w = 5\n"
        "def top():\n    '''x\n    def not_a_definition():\n    '''\n    return 0\n"
    ),
}


def libcst_spans(statement: cst.CSTNode, module: cst.Module) -> dict[int, Span]:
    alone = cst.Module(
        body=[statement],
        header=[],
        footer=[],
        encoding=module.encoding,
        default_indent=module.default_indent,
        default_newline=module.default_newline,
        has_trailing_newline=True,
    )
    ranges = MetadataWrapper(alone, unsafe_skip_copy=True).resolve(PositionProvider)
    return {
        id(node): (where.start.line, where.start.column, where.end.line, where.end.column)
        for node, where in ranges.items()
        if node is not alone
    }


def assert_placed_as_libcst(source: str) -> None:
    module = cst.parse_module(source)
    for statement in module.body:
        assert place_statement(statement, module).spans == libcst_spans(statement, module)
    assert_model_places_as_libcst(source)


def assert_model_places_as_libcst(source: str) -> None:
    """The module model's positions, found by placing the innermost definition around a node."""
    tree = cst.parse_module(source)
    model = build_module_model(tree, source, "m.py")
    reference = MetadataWrapper(tree, unsafe_skip_copy=True).resolve(PositionProvider)
    for node in descendants(tree):
        if node is tree or id(node) not in model.names.parents:
            continue
        where = reference[node]
        assert model.position(node) == (
            where.start.line,
            where.start.column + 1,
            where.end.line,
            where.end.column + 1,
        ), type(node).__name__


def test_definitions_are_placed_by_pythons_lines() -> None:
    source = SOURCES["nested definitions"]
    tree = cst.parse_module(source)
    lines = statement_lines(tree, source)
    assert lines is not None
    definitions = [n for n in descendants(tree) if isinstance(n, cst.FunctionDef | cst.ClassDef)]
    assert [lines[id(d)] for d in definitions] == [4, 12, 14, 15, 16, 20, 24, 29, 33]


def test_a_source_python_cannot_parse_is_placed_by_its_statements() -> None:
    # libcst reads `type` statements and generic classes, which Python 3.11 does not
    source = "type Size = int\n\n\nclass Block[T]:\n    def f(self):\n        return (1,\n  2)\n"
    assert statement_lines(cst.parse_module(source), source) is None
    assert_model_places_as_libcst(source)


@pytest.mark.parametrize("source", SOURCES.values(), ids=list(SOURCES))
def test_spans_are_libcsts(source: str) -> None:
    assert_placed_as_libcst(source)


CLEAN = sorted((REPO / "fixtures" / "clean").glob("*.py"))
LARGEST = sorted(CLEAN, key=lambda path: path.stat().st_size)[-6:]
SAMPLE = sorted({*CLEAN[::8], *LARGEST}) + [
    path
    for path in sorted((REPO / "fixtures" / "bugs").glob("*.py"))[::20]
    if "RN00" not in path.name
]


@pytest.mark.parametrize("path", SAMPLE, ids=lambda path: path.name)
def test_fixture_spans_are_libcsts(path: Path) -> None:
    assert_placed_as_libcst(path.read_text(encoding="utf-8"))
