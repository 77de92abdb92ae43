"""The engine and the runner with small fake rules, so these tests do not depend on the real rule
catalogue."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from pathlib import Path

import libcst as cst
import pytest

from reslint import processes, runner
from reslint.engine import Checks, check_file, lint_file
from reslint.findings import FileResult, Finding, Severity
from reslint.rule import Rule, Violation
from reslint.selection import Layer, Selection, unknown_selectors
from reslint.settings import Overrides, Settings, SettingsResolver
from reslint.source import DEFAULT_MAX_BYTES, read_source
from reslint.suppression import Suppressions


def names(module, wanted: str) -> Iterable[cst.Name]:
    found: list[cst.Name] = []

    class Collect(cst.CSTVisitor):
        def visit_Name(self, node: cst.Name) -> None:
            if node.value == wanted:
                found.append(node)

    module.tree.visit(Collect())
    return found


class FlagBad(Rule):
    """Flags every name `bad`."""

    code = "RN901"
    name = "flag-bad"

    def check(self, module) -> Iterable[Violation]:
        for node in names(module, "bad"):
            yield Violation(node, "`bad` is bad", "write `good`")


class FlagUgly(Rule):
    """Flags every name `ugly` (a warning)."""

    code = "RN902"
    name = "flag-ugly"
    severity = Severity.WARNING

    def check(self, module) -> Iterable[Violation]:
        for node in names(module, "ugly"):
            yield Violation(node, "`ugly` is ugly")


class Crashes(Rule):
    """Always raises."""

    code = "RN903"
    name = "crashes"

    def check(self, module) -> Iterable[Violation]:
        raise ZeroDivisionError("rule bug")


class ForeignNode(Rule):
    """Yields a node that is not in the tree."""

    code = "RN904"
    name = "foreign-node"

    def check(self, module) -> Iterable[Violation]:
        yield Violation(cst.Name("elsewhere"), "not in this file")


class FlagLastStatement(Rule):
    """Flags the module's last statement (cheap on a huge file: no walk over the tree)."""

    code = "RN905"
    name = "flag-last-statement"

    def check(self, module) -> Iterable[Violation]:
        yield Violation(module.tree.body[-1], "last statement")


FAKE_RULES = (FlagBad, FlagUgly)


def write(directory: Path, name: str, text: str | bytes) -> str:
    path = directory / name
    path.parent.mkdir(parents=True, exist_ok=True)
    if isinstance(text, bytes):
        path.write_bytes(text)
    else:
        path.write_text(text, encoding="utf-8")
    return str(path)


def codes_at(findings: list[Finding]) -> list[tuple[int, str]]:
    return [(finding.line, finding.code) for finding in findings]


def run(
    paths: Sequence[str | Path],
    rules: Sequence[type[Rule]] = FAKE_RULES,
    jobs: int | None = None,
    select: Sequence[str] | None = None,
    ignore: Sequence[str] = (),
) -> runner.LintRun:
    overrides = Overrides(
        select=tuple(select) if select else None, ignore=tuple(ignore), rules=tuple(rules)
    )
    return runner.run(paths, SettingsResolver(overrides), jobs=jobs)


def test_a_rule_violation_becomes_a_finding_with_position_code_and_severity(tmp_path):
    path = write(tmp_path, "model.py", "x = 1\ny = bad + ugly\n")
    findings = lint_file(path, rules=FAKE_RULES)
    assert findings == [
        Finding(path, 2, 5, 2, 8, "RN901", Severity.ERROR, "`bad` is bad", "write `good`"),
        Finding(path, 2, 11, 2, 15, "RN902", Severity.WARNING, "`ugly` is ugly", ""),
    ]


def test_rules_still_run_after_syntax_errors(tmp_path):
    source = "x = bad\ndef f(a, b=1, c):\n    return a\nprint 'x'\ny = bad\n"
    path = write(tmp_path, "broken.py", source)
    assert codes_at(lint_file(path, rules=FAKE_RULES)) == [
        (1, "RN901"),
        (2, "RN001"),
        (4, "RN001"),
        (5, "RN901"),
    ]


