"""Syntax errors: every one reported on its own line, and a recovered source the rules can still read."""

from __future__ import annotations

import ast
import random

import libcst as cst
import pytest

from reslint.syntax import MAX_ROUNDS, check_syntax, find_comments, parse_source

# Seed 000's model code in torchvision's layout, with its four kinds of syntax error.
SEED_000_LIKE = """\
import torch.nn as nn
from typing import Type, Callable, Union, List, Optional


class BasicBlock(nn.Module):
    expansion: int = 1

    def __init__(
        self,
        inplanes: int,
        planes: int,
        norm_layer: Optional[Callable[..,nn.Module]] = None
    ) -> None:
        super(BasicBlock, self).__init__()
        self.conv1 = nn.Conv2d(inplanes, planes, 3)

    def forward(self, x):
        return self.conv1(x)


class Resnet(nn.Module):
    def __init__(
        self,
        block:Type[Union[[BasicBlock,Bottleneck]],
        layers:List[int],
        num_classes:int = 1000,
        norm_layer = Optional[Callable[...,nn.Module]] = None
    )->None:
        super(Resnet,self).__init__()
        self.inplanes = 64

    def _make_layer(self, block, planes, blocks):
        layers = []
        for _ in range(1, blocks):
            layers.append(block(self.inplanes, planes, groups = self.groups, dilation = self.dilation ,norm_layer))
        return nn.Sequential(*layers)

    def forward(self, x):
        return self.layer1(x)
"""


def line_of(source: str, fragment: str) -> int:
    return next(number for number, line in enumerate(source.splitlines(), 1) if fragment in line)


def issues_by_line(source: str):
    return {issue.line: issue for issue in parse_source(source).issues}


def function_names(module: cst.Module) -> list[str]:
    names: list[str] = []

    class Collect(cst.CSTVisitor):
        def visit_FunctionDef(self, node: cst.FunctionDef) -> None:
            names.append(node.name.value)

    module.visit(Collect())
    return names


def assert_recovered_is_valid(source: str, recovered: str | None) -> None:
    assert recovered is not None
    assert len(recovered.splitlines()) == len(source.splitlines())
    ast.parse(recovered)


def test_seed_000_all_four_kinds_are_reported_on_their_lines():
    result = parse_source(SEED_000_LIKE)
    expected = {
        line_of(SEED_000_LIKE, "Callable[..,nn.Module]"): "invalid syntax at '..'",
        line_of(SEED_000_LIKE, "block:Type[Union[["): "does not match opening parenthesis '['",
        line_of(SEED_000_LIKE, "norm_layer = Optional"): "has two '='",
        line_of(SEED_000_LIKE, ",norm_layer))"): "positional argument follows keyword argument",
    }
    assert {issue.line for issue in result.issues} == set(expected)
    for issue in result.issues:
        assert expected[issue.line] in issue.message
        assert issue.message.startswith("syntax error: ")


def test_seed_000_recovered_source_keeps_every_method():
    result = parse_source(SEED_000_LIKE)
    assert_recovered_is_valid(SEED_000_LIKE, result.recovered)
    assert isinstance(result.module, cst.Module)
    assert function_names(result.module) == [
        "__init__",
        "forward",
        "__init__",
        "_make_layer",
        "forward",
    ]
    assert result.module.code == result.recovered


def test_hints_say_what_to_write():
    issues = issues_by_line(SEED_000_LIKE)
    ellipsis = issues[line_of(SEED_000_LIKE, "Callable[..,nn.Module]")]
    assert "did you mean `...` (Ellipsis)?" in ellipsis.hint
    double_default = issues[line_of(SEED_000_LIKE, "norm_layer = Optional")]
    assert "`norm_layer: Optional[Callable[...,nn.Module]] = None`" in double_default.hint
    positional = issues[line_of(SEED_000_LIKE, ",norm_layer))")]
    assert "`norm_layer=norm_layer`" in positional.hint


def test_positional_argument_is_anchored_on_the_argument():
    line = line_of(SEED_000_LIKE, ",norm_layer))")
    issue = issues_by_line(SEED_000_LIKE)[line]
    text = SEED_000_LIKE.splitlines()[line - 1]
    assert text[issue.column - 1 : issue.end_column - 1] == "norm_layer"


