"""The `reslint` command: output, exit codes, options, and the hand-over to the dynamic pass."""

from __future__ import annotations

import contextlib
import io
import json
import subprocess
import sys
import types
from pathlib import Path

import pytest

from reslint import cli, runner
from reslint.findings import Finding, Severity
from reslint.registry import load_rules
from reslint.reporters import summary_line
from reslint.reporters.console import make_console
from reslint.reporters.full import render_findings
from reslint.reporters.json import findings_to_json
from reslint.rule import Rule
from reslint.rules.RN001_syntax_error import SyntaxErrorRule

BROKEN = (
    "import torch.nn as nn\n\n\ndef f(norm_layer: Callable[.., nn.Module] = None):\n    return 1\n"
)
CLEAN = "x = 1\n"
ANSI = "\x1b["


@pytest.fixture
def broken(tmp_path: Path) -> Path:
    path = tmp_path / "broken.py"
    path.write_text(BROKEN, encoding="utf-8")
    return path


@pytest.fixture
def clean(tmp_path: Path) -> Path:
    path = tmp_path / "clean.py"
    path.write_text(CLEAN, encoding="utf-8")
    return path


def main(*argv: str, capsys) -> tuple[int, str, str]:
    code = cli.main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


# ----------------------------------------------------------------------------------------------------------
# Linting through the command line, in a child process


def test_clean_file_exits_0_with_a_summary(run_reslint, clean):
    result = run_reslint(str(clean))
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "All checks passed: 1 file, no findings."


def test_findings_exit_1_with_location_code_frame_and_hint(run_reslint, broken):
    result = run_reslint(str(broken), "--select", "RN001")
    assert result.returncode == 1, result.stderr
    lines = result.stdout.splitlines()
    assert lines[0] == f"{broken}:4:28: RN001 [error] syntax error: invalid syntax at '..'"
    assert lines[1] == " 4 | def f(norm_layer: Callable[.., nn.Module] = None):"
    assert lines[2] == "   | " + " " * 27 + "^^"
    assert lines[3] == "  hint: did you mean `...` (Ellipsis)?"
    assert lines[-1] == "Found 1 finding (1 error) in 1 file."


def test_json_output_is_one_array_of_finding_objects(run_reslint, broken, clean):
    result = run_reslint("--format", "json", "--select", "RN001", str(broken), str(clean))
    assert result.returncode == 1
    data = json.loads(result.stdout)
    assert isinstance(data, list) and len(data) == 1
    assert data[0] == {
        "code": "RN001",
        "severity": "error",
        "path": str(broken),
        "line": 4,
        "column": 28,
        "end_line": 4,
        "end_column": 30,
        "message": "syntax error: invalid syntax at '..'",
        "hint": "did you mean `...` (Ellipsis)?",
    }


def test_json_output_of_a_clean_run_is_an_empty_array(run_reslint, clean):
    result = run_reslint("--format", "json", str(clean))
    assert (result.returncode, json.loads(result.stdout)) == (0, [])


def test_a_missing_path_is_an_error_but_the_others_are_still_linted(run_reslint, broken, tmp_path):
    result = run_reslint(str(tmp_path / "nope.py"), str(broken), "--select", "RN001")
    assert result.returncode == 2
    assert f"reslint: error: no such file or directory: {tmp_path / 'nope.py'}" in result.stderr
    assert "RN001" in result.stdout


def test_no_path_is_a_usage_error(run_reslint):
    result = run_reslint()
    assert result.returncode == 2
    assert result.stderr.startswith("usage: reslint")
    assert "give at least one PATH" in result.stderr


def test_folders_are_linted_recursively_with_one_or_two_processes(run_reslint, tmp_path):
    for number in range(4):
        (tmp_path / f"pkg{number}").mkdir()
        (tmp_path / f"pkg{number}" / "model.py").write_text(BROKEN * (number + 1), encoding="utf-8")
    one = run_reslint(str(tmp_path), "--jobs", "1", "--format", "json", "--select", "RN0")
    two = run_reslint(str(tmp_path), "--jobs", "2", "--format", "json", "--select", "RN0")
    assert one.returncode == two.returncode == 1
    assert json.loads(one.stdout) == json.loads(two.stdout)
    assert len(json.loads(one.stdout)) == 1 + 2 + 3 + 4


def test_ignore_takes_prefixes(run_reslint, broken):
    result = run_reslint(str(broken), "--ignore", "RN0")
    assert result.returncode in (0, 1)
    assert "RN001" not in result.stdout