def test_columns_of_rule_findings_point_into_the_users_line_after_an_in_place_repair(tmp_path):
    source = "def f(norm_layer: Callable[.., nn.Module] = None, other=bad):\n    return bad\n"
    path = write(tmp_path, "ellipsis.py", source)
    findings = [f for f in lint_file(path, rules=FAKE_RULES) if f.code == "RN901"]
    first_line = source.splitlines()[0]
    assert [(f.line, f.column) for f in findings] == [(1, first_line.index("bad") + 1), (2, 12)]


def test_columns_survive_a_reindented_line(tmp_path):
    source = "def f(x):\n    y = 1\n      z = bad\n    return y\n"
    path = write(tmp_path, "indent.py", source)
    assert [(f.line, f.column, f.code) for f in lint_file(path, rules=FAKE_RULES)] == [
        (3, 7, "RN001"),
        (3, 11, "RN901"),
    ]


def test_paths_may_be_path_objects(tmp_path):
    path = Path(write(tmp_path, "model.py", "bad\n"))
    assert [f.path for f in run([path, tmp_path]).findings] == [str(path)]
    assert [f.path for f in lint_file(path, rules=FAKE_RULES)] == [str(path)]


def test_findings_are_sorted_by_path_line_column_code(tmp_path):
    write(tmp_path, "b.py", "bad\n")
    write(tmp_path, "a.py", "ugly; bad\nbad\n")
    findings = run([str(tmp_path)]).findings
    keys = [(Path(f.path).name, f.line, f.column, f.code) for f in findings]
    assert keys == [
        ("a.py", 1, 1, "RN902"),
        ("a.py", 1, 7, "RN901"),
        ("a.py", 2, 1, "RN901"),
        ("b.py", 1, 1, "RN901"),
    ]


def test_a_rule_that_raises_is_an_internal_error_finding_and_does_not_stop_the_others(tmp_path):
    path = write(tmp_path, "model.py", "bad\n")
    findings = run([path], rules=(Crashes, FlagBad)).findings
    assert codes_at(findings) == [(1, "RN004"), (1, "RN901")]
    error = findings[0]
    assert error.path == path and error.severity == Severity.ERROR
    assert "internal error in rule RN903: ZeroDivisionError: rule bug" in error.message
    assert "report" in error.hint


def test_a_rule_reporting_a_foreign_node_is_an_internal_error(tmp_path):
    path = write(tmp_path, "model.py", "bad\n")
    findings = run([path], rules=(ForeignNode, FlagBad)).findings
    assert codes_at(findings) == [(1, "RN004"), (1, "RN901")]
    assert "RN904" in findings[0].message


def test_an_internal_error_of_the_engine_is_a_finding_and_the_run_goes_on(tmp_path, monkeypatch):
    import reslint.engine

    def explode(path, prepared, checks):
        if path.endswith("deep.py"):
            raise RecursionError("maximum recursion depth exceeded")
        return original(path, prepared, checks)

    original = reslint.engine._findings
    monkeypatch.setattr(reslint.engine, "_findings", explode)
    deep = write(tmp_path, "deep.py", "bad\n")
    other = write(tmp_path, "other.py", "bad\n")
    findings = run([deep, other]).findings
    assert [(Path(f.path).name, f.code) for f in findings] == [
        ("deep.py", "RN004"),
        ("other.py", "RN901"),
    ]
    assert "RecursionError" in findings[0].message


def test_internal_errors_can_be_ignored_like_any_code(tmp_path):
    path = write(tmp_path, "model.py", "bad\n")
    assert codes_at(run([path], rules=(Crashes, FlagBad), ignore=["RN004"]).findings) == [
        (1, "RN901")
    ]


# ----------------------------------------------------------------------------------------------------------
# noqa


@pytest.mark.parametrize(
    ("comment", "left"),
    [
        ("# noqa", []),
        ("# NOQA", []),
        ("# noqa: RN901", ["RN902"]),
        ("# noqa:RN902", ["RN901"]),
        ("# noqa : RN902", ["RN901"]),
        ("# noqa: RN901, RN902", []),
        ("# noqa: RN9", []),
        ("# noqa: RN1", ["RN901", "RN902"]),
        ("# type: ignore  # noqa: RN902", ["RN901"]),
        ("# not a noqa comment", ["RN901", "RN902"]),
    ],
)
def test_noqa(tmp_path, comment: str, left: list[str]):
    path = write(tmp_path, "model.py", f"x = bad + ugly  {comment}\n")
    assert [f.code for f in lint_file(path, rules=FAKE_RULES)] == left


