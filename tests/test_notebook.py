"""Jupyter notebooks: code cells joined, IPython syntax blanked, findings placed in their cells."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

import reslint
from reslint.notebook import NotANotebook, parse_notebook, python_of


def notebook(*cells: tuple[str, str], language: str | None = "python") -> str:
    metadata = {"kernelspec": {"language": language, "name": language}} if language else {}
    return json.dumps(
        {
            "cells": [
                {
                    "cell_type": kind,
                    "metadata": {},
                    "source": source.splitlines(keepends=True),
                    **({"outputs": [], "execution_count": None} if kind == "code" else {}),
                }
                for kind, source in cells
            ],
            "metadata": metadata,
            "nbformat": 4,
            "nbformat_minor": 5,
        },
        indent=1,
    )


STUDENT = notebook(
    ("markdown", "# My ResNet\nA residual network for CIFAR-10."),
    ("code", "%matplotlib inline\n!pip install torch\nimport torch.nn as nn\nfiles = !ls"),
    (
        "code",
        "class Block(nn.Module):\n    def __init__(self):\n        super().__init__()\n        self.fc = nn.linear(4, 4)\n",
    ),
    ("code", "block = Block()\nblock?"),
)


def write(folder: Path, name: str, text: str) -> Path:
    path = folder / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    return path


def test_a_bug_in_a_cell_is_reported_at_its_cell_and_line(run_reslint, tmp_path):
    write(tmp_path, "nb.ipynb", STUDENT)
    result = run_reslint("nb.ipynb", cwd=tmp_path)
    assert result.returncode == 1, result.stdout + result.stderr
    assert "nb.ipynb:cell 3:4:19: RN105 [*] [error] `nn.linear` does not exist" in result.stdout
    assert (
        " 4 |         self.fc = nn.linear(4, 4)" in result.stdout
    )  # the frame shows the cell's line
    assert "RN001" not in result.stdout  # the magics, shell lines and help were blanked


def test_json_findings_carry_the_cell(run_reslint, tmp_path):
    write(tmp_path, "nb.ipynb", STUDENT)
    (finding,) = json.loads(run_reslint("--format", "json", "nb.ipynb", cwd=tmp_path).stdout)
    assert (finding["cell"], finding["line"], finding["column"], finding["code"]) == (
        3,
        4,
        19,
        "RN105",
    )
    assert (finding["end_line"], finding["end_column"]) == (4, 28)


def test_notebooks_are_found_in_folders_but_not_in_checkpoints(run_reslint, tmp_path):
    write(tmp_path, "notebooks/nb.ipynb", STUDENT)
    write(tmp_path, "notebooks/.ipynb_checkpoints/nb-checkpoint.ipynb", STUDENT)
    findings = json.loads(run_reslint("--format", "json", ".", cwd=tmp_path).stdout)
    assert [(Path(f["path"]).as_posix(), f["cell"]) for f in findings] == [
        ("notebooks/nb.ipynb", 3)
    ]


def test_a_notebook_that_is_not_json_is_a_file_level_finding(run_reslint, tmp_path):
    write(tmp_path, "broken.ipynb", '{"cells": [')
    write(tmp_path, "odd.ipynb", '{"metadata": {}}')
    findings = json.loads(run_reslint("--format", "json", ".", cwd=tmp_path).stdout)
    assert [(f["path"], f["code"], f["line"]) for f in findings] == [
        ("broken.ipynb", "RN002", 1),
        ("odd.ipynb", "RN002", 1),
    ]
    assert findings[0]["message"].startswith("not a valid notebook: not valid JSON")
    assert "cell" not in findings[0]


def test_noqa_works_in_a_cell(tmp_path):
    text = STUDENT.replace("nn.linear(4, 4)", "nn.linear(4, 4)  # noqa: RN105")
    assert reslint.check_source(text, path=str(tmp_path / "nb.ipynb")) == []


def test_a_syntax_error_is_placed_in_its_cell():
    text = notebook(("code", "x = 1"), ("code", "y = (1,\nz = 2\n"), ("code", "w = 3"))
    (finding,) = reslint.check_source(text, path="nb.ipynb")
    assert (finding.code, finding.cell, finding.line) == ("RN001", 2, 1)


def test_a_notebook_of_another_language_has_nothing_to_lint(run_reslint, tmp_path):
    write(tmp_path, "r.ipynb", notebook(("code", "x <- c(1, 2)\nnn.linear"), language="R"))
    result = run_reslint("r.ipynb", cwd=tmp_path)
    assert result.returncode == 0 and "r.ipynb is empty, nothing to check" in result.stderr


def test_stdin_takes_a_notebook(run_reslint, tmp_path):
    result = run_reslint(
        "-", "--stdin-filename", "nb.ipynb", "--format", "concise", cwd=tmp_path, input=STUDENT
    )
    assert result.stdout.splitlines()[0].startswith("nb.ipynb:cell 3:4:19: RN105")


# ----------------------------------------------------------------------------------------------------------
# The transformation itself


@pytest.mark.parametrize(
    ("line", "python"),
    [
        ("%matplotlib inline", "pass"),
        ("!pip install torch", "pass"),
        ("files = !ls", "files = ..."),
        ("a, b = %sx ls -1", "a, b = ..."),
        ("for model in models:\n    %time train(model)", "for model in models:\n    pass"),
        ("nn.Conv2d?", "pass"),
        ("??nn.Conv2d", "pass"),
        ("x = 5 % 3", "x = 5 % 3"),
        ("x = (a\n    % b)", "x = (a\n    % b)"),
        ("y = 1  # is this right?", "y = 1  # is this right?"),
        ("flag = x != y", "flag = x != y"),
    ],
)
def test_ipython_syntax_is_blanked_line_for_line(line, python):
    assert python_of(line) == python + "\n"


def test_a_cell_indented_as_a_whole_loses_its_indentation_as_in_ipython():
    """Code pasted from a function body runs in IPython, which removes the first line's indentation
    from every line; findings keep the columns of the cell as written."""
    assert python_of("\n  x = 1\n  if x:\n      y = 2") == "\nx = 1\nif x:\n    y = 2\n"
    text = notebook(("code", "import torch.nn as nn"), ("code", "  fc = nn.linear(4, 4)\n  z = 1"))
    (finding,) = reslint.check_source(text, path="nb.ipynb")
    assert (finding.code, finding.cell, finding.line, finding.column) == ("RN105", 2, 1, 8)


def test_cell_magics_blank_other_languages_and_keep_python_bodies():
    assert python_of("%%bash\necho hi\nls") == "\n\n\n"
    assert python_of("%%time\nmodel = ResNet()") == "pass\nmodel = ResNet()\n"


def test_cells_are_numbered_counting_markdown_and_joined_line_for_line():
    parsed = parse_notebook(STUDENT)
    assert [(cell.number, cell.first_line) for cell in parsed.cells] == [(2, 1), (3, 5), (4, 9)]
    assert parsed.text.splitlines()[4] == "class Block(nn.Module):"


@pytest.mark.parametrize(
    ("text", "reason"),
    [
        ("[1, 2]", "no list of cells"),
        ('{"cells": [1]}', "cell 1 is not a notebook cell"),
        ('{"cells": [{"cell_type": "code", "source": 3}]}', "cell 1 has no source text"),
        ("{", "not valid JSON"),
    ],
)
def test_what_is_not_a_notebook_says_why(text, reason):
    with pytest.raises(NotANotebook, match=reason):
        parse_notebook(text)