def test_select_takes_comma_separated_and_repeated_codes(run_reslint, broken):
    result = run_reslint(
        str(broken), "--select", "RN002, RN003", "--select", "RN001", "--format", "json"
    )
    assert [finding["code"] for finding in json.loads(result.stdout)] == ["RN001"]


def test_an_unknown_code_in_select_is_a_usage_error(run_reslint, broken):
    result = run_reslint(str(broken), "--select", "RN999")
    assert result.returncode == 2
    assert "unknown rule code or prefix: RN999" in result.stderr


def test_an_empty_file_is_noted_on_stderr_in_text_mode_only(run_reslint, tmp_path):
    empty = tmp_path / "empty.py"
    empty.write_text("", encoding="utf-8")
    text = run_reslint(str(empty))
    assert text.returncode == 0
    assert f"{empty} is empty" in text.stderr
    as_json = run_reslint(str(empty), "--format", "json")
    assert (as_json.returncode, as_json.stderr, json.loads(as_json.stdout)) == (0, "", [])


def test_a_folder_without_python_files_is_noted(run_reslint, tmp_path):
    (tmp_path / "notes.txt").write_text("hello\n", encoding="utf-8")
    result = run_reslint(str(tmp_path))
    assert result.returncode == 0
    assert "no Python files found" in result.stderr
    assert result.stdout.strip() == "All checks passed: 0 files, no findings."


def test_unreadable_files_are_findings(run_reslint, tmp_path):
    (tmp_path / "gbk.py").write_bytes("x = '残差'\n".encode("gbk"))
    (tmp_path / "blob.py").write_bytes(b"\x00\x01\x02")
    result = run_reslint(str(tmp_path), "--format", "json")
    assert result.returncode == 1
    assert sorted((Path(f["path"]).name, f["code"]) for f in json.loads(result.stdout)) == [
        ("blob.py", "RN002"),
        ("gbk.py", "RN002"),
    ]


def test_no_escape_codes_when_piped_or_asked(run_reslint, broken):
    args = (str(broken), "--select", "RN001")
    assert ANSI not in run_reslint(*args).stdout
    assert ANSI in run_reslint(*args, env={"FORCE_COLOR": "1"}).stdout
    assert ANSI not in run_reslint(*args, "--no-color", env={"FORCE_COLOR": "1"}).stdout
    assert ANSI not in run_reslint(*args, env={"FORCE_COLOR": "1", "NO_COLOR": "1"}).stdout


def test_the_static_pass_never_imports_torch_nor_libcst_matchers(tmp_path):
    # libcst.matchers (thousands of generated classes) costs about as much start-up CPU as libcst
    # itself: the static pass walks trees with isinstance instead. One job and no cache: the lint
    # runs in this process, so its imports are seen.
    project = Path(__file__).resolve().parents[1]
    script = (
        "import sys\n"
        "from reslint.cli import main\n"
        f"code = main([{str(project / 'fixtures' / 'seeds')!r}, '--format', 'json', '--no-cache', '--jobs', '1'])\n"
        "assert 'reslint.model.interpreter' in sys.modules, 'not linted in this process'\n"
        "heavy = {m.split('.')[0] for m in sys.modules} & {'torch', 'hypothesis'}\n"
        "heavy |= {'libcst.matchers'} & set(sys.modules)\n"
        "print(sorted(heavy), code)\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, timeout=600
    )
    assert result.stdout.strip().splitlines()[-1] in ("[] 0", "[] 1"), result.stderr[-2000:]


def test_the_console_script_is_installed():
    script = Path(sys.executable).with_name("reslint")
    if not script.exists():
        why = f"no console script next to {sys.executable} (package not installed in this environment)"
        pytest.skip(reason=why)
    result = subprocess.run([str(script), "--version"], capture_output=True, text=True, timeout=120)
    assert (result.returncode, result.stdout.strip()) == (0, "reslint 0.1.0")


# ----------------------------------------------------------------------------------------------------------
# Other actions


def test_version(capsys):
    with pytest.raises(SystemExit) as stop:
        cli.main(["--version"])
    assert stop.value.code == 0
    assert capsys.readouterr().out.strip() == "reslint 0.1.0"