def test_noqa_applies_to_its_own_line_only(tmp_path):
    path = write(tmp_path, "model.py", "x = bad  # noqa\ny = bad\n")
    assert codes_at(lint_file(path, rules=FAKE_RULES)) == [(2, "RN901")]


def test_noqa_inside_a_string_does_not_count(tmp_path):
    path = write(tmp_path, "model.py", 'x = (bad, "# noqa")\ny = """\n# noqa\n""" + bad\n')
    assert codes_at(lint_file(path, rules=FAKE_RULES)) == [(1, "RN901"), (4, "RN901")]


def test_noqa_silences_a_syntax_error_on_its_line(tmp_path):
    path = write(tmp_path, "model.py", "print 'a'  # noqa: RN001\nprint 'b'\n")
    assert codes_at(lint_file(path, rules=FAKE_RULES)) == [(2, "RN001")]


def test_noqa_comments_are_found_in_files_tokenize_rejects():
    text = "x = (  # noqa: RN9\ny = '# noqa'\n"
    by_line = Suppressions.of(text).by_line
    assert list(by_line) == [1] and by_line[1].codes == frozenset({"RN9"})


@pytest.mark.parametrize(
    ("comment", "left"),
    [
        ("# reslint: noqa", []),
        ("# Reslint: NOQA", []),
        ("# reslint: noqa: RN901", ["RN902"]),
        ("# reslint: noqa: RN9", []),
        ("# noqa", ["RN901", "RN902"]),  # on its own line, a line noqa silences that line only
    ],
)
def test_a_file_level_noqa_silences_the_whole_file(tmp_path, comment, left):
    path = write(tmp_path, "model.py", f"{comment}\nx = bad\ny = ugly\n")
    assert [f.code for f in lint_file(path, rules=FAKE_RULES)] == left


def unused(tmp_path, text: str, **options) -> list[tuple[int, int, str]]:
    path = write(tmp_path, "model.py", text)
    result = run([path], select=options.get("select", ["RN9", "RN005"]))
    return [(f.line, f.column, f.message) for f in result.findings if f.code == "RN005"]


def test_unused_noqa_is_opt_in(tmp_path):
    path = write(tmp_path, "model.py", "x = 1  # noqa: RN901\n")
    assert run([path]).findings == []


def test_a_noqa_code_that_silences_nothing_is_reported_at_the_comment(tmp_path):
    text = "x = bad  # noqa: RN901\ny = 1  # noqa: RN901, E501\nz = 1  # noqa: RN9O1\n"
    assert unused(tmp_path, text) == [
        (2, 8, "`RN901` in this noqa comment silences nothing on this line"),
        (3, 8, "`RN9O1` in this noqa comment is not a reslint code"),
    ]


def test_file_level_noqa_codes_are_checked_too(tmp_path):
    assert unused(tmp_path, "# reslint: noqa: RN902\nx = bad\n") == [
        (1, 1, "`RN902` in this noqa comment silences nothing in this file")
    ]
    assert unused(tmp_path, "# reslint: noqa: RN901\nx = bad\n") == []


def test_unused_noqa_says_nothing_where_it_cannot_tell(tmp_path):
    # Bare noqa, other linters' codes: not reslint's business.
    assert unused(tmp_path, "x = 1  # noqa\ny = 2  # noqa: E501, F401\n") == []
    # A code whose rule did not run: it may well be used.
    assert unused(tmp_path, "x = 1  # noqa: RN105\n") == []  # only RN9xx and RN005 run
    # A file with a syntax error: blanked statements may hide what the comment silences.
    assert unused(tmp_path, "x = 1  # noqa: RN901\nprint 'x'\n", select=["RN0", "RN9"]) == []


# ----------------------------------------------------------------------------------------------------------
# --select / --ignore