def test_mismatched_bracket_is_anchored_on_the_opening_bracket():
    line = line_of(SEED_000_LIKE, "block:Type[Union[[")
    issue = issues_by_line(SEED_000_LIKE)[line]
    text = SEED_000_LIKE.splitlines()[line - 1]
    assert text[issue.column - 1] == "["
    assert text[: issue.column - 1].endswith("block:Type")
    closing_line = line_of(SEED_000_LIKE, ")->None:")
    assert f"')' on line {closing_line}" in issue.message


def test_one_line_signature_with_several_errors_is_one_finding_and_the_method_survives():
    source = (
        "class Resnet:\n"
        "    def __init__(self,block:Type[Union[[BasicBlock,Bottleneck]],layers:List[int],"
        "norm_layer = Optional[Callable[..,nn.Module]] = None)->None:\n"
        "        super(Resnet,self).__init__()\n"
        "        self.inplanes = 64\n"
        "\n"
        "    def forward(self, x):\n"
        "        return x\n"
    )
    result = parse_source(source)
    assert [issue.line for issue in result.issues] == [2]
    assert_recovered_is_valid(source, result.recovered)
    assert function_names(result.module) == ["__init__", "forward"]
    assert "self, block, layers, norm_layer" in result.recovered.splitlines()[1]


def test_a_bracket_that_is_never_closed_is_reported_at_the_opening_line():
    source = "x = 1\ny = foo(a,\n    b\n\n\ndef f():\n    return 2\n"
    result = parse_source(source)
    lines = [issue.line for issue in result.issues]
    assert 2 in lines or 3 in lines
    assert all(issue.line <= 3 for issue in result.issues)
    assert_recovered_is_valid(source, result.recovered)
    assert "f" in function_names(result.module)


def test_never_closed_at_the_end_points_at_the_bracket():
    source = "def f():\n    return 1\n\nx = (1,\n"
    (issue,) = parse_source(source).issues
    assert (issue.line, issue.column) == (4, 5)
    assert "'(' was never closed" in issue.message
    assert "close the '(' with ')'" in issue.hint


@pytest.mark.parametrize(
    ("source", "line", "message"),
    [
        ("print 'hello'\nx = 1\n", 1, "Missing parentheses in call to 'print'"),
        ("class A(nn.Module)\n    def f(self):\n        return 1\n", 1, "expected ':'"),
        ("x = 1\n    y = 2\nz = 3\n", 2, "unexpected indent"),
        ("if x:\ny = 2\n", 2, "expected an indented block"),
        ("x = 'abc\ny = 2\n", 1, "unterminated string literal"),
        ("x = 1)\n", 1, "unmatched ')'"),
        ("x = foo(a，b)\n", 1, "invalid character '，'"),
        ("x = 1\nelse:\n    pass\n", 2, "invalid syntax"),
        (
            "try:\n    pass\nexcept ValueError, TypeError:\n    pass\n",
            3,
            "multiple exception types",
        ),
        ("return 1\n", 1, "'return' outside function"),
    ],
)
def test_single_errors(source: str, line: int, message: str):
    issues, recovered = check_syntax(source)
    assert [issue.line for issue in issues] == [line]
    assert message in issues[0].message
    assert_recovered_is_valid(source, recovered)


def test_full_width_punctuation_is_repaired_in_place():
    source = "x = foo(a，b)\ny = bar（1）\n"
    result = parse_source(source)
    assert [issue.line for issue in result.issues] == [1, 2]
    assert "replace it with ','" in result.issues[0].hint
    assert result.recovered == "x = foo(a,b)\ny = bar(1)\n"


def test_an_over_indented_block_is_one_finding():
    source = "def f():\n    x = 1\n        y = 2\n        if y:\n            z = 3\n    return x\n"
    result = parse_source(source)
    assert [issue.line for issue in result.issues] == [3]
    assert_recovered_is_valid(source, result.recovered)
    assert "return x" in result.recovered