def test_list_rules_shows_every_code_static_and_dynamic(capsys):
    from reslint.dynamic.codes import CODES

    code, out, _ = main("--list-rules", capsys=capsys)
    assert code == 0
    lines = out.splitlines()
    assert lines[0].split() == ["code", "name", "severity", "pass", "summary"]
    listed = [line.split()[0] for line in lines[1:]]
    assert listed == [rule.code for rule in load_rules()] + list(CODES)
    assert {"RN001", "RN002", "RN003", "RN004", "RD101"} <= set(listed)


def test_list_rules_as_json(capsys):
    code, out, _ = main("--list-rules", "--format", "json", capsys=capsys)
    rows = json.loads(out)
    assert code == 0
    assert rows[0] == {
        "code": "RN001",
        "name": "syntax-error",
        "severity": "error",
        "pass": "static",
        "summary": SyntaxErrorRule.summary(),
    }
    assert {row["pass"] for row in rows} == {"static", "dynamic"}
    assert all(set(row) == {"code", "name", "severity", "pass", "summary"} for row in rows)


def test_explain_prints_the_documentation_of_every_code(capsys):
    from reslint.vocabulary import all_codes

    for info in all_codes():
        code, out, _ = main("--explain", info.code.lower(), capsys=capsys)
        assert code == 0
        assert out.startswith(f"{info.code} {info.name} (")
        assert info.documentation in out
        for heading in ("## What it does", "## Why is this bad?", "## Example", "Use instead:"):
            assert heading in out, f"{info.code} documentation lacks {heading!r}"


def test_explain_of_a_dynamic_code_needs_no_torch(tmp_path):
    check = (
        "import sys; from reslint import cli; code = cli.main(['--explain', 'RD101']); "
        "assert 'torch' not in sys.modules, 'torch imported'; sys.exit(code)"
    )
    result = subprocess.run([sys.executable, "-c", check], capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith("RD101 shape-mismatch (error, dynamic pass)")
    assert "Use instead:" in result.stdout


def test_explain_on_a_terminal_renders_the_markdown():
    buffer = io.StringIO()
    cli.render_documentation(
        "RN101 super-wrong-class", "## What it does\nChecks `super()`.", file=buffer
    )
    text = buffer.getvalue()
    assert "What it does" in text and "##" not in text and "Checks super()." in text


def test_explain_of_an_unknown_code_exits_2(capsys):
    code, out, err = main("--explain", "RN999", capsys=capsys)
    assert (code, out) == (2, "")
    assert "unknown rule code: RN999" in err


def test_explain_as_json(capsys):
    code, out, _ = main("--explain", "RN001", "--format", "json", capsys=capsys)
    data = json.loads(out)
    assert code == 0 and data["code"] == "RN001" and "## What it does" in data["documentation"]


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["--list-rules", "x.py"], "PATH and --list-rules cannot be used together"),
        (["--init", "{}", "x.py"], "--init, --timeout and --analysis only apply to --compare-to"),
        (
            ["--analysis", "symbolic", "x.py"],
            "--init, --timeout and --analysis only apply to --compare-to",
        ),
        (["--jobs", "0", "x.py"], "--jobs must be at least 1"),
        (
            ["--compare-to", "resnet18", "m.py:Net", "--init", "{not json"],
            "--init is not valid JSON",
        ),
        (
            ["--compare-to", "resnet18", "m.py:Net", "--init", "[1, 2]"],
            "--init must be a JSON object",
        ),
        (
            ["--compare-to", "resnet18", "m.py:Net", "--timeout", "-1"],
            "--timeout must be a positive number",
        ),
        (
            ["--compare-to", "resnet18", "m.py:Net", "--format", "sarif"],
            "--compare-to prints text or json, not --format sarif",
        ),
        (["--select", "RN9", "x.py"], "--select: unknown rule code or prefix: RN9"),
        (["--exclude", "!", "x.py"], "--exclude: bad pattern '!'"),
    ],
)
def test_usage_errors_exit_2_with_a_clear_message(argv, message, capsys):
    code, _, err = main(*argv, capsys=capsys)
    assert code == 2
    assert f"reslint: error: {message}" in err


# ----------------------------------------------------------------------------------------------------------
# The dynamic pass is reached through a lazy import


@pytest.fixture
def fake_dynamic(monkeypatch):
    """The dynamic pass replaced by a recorder (torch need not be installed)."""
    calls = []
    module = types.ModuleType("reslint.dynamic.cli")
    module.run_compare = lambda *args, selected: calls.append(("run_compare", args, selected)) or 1
    module.list_references = lambda *args: calls.append(("list_references", args)) or 0
    monkeypatch.setattr(cli, "_import_dynamic", lambda: module)
    return calls