@pytest.mark.parametrize(
    ("select", "ignore", "enabled"),
    [
        ((), (), {"RN001", "RN201", "RN208", "RN301"}),
        (("RN2",), (), {"RN201", "RN208"}),
        (("rn2", "RN301"), (), {"RN201", "RN208", "RN301"}),
        ((), ("RN2",), {"RN001", "RN301"}),
        (("RN2",), ("RN208",), {"RN201"}),
        (("RN201",), ("RN2",), {"RN201"}),
        (("RN2",), ("RN2",), set()),
        (("ALL",), ("RN0",), {"RN201", "RN208", "RN301"}),
    ],
)
def test_selectors_take_codes_and_prefixes_and_the_most_specific_wins(select, ignore, enabled):
    selection = Selection((Layer.of(select or None, ignore),))
    assert {code for code in ("RN001", "RN201", "RN208", "RN301") if selection.enables(code)} == (
        enabled
    )


def test_a_later_layer_overrides_an_earlier_one():
    config = Layer.of(select=["RN2"], ignore=["RN203"])
    assert Selection((config,)).enables("RN201")
    assert not Selection((config, Layer.of(select=["RN3"]))).enables("RN201")
    assert Selection((config, Layer.of(extend_select=["RN203"]))).enables("RN203")
    assert not Selection((config, Layer.of(ignore=["RN201"]))).enables("RN201")
    assert not Selection((config, Layer.of(ignore=["RN1"]))).enables("RN101")


def test_opt_in_codes_need_a_selector_that_names_them():
    assert not Selection().enables("RN005", opt_in=True)
    assert not Selection((Layer.of(ignore=["RN1"]),)).enables("RN005", opt_in=True)
    assert Selection((Layer.of(extend_select=["RN005"]),)).enables("RN005", opt_in=True)
    assert Selection((Layer.of(select=["ALL"]),)).enables("RN005", opt_in=True)
    assert Selection((Layer.of(select=["RN0"]),)).enables("RN005", opt_in=True)


def test_select_and_ignore_filter_rules_and_file_level_findings(tmp_path):
    path = write(tmp_path, "model.py", "x = bad + ugly\nprint 'x'\n")
    assert codes_at(run([path], select=["RN9"], rules=FAKE_RULES).findings) == [
        (1, "RN901"),
        (1, "RN902"),
    ]
    assert codes_at(run([path], ignore=["RN902", "RN0"], rules=FAKE_RULES).findings) == [
        (1, "RN901")
    ]
    assert codes_at(run([path], select=["RN001"], rules=FAKE_RULES).findings) == [(2, "RN001")]


def test_deselected_rules_are_not_run(tmp_path):
    path = write(tmp_path, "model.py", "bad\n")
    result = run([path], ignore=["RN903"], rules=(Crashes, FlagBad))
    assert codes_at(result.findings) == [(1, "RN901")]


def test_unknown_selectors_are_named():
    from reslint.selection import normal_selectors

    known = ["RN001", "RN201", "RN301"]
    selectors = normal_selectors(["RN2", "rn301", "ALL", "RN9", "RN-1", "XYZ1"])
    assert unknown_selectors(selectors, known) == ["RN9", "RN-1", "XYZ1"]


# ----------------------------------------------------------------------------------------------------------
# Files


def discover(paths):
    from reslint.discovery import discover

    return discover(paths, SettingsResolver())


def test_discovery_recurses_and_skips_hidden_virtualenv_cache_and_vendor_folders(tmp_path):
    write(tmp_path, "models/resnet.py", "x = 1\n")
    write(tmp_path, "models/blocks/basic.py", "x = 1\n")
    write(tmp_path, "models/notes.txt", "not python\n")
    for skipped in (
        ".git/hook.py",
        ".hidden/a.py",
        "__pycache__/a.py",
        "node_modules/a.py",
        "venv/a.py",
        "build/a.py",
    ):
        write(tmp_path, f"models/{skipped}", "x = 1\n")
    write(tmp_path, "models/myenv/pyvenv.cfg", "home = /usr\n")
    write(tmp_path, "models/myenv/lib.py", "x = 1\n")
    found = discover([str(tmp_path / "models")])
    files, missing = [path for path, _ in found.files], found.missing
    assert sorted(Path(path).relative_to(tmp_path).as_posix() for path in files) == [
        "models/blocks/basic.py",
        "models/resnet.py",
    ]
    assert missing == []


