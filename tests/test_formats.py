"""Output formats, --statistics, --output-file, --quiet, --exit-zero and stdin, through the real command."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from reslint.registry import load_rules

# RN105 (error) on line 4, RN109 (warning) on line 8.
MODEL = """\
import torch.nn as nn


layer = nn.conv2d(3, 64, 3)

class Head(nn.Module):
    def forward(self, x):
        print(x.shape)
        return x
"""
EXPECTED = [(4, 9, "RN105", "error"), (8, 9, "RN109", "warning")]


@pytest.fixture
def model(tmp_path: Path) -> Path:
    path = tmp_path / "models" / "model.py"
    path.parent.mkdir()
    path.write_text(MODEL, encoding="utf-8")
    return path


def lint(run_reslint, folder: Path, *args: str, **kwargs):
    return run_reslint(*args, cwd=folder, **kwargs)


def test_full_is_the_default_and_text_its_old_name(run_reslint, model):
    full = lint(run_reslint, model.parent, "model.py")
    assert full.returncode == 1
    assert "model.py:4:9: RN105 [*] [error]" in full.stdout  # [*]: --fix mends it
    assert " 4 | layer = nn.conv2d(3, 64, 3)" in full.stdout
    assert full.stdout.rstrip().endswith(
        "Found 2 findings (1 error, 1 warning) in 1 file.\n[*] 1 fixable with --fix.\n"
        "1 more fix available with --unsafe-fixes."
    )
    assert lint(run_reslint, model.parent, "--format", "text", "model.py").stdout == full.stdout


def test_concise_is_one_line_a_finding(run_reslint, model):
    result = lint(run_reslint, model.parent, "--format", "concise", "model.py")
    assert result.stdout.splitlines() == [
        "model.py:4:9: RN105 [*] [error] `nn.conv2d` does not exist in torch.nn: did you mean `nn.Conv2d`?",
        "model.py:8:9: RN109 [warning] `print` in `Head.forward` runs on every forward pass",
        "Found 2 findings (1 error, 1 warning) in 1 file.",
        "[*] 1 fixable with --fix.",
        "1 more fix available with --unsafe-fixes.",  # RN109's fix changes behaviour
    ]


def test_json_lines_is_one_object_a_line(run_reslint, model):
    result = lint(run_reslint, model.parent, "--format", "json-lines", "model.py")
    rows = [json.loads(line) for line in result.stdout.splitlines()]
    assert [(r["line"], r["column"], r["code"], r["severity"]) for r in rows] == EXPECTED
    as_array = json.loads(lint(run_reslint, model.parent, "--format", "json", "model.py").stdout)
    assert rows == as_array


def test_github_workflow_commands(run_reslint, model):
    result = lint(run_reslint, model.parent, "--format", "github", "model.py")
    error, warning = result.stdout.splitlines()
    assert error.startswith(
        "::error file=model.py,line=4,col=9,endLine=4,endColumn=18,title=RN105::"
        "`nn.conv2d` does not exist in torch.nn"
    )
    assert "%0Ahint: write `nn.Conv2d`" in error
    assert warning.startswith("::warning file=model.py,line=8,col=9,")
    assert result.returncode == 1


def test_github_escapes_what_would_end_a_command():
    from reslint.findings import Finding, Severity
    from reslint.reporters.github import annotation

    finding = Finding("a,b:c.py", 1, 1, 1, 2, "RN001", Severity.INFO, "100% wrong\nreally")
    assert annotation(finding) == (
        "::notice file=a%2Cb%3Ac.py,line=1,col=1,endLine=1,endColumn=2,title=RN001::"
        "100%25 wrong%0Areally"
    )


def test_sarif_is_a_valid_sarif_2_1_0_log(run_reslint, model, tmp_path):
    why = "the SARIF model comes with the test extra: pip install '.[test]'"
    sarif_pydantic = pytest.importorskip("sarif_pydantic", reason=why)
    result = lint(run_reslint, tmp_path, "--format", "sarif", "models")
    assert result.returncode == 1
    log = json.loads(result.stdout)
    sarif_pydantic.Sarif.model_validate(log)  # the registry's SARIF 2.1.0 model
    check_oasis_required_fields(log)
    (run,) = log["runs"]
    rules = run["tool"]["driver"]["rules"]
    assert [rule["id"] for rule in rules] == [rule.code for rule in load_rules()]
    located = [
        (
            result["locations"][0]["physicalLocation"]["artifactLocation"]["uri"],
            result["locations"][0]["physicalLocation"]["region"]["startLine"],
            result["locations"][0]["physicalLocation"]["region"]["startColumn"],
            result["ruleId"],
            result["level"],
        )
        for result in run["results"]
    ]
    assert located == [
        ("models/model.py", line, column, code, level) for line, column, code, level in EXPECTED
    ]


def check_oasis_required_fields(log: dict) -> None:
    """What the OASIS SARIF 2.1.0 schema requires, and what GitHub code scanning relies on."""
    assert log["version"] == "2.1.0" and "sarif-2.1.0" in log["$schema"]
    for run in log["runs"]:
        driver = run["tool"]["driver"]
        assert driver["name"] == "reslint" and driver["version"]
        for rule in driver["rules"]:
            assert rule["id"] and rule["shortDescription"]["text"]
            assert "## What it does" in rule["fullDescription"]["text"]
            assert rule["defaultConfiguration"]["level"] in {"none", "note", "warning", "error"}
        for result in run["results"]:
            assert result["message"]["text"]
            assert driver["rules"][result["ruleIndex"]]["id"] == result["ruleId"]
            assert result["level"] in {"none", "note", "warning", "error"}
            for location in result["locations"]:
                physical = location["physicalLocation"]
                assert not physical["artifactLocation"]["uri"].startswith("/")
                region = physical["region"]
                assert region["startLine"] >= 1 and region["startColumn"] >= 1
                assert (region["endLine"], region["endColumn"]) >= (
                    region["startLine"],
                    region["startColumn"],
                )


def test_statistics_count_each_code(run_reslint, model):
    (model.parent / "other.py").write_text(MODEL.replace("Head", "Tail"), encoding="utf-8")
    result = lint(run_reslint, model.parent, "--statistics", ".")
    assert result.returncode == 1
    assert result.stdout.splitlines() == [
        "2  RN105  unknown-nn-attribute",
        "2  RN109  print-in-forward",
    ]
    as_json = lint(run_reslint, model.parent, "--statistics", "--format", "json", ".")
    assert json.loads(as_json.stdout) == [
        {"code": "RN105", "name": "unknown-nn-attribute", "count": 2},
        {"code": "RN109", "name": "print-in-forward", "count": 2},
    ]


def test_output_file_gets_the_report(run_reslint, model, tmp_path):
    report = tmp_path / "report.json"
    result = lint(
        run_reslint, model.parent, "--format", "json", "--output-file", str(report), "model.py"
    )
    assert result.returncode == 1 and result.stdout == ""
    assert [(r["line"], r["code"]) for r in json.loads(report.read_text(encoding="utf-8"))] == [
        (4, "RN105"),
        (8, "RN109"),
    ]
    unwritable = lint(
        run_reslint, model.parent, "--output-file", str(tmp_path / "no" / "r.txt"), "model.py"
    )
    assert unwritable.returncode == 2 and "--output-file" in unwritable.stderr


def test_quiet_prints_findings_only(run_reslint, model, tmp_path):
    (tmp_path / "empty.py").write_text("", encoding="utf-8")
    (tmp_path / "clean.py").write_text("x = 1\n", encoding="utf-8")
    clean = lint(run_reslint, tmp_path, "--quiet", "clean.py", "empty.py")
    assert (clean.returncode, clean.stdout, clean.stderr) == (0, "", "")
    found = lint(run_reslint, model.parent, "-q", "--format", "concise", "model.py")
    assert len(found.stdout.splitlines()) == 2 and "Found" not in found.stdout


def test_exit_zero_keeps_the_findings_and_exits_0(run_reslint, model, tmp_path):
    result = lint(run_reslint, model.parent, "--exit-zero", "model.py")
    assert result.returncode == 0 and "RN105" in result.stdout
    missing = lint(run_reslint, model.parent, "--exit-zero", "model.py", "gone.py")
    assert missing.returncode == 2  # a path that could not be linted is still an error


@pytest.mark.parametrize(
    "output_format", ["full", "concise", "json", "json-lines", "github", "sarif"]
)
def test_exit_2_never_says_passed_in_any_format(run_reslint, tmp_path, output_format):
    result = lint(run_reslint, tmp_path, "--format", output_format, "gone.py")
    assert result.returncode == 2
    assert "passed" not in result.stdout.lower()
    assert "no such file or directory: gone.py" in result.stderr


# ----------------------------------------------------------------------------------------------------------
# stdin


def test_stdin_is_linted_under_the_given_name(run_reslint, model):
    result = lint(
        run_reslint, model.parent, "-", "--stdin-filename", "models/model.py", input=MODEL
    )
    assert result.returncode == 1
    assert "models/model.py:4:9: RN105" in result.stdout
    assert " 4 | layer = nn.conv2d(3, 64, 3)" in result.stdout  # the frame comes from stdin's text
    without_dash = lint(
        run_reslint,
        model.parent,
        "--stdin-filename",
        "m.py",
        "--format",
        "json",
        input="x = nn.conv2d\n",
    )
    assert [f["path"] for f in json.loads(without_dash.stdout)] == ["m.py"]


def test_stdin_uses_the_configuration_of_its_filename(run_reslint, tmp_path):
    (tmp_path / "reslint.toml").write_text(
        'per-file-ignores = {"generated/*" = ["RN105"]}\n', encoding="utf-8"
    )
    clean = lint(run_reslint, tmp_path, "-", "--stdin-filename", "generated/m.py", input=MODEL)
    assert clean.returncode == 1 and "RN105" not in clean.stdout and "RN109" in clean.stdout


def test_stdin_with_force_exclude_and_an_excluded_name_gives_nothing(run_reslint, tmp_path):
    (tmp_path / "reslint.toml").write_text('extend-exclude = ["vendor/"]\n', encoding="utf-8")
    result = lint(
        run_reslint,
        tmp_path,
        "-",
        "--stdin-filename",
        "vendor/m.py",
        "--force-exclude",
        input=MODEL,
    )
    assert (result.returncode, result.stdout) == (0, "All checks passed: 0 files, no findings.\n")


def test_stdin_that_is_not_text_is_unreadable(run_reslint, tmp_path):
    result = lint(run_reslint, tmp_path, "-", "--format", "json", input="x = 1\0\n")
    (finding,) = json.loads(result.stdout)
    assert (finding["path"], finding["code"]) == ("-", "RN002")


def test_stdin_cannot_be_mixed_with_paths(run_reslint, model):
    result = lint(run_reslint, model.parent, "-", "model.py", input=MODEL)
    assert result.returncode == 2 and "cannot be combined" in result.stderr