def test_compare_to_hands_its_arguments_to_the_dynamic_pass(fake_dynamic, capsys):
    code, _, _ = main(
        "--compare-to",
        "resnet50",
        "models/net.py:Net",
        "--init",
        '{"num_classes": 10}',
        "--timeout",
        "5",
        "--format",
        "json",
        "--no-color",
        capsys=capsys,
    )
    assert code == 1
    ((name, args, selected),) = fake_dynamic
    assert (name, args) == (
        "run_compare",
        ("resnet50", "models/net.py:Net", {"num_classes": 10}, 5.0, "json", True),
    )
    assert selected("RD105")


def test_compare_to_defaults(fake_dynamic, capsys):
    main("--compare-to", "resnet18", "pkg.mod:Net", capsys=capsys)
    ((_, args, _),) = fake_dynamic
    assert args == ("resnet18", "pkg.mod:Net", {}, 60.0, "text", False)


def test_select_and_ignore_reach_the_dynamic_pass(fake_dynamic, capsys):
    main("--compare-to", "resnet18", "m.py:Net", "--ignore", "RD105,RD106", capsys=capsys)
    ((_, _, selected),) = fake_dynamic
    assert [code for code in ("RD101", "RD105", "RD106") if selected(code)] == ["RD101"]


def test_with_every_difference_deselected_the_comparison_exits_0(monkeypatch, capsys):
    import reslint.dynamic.cli as dynamic

    found = {"verdict": "differs", "findings": [{"code": "RD105", "path": "m.py"}]}
    monkeypatch.setattr(dynamic, "compare_result", lambda *args, **kwargs: found)
    monkeypatch.setattr(dynamic.render, "print_json", lambda result: None)
    run = dynamic.run_compare
    assert run("resnet18", "m.py:Net", {}, 5.0, "json", True, selected=lambda code: True) == 1
    assert run("resnet18", "m.py:Net", {}, 5.0, "json", True, selected=lambda code: False) == 0


def test_deselected_differences_are_dropped_and_could_not_run_codes_kept():
    from reslint.dynamic.cli import select_findings

    result = {
        "verdict": "differs",
        "findings": [{"code": "RD101"}, {"code": "RD105"}, {"code": "RD006"}],
    }
    kept = select_findings(result, lambda code: code != "RD105" and code != "RD006")
    assert [finding["code"] for finding in kept["findings"]] == ["RD101", "RD006"]
    assert kept["verdict"] == "differs"


def test_list_references_is_handed_over(fake_dynamic, capsys):
    code, _, _ = main("--list-references", "--format", "json", capsys=capsys)
    assert code == 0
    assert fake_dynamic == [("list_references", ("json",))]


def test_without_torch_the_dynamic_pass_explains_how_to_get_it(monkeypatch, capsys):
    import importlib.util

    real_find_spec = importlib.util.find_spec
    monkeypatch.setattr(
        importlib.util,
        "find_spec",
        lambda name, *a: None if name == "torch" else real_find_spec(name, *a),
    )
    code, _, err = main("--compare-to", "resnet18", "m.py:Net", capsys=capsys)
    assert code == 2
    assert "the dynamic pass needs torch: pip install 'reslint[dynamic]'" in err


# ----------------------------------------------------------------------------------------------------------
# Failures never end in a traceback


def test_an_unexpected_exception_is_an_internal_error_exit_2(monkeypatch, clean, capsys):
    def explode(*args, **kwargs):
        raise RuntimeError("boom")

    monkeypatch.setattr(runner, "run", explode)
    code, _, err = main(str(clean), capsys=capsys)
    assert code == 2
    assert err.strip() == "reslint: internal error: RuntimeError: boom"


def test_interrupt_exits_130(monkeypatch, clean, capsys):
    def interrupt(*args, **kwargs):
        raise KeyboardInterrupt

    monkeypatch.setattr(runner, "run", interrupt)
    code, _, _ = main(str(clean), capsys=capsys)
    assert code == 130


class _Broken(Rule):
    """Always raises."""

    code = "RN999"
    name = "broken"

    def check(self, module):
        raise ValueError("bad rule")