def test_explicit_files_are_linted_whatever_their_name_and_duplicates_once(tmp_path):
    script = write(tmp_path, ".hidden_model.txt", "bad\n")
    folder_file = write(tmp_path, "m.py", "bad\n")
    found = discover([script, str(tmp_path), folder_file, str(tmp_path / "nope.py")])
    files, missing = [path for path, _ in found.files], found.missing
    assert files == [script, folder_file]
    assert missing == [str(tmp_path / "nope.py")]


def test_empty_and_blank_files_give_no_finding_and_are_noted(tmp_path):
    empty = write(tmp_path, "empty.py", "")
    blank = write(tmp_path, "blank.py", "\n\n   \n")
    result = run([empty, blank], rules=FAKE_RULES)
    assert result.findings == []
    assert sorted(result.empty_files) == sorted([empty, blank])


def test_binary_file_is_unreadable(tmp_path):
    path = write(tmp_path, "weights.py", b"\x80\x02}q\x00(X\x06\x00\x00\x00conv1.q\x01\x00\x00")
    (finding,) = lint_file(path, rules=FAKE_RULES)
    assert (finding.code, finding.line, finding.severity) == ("RN002", 1, Severity.ERROR)
    assert "binary" in finding.message


def test_non_utf8_file_is_unreadable(tmp_path):
    path = write(tmp_path, "gbk.py", "# 残差网络\nx = bad\n".encode("gbk"))
    (finding,) = lint_file(path, rules=FAKE_RULES)
    assert finding.code == "RN002"
    assert "not valid UTF-8" in finding.message and finding.hint


def test_a_coding_declaration_is_honoured(tmp_path):
    path = write(
        tmp_path,
        "latin.py",
        "# -*- coding: latin-1 -*-\nname = 'café'\nx = bad\n".encode("latin-1"),
    )
    assert codes_at(lint_file(path, rules=FAKE_RULES)) == [(3, "RN901")]


def test_a_byte_order_mark_is_dropped(tmp_path):
    path = write(tmp_path, "bom.py", "\ufeffbad = 1\n".encode("utf-8"))
    assert [(f.line, f.column, f.code) for f in lint_file(path, rules=FAKE_RULES)] == [
        (1, 1, "RN901")
    ]