def test_tab_indented_statements_among_spaces_are_kept_where_their_author_saw_them():
    # A student's editor drew each tab as 4 columns: the statements line up with the code around them,
    # but Python raises TabError. They must survive for the rules (an assignment, an addition).
    source = (
        "class Block(nn.Module):\n"
        "    def __init__(self, c):\n"
        "        super().__init__()\n"
        "\t\tself.norm = nn.BatchNorm2d(c)\n"
        "        self.conv = nn.Conv2d(c, c, 3, padding=1)\n"
        "\n"
        "    def forward(self, x):\n"
        "        out = self.conv(self.norm(x))\n"
        "        if self.training:\n"
        "            out = out * 1.0\n"
        "\t\tout += x\n"
        "        return out\n"
    )
    result = parse_source(source)
    assert [issue.line for issue in result.issues] == [4, 11]
    assert_recovered_is_valid(source, result.recovered)
    recovered = result.recovered.splitlines()
    assert recovered[3] == "        self.norm = nn.BatchNorm2d(c)"
    assert recovered[10] == "        out += x"  # after the `if`, not inside it


def test_a_missing_colon_keeps_the_body():
    source = (
        "class A:\n    def f(self)\n        return self.x\n\n    def g(self):\n        return 1\n"
    )
    result = parse_source(source)
    assert [issue.line for issue in result.issues] == [2]
    assert function_names(result.module) == ["f", "g"]


def test_an_unterminated_docstring_is_one_finding():
    source = "def f():\n    '''doc\n    x = (\n    return 1\n"
    result = parse_source(source)
    assert [issue.line for issue in result.issues] == [2]
    assert_recovered_is_valid(source, result.recovered)


def test_a_broken_header_keeps_its_body_for_the_rules():
    source = "class A(nn.Module):\n    if x = 1:\n        self.conv = nn.Conv2d(3, 3, 3)\n"
    result = parse_source(source)
    assert [issue.line for issue in result.issues] == [2]
    assert "self.conv = nn.Conv2d(3, 3, 3)" in result.recovered


def test_every_python2_print_is_reported():
    source = "".join(f"print {number}\n" for number in range(7)) + "x = 1\n"
    result = parse_source(source)
    assert [issue.line for issue in result.issues] == list(range(1, 8))
    assert result.module is not None


def test_recovery_stops_after_max_rounds_says_so_and_skips_the_rules():
    source = "".join(f"print {number}\n" for number in range(MAX_ROUNDS + 30))
    result = parse_source(source)
    *errors, cut = result.issues
    assert [issue.line for issue in errors] == list(range(1, MAX_ROUNDS + 1))
    assert all("print" in issue.message for issue in errors)
    assert cut.line == MAX_ROUNDS + 1
    assert f"stopped looking for syntax errors after {MAX_ROUNDS}" in cut.message
    assert result.module is None


def test_exactly_max_rounds_errors_are_all_reported_and_the_rules_still_run():
    source = "".join(f"print {number}\n" for number in range(MAX_ROUNDS))
    result = parse_source(source)
    assert [issue.line for issue in result.issues] == list(range(1, MAX_ROUNDS + 1))
    assert result.module is not None


@pytest.mark.parametrize("count", [201, 250, 450])
def test_more_than_200_unclosed_brackets_report_the_first_ones(count: int):
    """CPython stops at the 201st open bracket ("too many nested parentheses"); the first mistakes are
    the brackets opened before it and never closed."""
    source = "".join(f"layer{number} = nn.Sequential(\n\n" for number in range(count))
    issues = parse_source(source).issues
    reported = min(count - 200, MAX_ROUNDS)
    never_closed = [issue.line for issue in issues if issue.message.endswith("was never closed")]
    assert never_closed[:reported] == [2 * number + 1 for number in range(reported)]
    assert all("too many nested" not in issue.message for issue in issues)
    assert ("stopped looking" in issues[-1].message) == (count - 200 >= MAX_ROUNDS)


@pytest.mark.parametrize(
    "source",
    [
        "NAMES = " + "'a' " * 200_000 + "\n",
        "NAMES = (\n" + "    'conv'  # one per line\n" * 200_000 + ")\nx = 1\n",
        "DOC = ('''a\nb''' " + "f'{x}' " * 5_000 + ").join(parts)\n",
    ],
    ids=["one-line", "one-per-line", "mixed"],
)
def test_long_implicit_string_concatenations_are_valid_python(source: str):
    """CPython accepts them; libcst gives up after 3,000 literals. No syntax error, and the rules run."""
    result = parse_source(source)
    assert result.issues == ()
    assert result.module is not None and result.recovered is not None
    assert result.recovered.count("\n") == source.count("\n")
    ast.parse(result.recovered)