def test_a_rule_that_raises_is_a_finding_and_the_other_findings_are_printed(
    monkeypatch, broken, capsys
):
    import reslint.registry

    monkeypatch.setattr(reslint.registry, "checking_rules", lambda: (_Broken,))
    code, out, err = main(str(broken), capsys=capsys)
    assert code == 1
    assert "RN001" in out
    assert f"{broken}:1:1: RN004 [error] internal error in rule RN999: ValueError: bad rule" in out
    assert "Traceback" not in out + err


# ----------------------------------------------------------------------------------------------------------
# The reporter, also used by the dynamic pass


def render(findings, sources) -> str:
    buffer = io.StringIO()
    render_findings(findings, make_console(no_color=True, file=buffer), source_lines=sources)
    return buffer.getvalue()


def test_marker_sits_under_the_span_after_wide_characters_and_tabs():
    line = "\tx = '残差' + nn.conv2d  # 注释\n"
    column = line.index("nn.conv2d") + 1
    finding = Finding(
        "m.py",
        1,
        column,
        1,
        column + len("nn.conv2d"),
        "RN105",
        Severity.ERROR,
        "no such layer",
        "",
    )
    source_row, marker_row = render([finding], {"m.py": line}).splitlines()[1:3]
    from rich.cells import cell_len

    code = source_row.split(" | ", 1)[1]
    marker = marker_row.split(" | ", 1)[1]
    assert cell_len(code[: code.index("nn.conv2d")]) == len(marker) - len(marker.lstrip(" "))
    assert marker.strip() == "^" * len("nn.conv2d")


def test_control_characters_from_the_users_side_never_reach_the_terminal():
    """A model's output and exception messages, a source line, a file name: escape sequences there would
    retitle or clear the terminal. They show as control pictures, one character for one."""
    hostile = "\x1b]0;owned\x07\x1b[2J\x9b31m\x7f"
    line = f"x = '{hostile}' + nn.conv2d\r\n"
    column = line.index("nn.conv2d") + 1
    finding = Finding(
        f"m{hostile}.py",
        1,
        column,
        1,
        column + len("nn.conv2d"),
        "RD008",
        Severity.ERROR,
        f"the isolated process exited: {hostile}",
        f"look at {hostile}",
    )
    shown = render([finding], {finding.path: line})
    assert not [c for c in shown if c not in "\n" and (ord(c) < 32 or 0x7F <= ord(c) < 0xA0)]
    assert "\u241b]0;owned\u2407\u241b[2J\ufffd31m\u2421" in shown.splitlines()[0]
    source_row, marker_row = shown.splitlines()[1:3]
    code, marker = source_row.split(" | ", 1)[1], marker_row.split(" | ", 1)[1]
    assert code.index("nn.conv2d") == len(marker) - len(marker.lstrip(" "))


def test_very_long_lines_are_cropped_around_the_span():
    line = "x = [" + "1, " * 300 + "bad] \n"
    column = line.index("bad") + 1
    finding = Finding("m.py", 1, column, 1, column + 3, "RN901", Severity.WARNING, "bad", "")
    source_row, marker_row = render([finding], {"m.py": line}).splitlines()[1:3]
    assert len(source_row) < 140 and "…" in source_row
    code, marker = source_row.split(" | ", 1)[1], marker_row.split(" | ", 1)[1]
    start = len(marker) - len(marker.lstrip(" "))
    assert code[start : start + 3] == "bad"


def test_a_finding_without_source_is_printed_without_a_frame():
    finding = Finding(
        "gone.py", 3, 1, 3, 2, "RD101", Severity.ERROR, "shape differs", "check layer4"
    )
    assert render([finding], {}).splitlines() == [
        "gone.py:3:1: RD101 [error] shape differs",
        "  hint: check layer4",
        "",
    ]


def test_messages_with_brackets_are_printed_verbatim():
    finding = Finding(
        "m.py",
        1,
        1,
        1,
        2,
        "RN001",
        Severity.ERROR,
        "Optional[Callable[..., nn.Module]] [bold]x[/bold]",
        "",
    )
    assert (
        render([finding], {"m.py": "x\n"})
        .splitlines()[0]
        .endswith("Optional[Callable[..., nn.Module]] [bold]x[/bold]")
    )


@pytest.mark.parametrize(
    ("severities", "files", "expected"),
    [
        ([], 5, "All checks passed: 5 files, no findings."),
        ([], 1, "All checks passed: 1 file, no findings."),
        ([Severity.ERROR], 1, "Found 1 finding (1 error) in 1 file."),
        (
            [Severity.ERROR] * 9 + [Severity.WARNING] * 3,
            3,
            "Found 12 findings (9 errors, 3 warnings) in 3 files.",
        ),
    ],
)
def test_summary_line(severities, files, expected):
    findings = [
        Finding(f"f{index % files}.py", 1, 1, 1, 2, "RN001", severity, "m")
        for index, severity in enumerate(severities)
    ]
    assert summary_line(findings, files) == expected


