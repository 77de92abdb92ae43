"""--fix: the fixer on text (overlaps, parsing, rounds, bytes outside the edits), the command (--fix,
--diff, --unsafe-fixes, stdin, notebooks, output), and every bug fixture and seed fixed."""

from __future__ import annotations

import io
import json
import re
import sys
import textwrap
from collections import Counter
from pathlib import Path

import pytest

from reslint.cli import main
from reslint.engine import Checks, lint_source
from reslint.findings import Applicability, Finding, FindingFix, Severity, TextEdit
from reslint.fixer import applicable, apply_fixes, fix_text, no_worse, syntax_errors
from reslint.registry import load_rules

PROJECT = Path(__file__).resolve().parents[1]
FIXTURES = sorted((PROJECT / "fixtures" / "bugs").glob("*.py")) + sorted(
    (PROJECT / "fixtures" / "seeds").glob("*.py")
)
RULES = {rule.code: rule for rule in load_rules()}
FIXABLE = sorted(code for code, rule in RULES.items() if any(rule.FIXED))

BLOCK = textwrap.dedent(
    """\
    import torch.nn as nn


    class Block(nn.Module):  # a comment that must survive
        def __init__(self, c, downsample=None):
            super(Other, self).__init__()
            self.conv = nn.Conv2d(c, c, 3, padding=1)   # odd   spacing kept
            self.bn = nn.BatchNorm2d(c)
            self.downsample = downsample

        def forward(self, x):
            out = self.bn(self.conv(x))
            if downsample is not None:
                x = downsample(x)
            return out + x
    """
)


def finding(line: int, column: int, end_column: int, content: str) -> Finding:
    edit = TextEdit(line, column, line, end_column, content)
    fix = FindingFix(Applicability.SAFE, (edit,))
    return Finding("m.py", line, column, line, end_column, "RN901", Severity.ERROR, "m", fix=fix)


# ----------------------------------------------------------------------------------------------------------
# The fixer on text.


@pytest.mark.parametrize(
    ("text", "fixes", "expected", "applied"),
    [
        # overlapping fixes: the first by position is taken, the other waits for the next round
        (
            "value = first + second\n",
            [(1, 12, 23, "two"), (1, 9, 14, "one")],
            "value = one + second\n",
            [1],
        ),
        # a fix that breaks parsing is dropped, the others kept
        ("a = f(1)\nb = g(2)\n", [(1, 6, 9, "(1"), (2, 5, 6, "h")], "a = f(1)\nb = h(2)\n", [1]),
    ],
    ids=["overlap", "breaks-parsing"],
)
def test_apply_fixes_takes_what_is_safe_to_take(
    text: str, fixes: list[tuple[int, int, int, str]], expected: str, applied: list[int]
) -> None:
    findings = [finding(*fix) for fix in fixes]
    fixed, taken = apply_fixes(text, findings)
    assert fixed == expected
    assert taken == [findings[index] for index in applied]


def test_fixes_repeat_until_nothing_changes_and_keep_everything_else() -> None:
    outcome = fix_text(BLOCK, "block.py", Checks.every())
    # RN102 reports `downsample` once a function: the second read is only fixed in a later round.
    assert outcome.fixed == Counter({"RN102": 2, "RN101": 1, "RN203": 1})
    expected = (
        BLOCK.replace("super(Other,", "super(Block,")
        .replace("padding=1)", "padding=1, bias=False)")
        .replace("if downsample", "if self.downsample")
        .replace("x = downsample(x)", "x = self.downsample(x)")
    )
    assert outcome.text == expected
    assert not any(applicable(f, unsafe=False) for f in outcome.findings)