def test_a_file_over_the_size_limit_is_skipped_with_a_warning(tmp_path):
    path = write(tmp_path, "huge.py", b"x = 1\n" * (DEFAULT_MAX_BYTES // 6 + 1))
    (finding,) = lint_file(path, rules=FAKE_RULES)
    assert (finding.code, finding.severity, finding.line) == ("RN003", Severity.WARNING, 1)
    assert "5.0 MB size limit" in finding.message


def test_the_size_limit_can_be_lowered(tmp_path):
    path = write(tmp_path, "model.py", "bad = 1\n" * 10)
    assert read_source(path, max_bytes=10).finding.code == "RN003"
    checks = Checks(FAKE_RULES, frozenset({"RN003"}), max_bytes=10)
    assert check_file(path, checks).findings[0].code == "RN003"


def test_a_ten_thousand_line_file_is_linted_to_its_last_line(tmp_path):
    body = "".join(f"def f{number}(x):\n    return x + {number}\n" for number in range(5000))
    path = write(tmp_path, "big.py", body + "y = bad\n")
    # Over 5,000 lines the file is checked in segments (reslint.segments): this fake rule flags each
    # segment's last statement, the last one being the file's.
    assert codes_at(lint_file(path, rules=(FlagLastStatement,)))[-1] == (10001, "RN905")


def test_an_unreadable_path_is_a_finding_not_a_crash(tmp_path, monkeypatch):
    import reslint.source

    def denied(*args, **kwargs):
        raise PermissionError(13, "Permission denied")

    path = write(tmp_path, "secret.py", "bad\n")
    monkeypatch.setattr(reslint.source, "open", denied, raising=False)
    (finding,) = lint_file(path, rules=FAKE_RULES)
    assert (finding.code, finding.message) == ("RN002", "cannot read file: Permission denied")


def test_the_linted_file_is_never_executed(tmp_path):
    marker = tmp_path / "ran"
    path = write(
        tmp_path, "evil.py", f"open({str(marker)!r}, 'w').write('x')\nraise SystemExit(3)\nbad\n"
    )
    assert codes_at(lint_file(path, rules=FAKE_RULES)) == [(3, "RN901")]
    assert not marker.exists()


# ----------------------------------------------------------------------------------------------------------
# Parallel runs


def test_worker_processes_give_the_same_result_as_one_process(tmp_path):
    for number in range(6):
        write(tmp_path, f"m{number}.py", "x = 1\n" * number + "y = bad + ugly\nprint 'x'\n")
    serial = run([str(tmp_path)], jobs=1, rules=FAKE_RULES + (Crashes,))
    parallel = run([str(tmp_path)], jobs=2, rules=FAKE_RULES + (Crashes,))
    assert parallel.findings == serial.findings
    assert len(parallel.findings) == 24
    assert sum(finding.code == "RN004" for finding in parallel.findings) == 6


def test_the_pool_gets_the_largest_groups_first_and_results_keep_the_groups_order(
    tmp_path, monkeypatch
):
    handed: list[str] = []

    def in_order(work, items, workers, each):
        handed.extend(group.paths[0] for group in items)
        return [[FileResult(group.paths[0])] for group in items]

    monkeypatch.setattr(runner, "pooled_map", in_order)
    sizes = {"small.py": 1, "large.py": 50, "middle.py": 10}
    groups = [
        runner.Group((str(write(tmp_path, name, "x = 1\n" * lines)),), Settings(str(tmp_path)))
        for name, lines in sizes.items()
    ]
    results = runner._lint_in_pool(groups, 2, lambda done: None)
    assert [Path(path).name for path in handed] == ["large.py", "middle.py", "small.py"]
    assert [Path(result.path).name for result in results or []] == list(sizes)


def test_small_runs_stay_in_process(tmp_path, monkeypatch):
    def no_pool(*args, **kwargs):
        raise AssertionError("a worker pool was started")

    monkeypatch.setattr(runner, "_lint_in_pool", no_pool)
    paths = [write(tmp_path, f"m{number}.py", "bad\n") for number in range(3)]
    assert len(run(paths, rules=FAKE_RULES).findings) == 3


def test_large_runs_use_every_core(tmp_path, monkeypatch):
    calls = []
    monkeypatch.setattr(
        runner, "_lint_in_pool", lambda groups, workers, advance: calls.append(workers) or []
    )
    monkeypatch.setattr(runner, "cpu_count", lambda: 2)
    paths = [
        write(tmp_path, f"m{number}.py", "x = 1\n" * (runner.PARALLEL_MIN_BYTES // 12))
        for number in range(3)
    ]
    run(paths, rules=FAKE_RULES)
    assert calls == [2]


def test_a_broken_pool_falls_back_to_one_process(tmp_path, monkeypatch):
    from concurrent.futures.process import BrokenProcessPool

    def broken(*args, **kwargs):
        raise BrokenProcessPool("worker died")

    monkeypatch.setattr(processes, "forked_map", broken)
    paths = [write(tmp_path, f"m{number}.py", "bad\n") for number in range(3)]
    assert len(run(paths, jobs=2, rules=FAKE_RULES).findings) == 3


class FlagBadUnlessUgly(Rule):
    """Flags every name `bad`, deferring to RN902 on the `ugly` of the same line."""

    code = "RN906"
    name = "flag-bad-unless-ugly"
    defers_to = ("RN902",)

    def check(self, module) -> Iterable[Violation]:
        uglies = {module.line_of(node): node for node in names(module, "ugly")}
        for node in names(module, "bad"):
            cause = uglies.get(module.line_of(node))
            yield Violation(node, "`bad`", defers_to=(("RN902", cause),) if cause else ())


@pytest.mark.parametrize(
    ("ignore", "text", "left"),
    [
        ((), "bad; ugly\nbad\n", [(1, "RN902"), (2, "RN906")]),
        # The explaining finding is not reported: the deferring one must be.
        (("RN902",), "bad; ugly\n", [(1, "RN906")]),
        ((), "bad; ugly  # noqa: RN902\n", [(1, "RN906")]),
    ],
)
def test_a_finding_gives_way_only_to_a_finding_that_is_reported(tmp_path, ignore, text, left):
    path = write(tmp_path, "model.py", text)
    result = run([path], ignore=ignore, rules=(FlagBadUnlessUgly, FlagUgly))
    assert codes_at(result.findings) == left