def test_findings_to_json_round_trips():
    finding = Finding(
        "m.py", 2, 3, 2, 9, "RN203", Severity.WARNING, "bias before norm", "bias=False"
    )
    assert json.loads(findings_to_json([finding])) == [finding.to_dict()]


# ----------------------------------------------------------------------------------------------------------
# Progress


def run_with_terminal_stderr(args: list[str], cwd: Path) -> tuple[int, str]:
    """Run reslint with stderr on a pseudo-terminal (stdout a pipe); (exit code, what the terminal got)."""
    import os
    import pty

    controller, terminal = pty.openpty()
    environment = {key: value for key, value in os.environ.items() if key not in {"CI", "NO_COLOR"}}
    with subprocess.Popen(
        [sys.executable, "-m", "reslint", *args],
        cwd=cwd,
        stdout=subprocess.PIPE,
        stderr=terminal,
        env={**environment, "COLUMNS": "100"},
    ) as process:
        os.close(terminal)
        received = b""
        while True:
            try:
                chunk = os.read(controller, 65536)
            except OSError:  # the terminal closed: the process has exited
                break
            if not chunk:
                break
            received += chunk
        process.communicate(timeout=300)
    os.close(controller)
    return process.returncode, received.decode("utf-8", "replace")


def test_many_files_show_a_progress_bar_on_a_terminal_and_few_do_not(tmp_path):
    for number in range(60):
        (tmp_path / f"m{number}.py").write_text("x = 1\n", encoding="utf-8")
    code, terminal = run_with_terminal_stderr(["--no-cache", "."], tmp_path)
    assert code == 0 and "linting" in terminal and "/60" in terminal
    code, quiet = run_with_terminal_stderr(["--no-cache", "--quiet", "."], tmp_path)
    assert code == 0 and "linting" not in quiet
    code, few = run_with_terminal_stderr(["--no-cache", "m1.py", "m2.py"], tmp_path)
    assert code == 0 and "linting" not in few


# ----------------------------------------------------------------------------------------------------------
# The process ends without tearing the interpreter down: everything written must still arrive.


class _Ended(Exception):
    """Stands in for os._exit, which would end the test run itself."""


@pytest.fixture
def exits(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    codes: list[int] = []

    def record(code: int) -> None:
        codes.append(code)
        raise _Ended

    monkeypatch.setattr(cli.os, "_exit", record)
    return codes


def test_the_command_ends_the_process_with_mains_exit_code(broken, exits, monkeypatch, capsys):
    monkeypatch.setattr(sys, "argv", ["reslint", "--no-cache", "--format", "json", str(broken)])
    with pytest.raises(_Ended):
        cli.entry()
    assert exits == [cli.EXIT_FINDINGS]
    assert "RN001" in {finding["code"] for finding in json.loads(capsys.readouterr().out)}


def test_the_command_exits_as_usual_while_a_thread_still_runs(clean, exits, monkeypatch):
    import threading

    monkeypatch.setattr(sys, "argv", ["reslint", "--no-cache", str(clean)])
    release = threading.Event()
    worker = threading.Thread(target=release.wait)
    worker.start()
    try:
        with pytest.raises(SystemExit) as ended:
            cli.entry()
    finally:
        release.set()
        worker.join()
    assert (ended.value.code, exits) == (cli.EXIT_CLEAN, [])


def test_a_long_report_reaches_the_pipe_whole(run_reslint):
    """Output several times the size of the write buffer, read through a pipe: nothing may be lost when
    the process ends at once."""
    fixtures = Path(__file__).resolve().parents[1] / "fixtures"
    result = run_reslint("--no-cache", "--format", "json", str(fixtures / "bugs"))
    in_process = io.StringIO()
    with contextlib.redirect_stdout(in_process):
        expected = cli.main(["--no-cache", "--format", "json", str(fixtures / "bugs")])
    assert len(result.stdout) > 4 * io.DEFAULT_BUFFER_SIZE
    assert (result.returncode, json.loads(result.stdout)) == (
        expected,
        json.loads(in_process.getvalue()),
    )