def test_valid_source_is_returned_unchanged():
    issues, recovered = check_syntax(
        SEED_000_LIKE.replace("[..,", "[...,")
        .replace("[[", "[")
        .replace("norm_layer = Optional", "norm_layer: Optional")
        .replace(",norm_layer))", ",norm_layer=norm_layer))")
    )
    assert issues == []
    assert recovered is not None and "norm_layer=norm_layer" in recovered


def test_line_endings_and_line_numbers_survive_recovery():
    source = "x = 1\r\ny = (\r\nz = 2\r\n"
    issues, recovered = check_syntax(source)
    assert [issue.line for issue in issues] == [2]
    assert recovered is not None and recovered.count("\r\n") == 3


def test_columns_count_characters_not_bytes():
    source = "# 中文注释\nx = '中文' +* 2\n"
    (issue,) = check_syntax(source)[0]
    assert (issue.line, issue.column) == (2, 11)


def test_deep_nesting_does_not_crash():
    issues, _ = check_syntax("x = " + "(" * 300 + ")" * 300 + "\n")
    assert len(issues) == 1
    assert "nested" in issues[0].message


def test_find_comments_ignores_hashes_in_strings_and_survives_broken_files():
    source = 'x = "# not a comment"  # real\ny = """\n# inside a string\n"""\nz = (  # open\n'
    assert find_comments(source) == {1: "# real", 5: "# open"}


def test_mutated_sources_never_crash_and_always_recover_to_valid_python():
    base = SEED_000_LIKE.replace("[..,", "[...,")
    generator = random.Random(2024)
    tokens = ["(", ")", "[", "]", ":", ",", "=", "'", '"""', "\n    ", "def ", "..", "\t", "，"]
    for _ in range(150):
        text = base
        for _ in range(generator.randint(1, 4)):
            position = generator.randrange(len(text))
            if generator.random() < 0.5:
                text = text[:position] + text[position + 1 :]
            else:
                text = text[:position] + generator.choice(tokens) + text[position:]
        issues, recovered = check_syntax(text)
        count = len(text.splitlines()) or 1
        assert all(1 <= issue.line <= count for issue in issues)
        assert len({issue.line for issue in issues}) == len(issues)
        if recovered is not None:
            assert len(recovered.splitlines()) == len(text.splitlines())
            ast.parse(recovered)


def test_a_huge_file_full_of_errors_stops_within_the_work_budget_and_says_so():
    source = "".join(f"print {number}\n" for number in range(12000))
    result = parse_source(source)
    *errors, cut = result.issues
    assert 0 < len(errors) < MAX_ROUNDS
    assert [issue.line for issue in result.issues] == list(range(1, len(result.issues) + 1))
    assert f"stopped looking for syntax errors after {len(errors)}" in cut.message
    assert result.module is None


def test_a_huge_list_of_numbers_is_parsed_as_its_first_number_in_place():
    """A multi-megabyte table of numbers cost libcst about 4 KB a number (2.7 GB for 4.6 MB): it is
    data, so it is cut to its first number, every line and every later column where it was."""
    table = ",\n".join(", ".join(str(i * 10 + j) for j in range(10)) for i in range(25_000))
    source = f"TABLE = [\n{table}\n]\nNEGATIVE = (-1, -2)\nclass Net:\n    pass\n"
    assert len(source) > 1_000_000
    result = parse_source(source)
    assert result.issues == () and result.module is not None and result.recovered is not None
    assert result.recovered.count("\n") == source.count("\n")
    assert [len(line) for line in result.recovered.splitlines()] == [
        len(line) for line in source.splitlines()
    ]
    tree = ast.parse(result.recovered)
    assert ast.literal_eval(tree.body[0].value) == [0]
    assert result.recovered.endswith("NEGATIVE = (-1, -2)\nclass Net:\n    pass\n")


def test_a_short_list_of_numbers_in_a_large_file_is_kept():
    source = "WIDTHS = [64, 128, 256, 512]\n" + "# padding\n" * 120_000
    assert len(source) > 1_000_000
    assert parse_source(source).recovered == source