def test_line_endings_and_tabs_are_kept() -> None:
    tabbed = re.sub(r"(?m)^((?:    )+)", lambda m: "\t" * (len(m.group(1)) // 4), BLOCK)
    text = tabbed.replace("\n", "\r\n")
    outcome = fix_text(text, "block.py", Checks.every())
    assert outcome.fixed["RN102"] == 2
    assert outcome.text.count("\r\n") == text.count("\r\n")
    assert "\t\tif self.downsample is not None:\r\n" in outcome.text
    assert "\t\t\tx = self.downsample(x)\r\n" in outcome.text


def test_no_fix_touches_a_line_a_syntax_repair_changed() -> None:
    text = "import torch.nn as nn\nlayer = nn.conv2d(1, 1, 3) + nn.conv2d(,)\nother = nn.conv2d(1, 1, 3)\n"
    before = syntax_errors(text)
    assert before  # the file has a syntax error on line 2
    outcome = fix_text(text, "broken.py", Checks.every())
    assert outcome.text.splitlines()[1] == text.splitlines()[1]
    assert outcome.text.splitlines()[2] == "other = nn.Conv2d(1, 1, 3)"
    assert no_worse(before, outcome.text)


def test_unsafe_fixes_need_the_flag() -> None:
    unsafe = Finding(
        "m.py", 1, 1, 1, 2, "RN901", Severity.ERROR, "m", fix=FindingFix(Applicability.UNSAFE, ())
    )
    assert not applicable(unsafe, unsafe=False)
    assert applicable(unsafe, unsafe=True)


# ----------------------------------------------------------------------------------------------------------
# Every bug fixture and seed, fixed with every fix there is.


@pytest.mark.parametrize("path", FIXTURES, ids=lambda path: path.name)
def test_fixing_a_fixture_parses_and_leaves_nothing_fixable(path: Path) -> None:
    text = path.read_text(encoding="utf-8")
    before = Counter(f.code for f in lint_source(text, str(path), Checks.every()))
    outcome = fix_text(text, str(path), Checks.every(), unsafe=True)
    assert no_worse(syntax_errors(text), outcome.text)
    assert not any(applicable(f, unsafe=True) for f in outcome.findings)
    after = Counter(f.code for f in outcome.findings)
    for code in outcome.fixed:
        assert after[code] < before[code], f"{code} fixed, yet as many findings remain"


@pytest.mark.parametrize("code", FIXABLE)
def test_each_fixable_rule_fixes_its_bug_fixture(code: str) -> None:
    """A fixture named after the rule (a real model file, not the rule's own example) gets fixed."""
    fixtures = [path for path in FIXTURES if path.name.startswith(code)]
    assert fixtures, f"no fixture is named after {code}"
    fixed = [
        fix_text(path.read_text(encoding="utf-8"), str(path), Checks.every(), unsafe=True).fixed[
            code
        ]
        for path in fixtures
    ]
    assert any(fixed), f"{code} fixed nothing in {[path.name for path in fixtures]}"


# ----------------------------------------------------------------------------------------------------------
# The command.


def run(args: list[str], capsys: pytest.CaptureFixture[str]) -> tuple[int, str, str]:
    code = main(["--no-cache", "--no-color", *args])
    captured = capsys.readouterr()
    return code, captured.out, captured.err


@pytest.fixture
def block(tmp_path: Path) -> Path:
    path = tmp_path / "block.py"
    path.write_text(BLOCK, encoding="utf-8")
    return path


def test_fix_writes_the_file_and_reports_what_is_left(
    block: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, _ = run(["--fix", str(block)], capsys)
    assert "super(Block, self)" in block.read_text(encoding="utf-8")
    assert "Fixed 4 findings." in out
    remaining = lint_source(block.read_text(encoding="utf-8"), str(block), Checks.every())
    assert code == (1 if remaining else 0)
    assert not any(f.fix is not None and f.fix.safe for f in remaining)


def test_diff_shows_the_fixes_and_writes_nothing(
    block: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, err = run(["--diff", str(block)], capsys)
    assert code == 1
    assert block.read_text(encoding="utf-8") == BLOCK
    assert "\n-        super(Other, self).__init__()\n" in out
    assert "\n+        super(Block, self).__init__()\n" in out
    assert "Would fix 4 findings." in err


def test_diff_of_a_clean_file_exits_0(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    clean = tmp_path / "clean.py"
    clean.write_text("x = 1\n", encoding="utf-8")
    assert run(["--diff", str(clean)], capsys)[:2] == (0, "")


def test_text_output_marks_fixable_findings(
    block: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    _, out, _ = run(["--format", "concise", str(block)], capsys)
    assert "RN101 [*] [error]" in out
    # RN102 reports `downsample` once a function; its second read shows up after the first fix.
    assert "[*] 3 fixable with --fix." in out
    assert sum("[*] [" in line for line in out.splitlines()) == 3


def test_json_output_carries_the_fix(block: Path, capsys: pytest.CaptureFixture[str]) -> None:
    _, out, _ = run(["--format", "json", "--select", "RN101", str(block)], capsys)
    (data,) = json.loads(out)
    assert data["fix"] == {
        "applicability": "safe",
        "edits": [
            {
                "content": "Block",
                "location": {"row": 6, "column": 15},
                "end_location": {"row": 6, "column": 20},
            }
        ],
    }


def test_stdin_fix_prints_the_fixed_source(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setattr(sys, "stdin", io.TextIOWrapper(io.BytesIO(BLOCK.encode("utf-8"))))
    code, out, err = run(["--fix", "--select", "RN101", "-"], capsys)
    assert out == BLOCK.replace("super(Other,", "super(Block,")
    assert "Fixed 1 finding." in err
    assert code == 0


def test_stdin_diff_prints_the_diff_and_exits_1(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setattr(sys, "stdin", io.TextIOWrapper(io.BytesIO(BLOCK.encode("utf-8"))))
    code, out, err = run(["--diff", "--select", "RN101", "-"], capsys)
    assert out.startswith("--- -\n+++ -\n")
    assert "\n+        super(Block, self).__init__()\n" in out
    assert "Would fix 1 finding." in err
    assert code == 1


def notebook_json(cells: list[str], **layout: object) -> str:
    """Code cells (each source as the list of lines Jupyter stores) and a markdown cell first."""
    entries: list[dict[str, object]] = [
        {"cell_type": "markdown", "metadata": {}, "source": ["# A model"]}
    ]
    for source in cells:
        lines = source.splitlines(keepends=True)
        entries.append(
            {
                "cell_type": "code",
                "execution_count": None,
                "metadata": {},
                "outputs": [],
                "source": lines,
            }
        )
    document = {"cells": entries, "metadata": {}, "nbformat": 4, "nbformat_minor": 5}
    return json.dumps(document, **layout) + "\n"  # type: ignore[arg-type]


JUPYTER = {"indent": 1, "sort_keys": True, "ensure_ascii": False}


def test_notebook_cells_are_fixed_in_place(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    imports, block = "%matplotlib inline\nimport torch.nn as nn\n", BLOCK.split("\n", 2)[2]
    notebook = tmp_path / "nb.ipynb"
    notebook.write_text(notebook_json([imports, block], **JUPYTER), encoding="utf-8")
    code, out, _ = run(["--fix", "--select", "RN101,RN102", str(notebook)], capsys)
    fixed_block = block.replace("super(Other,", "super(Block,").replace(
        "downsample(x)", "self.downsample(x)"
    )
    fixed_block = fixed_block.replace("if downsample", "if self.downsample")
    assert notebook.read_text(encoding="utf-8") == notebook_json([imports, fixed_block], **JUPYTER)
    assert "Fixed 3 findings." in out
    assert code == 0


def test_a_notebook_finding_carries_its_fix_in_cell_lines(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    notebook = tmp_path / "nb.ipynb"
    notebook.write_text(
        notebook_json(["import torch.nn as nn\n", BLOCK.split("\n", 2)[2]], **JUPYTER)
    )
    _, out, _ = run(["--format", "json", "--select", "RN101", str(notebook)], capsys)
    (data,) = json.loads(out)
    assert (data["cell"], data["line"]) == (3, 4)
    assert data["fix"]["edits"][0]["location"] == {"row": 4, "column": 15}


def test_a_notebook_not_laid_out_as_jupyter_writes_it_is_left_alone(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    notebook = tmp_path / "nb.ipynb"
    content = notebook_json([BLOCK])  # one line of JSON: rewriting it would change every byte
    notebook.write_text(content, encoding="utf-8")
    code, out, err = run(["--fix", str(notebook)], capsys)
    assert notebook.read_text(encoding="utf-8") == content
    assert "not laid out as Jupyter writes it" in err
    assert code == 1 and "nb.ipynb:cell 2:6:9: RN101" in out


def test_fix_needs_paths(capsys: pytest.CaptureFixture[str]) -> None:
    code, _, err = run(["--fix", "--list-rules"], capsys)
    assert code == 2 and "--fix and --diff need a PATH" in err


def test_a_cached_run_keeps_the_fixes(
    block: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.chdir(block.parent)
    runs = []
    for _ in range(2):  # the second run is answered from .reslint_cache
        assert main(["--format", "json", "--no-color", block.name]) == 1
        runs.append(json.loads(capsys.readouterr().out))
    assert (block.parent / ".reslint_cache").is_dir()
    assert runs[0] == runs[1]
    assert sum("fix" in finding for finding in runs[1]) == 3


def test_a_text_that_gives_no_tree_is_no_worse_than_the_treeless_text_it_came_from() -> None:
    # Stray indentation and tab-indented lines, past what the repair mends: libcst makes no tree.
    treeless = (
        "x = 1\n    def forward(self, x):\n            out = x\n"
        "\tdef g(self, x):\n\tdef g(self, x):\n        return x\n"
    )
    assert syntax_errors(treeless) is None
    assert no_worse(None, treeless)  # unchanged: as good as it was
    assert not no_worse(syntax_errors("x = 1\n"), treeless)  # a tree lost is worse
