"""Huge files are linted a segment at a time (reslint.segments): the same findings as the whole file,
at the file's positions, with its noqa comments and fixes; and deeply nested expressions are checked.

The engine's threshold and budget are lowered here (monkeypatched) so that small files are cut into
many segments and can be compared with the whole-file lint."""

from __future__ import annotations

import functools
from dataclasses import replace
from pathlib import Path

import pytest

import reslint.engine as engine
from reslint import processes
from reslint.engine import Checks, lint_source
from reslint.findings import Finding
from reslint.processes import pooled_map
from reslint.segments import plan_segments

REPO = Path(__file__).resolve().parents[1]
CHECKS = Checks.every()
# RN119 reports an import of torch.functional with its first use in the first segment that reports
# it, which may not be the file's first use (documented in reslint/segments.py): same place, another
# line in the message.
WHOLE_MODULE_CODES = {"RN119"}
# Findings that need every class of the file: a network built nowhere in the file is tried with each
# block class the file defines (reslint.model.configurations.handed_classes), and a segment holds only
# the classes its own statements name. Cut, such a file may lose the finding, never gain one.
WHOLE_FILE_FIXTURES = {"RN204_block_chosen_by_caller.py"}


def _segmented(monkeypatch: pytest.MonkeyPatch, budget: int) -> None:
    monkeypatch.setattr(
        engine, "plan_segments", functools.partial(plan_segments, threshold=0, budget=budget)
    )


def _whole_and_segmented(
    monkeypatch: pytest.MonkeyPatch, text: str, budget: int, checks: Checks = CHECKS
) -> tuple[list[Finding], list[Finding]]:
    whole = lint_source(text, "model.py", checks)
    with monkeypatch.context() as patch:
        _segmented(patch, budget)
        segmented = lint_source(text, "model.py", checks)
    return whole, segmented


def _comparable(findings: list[Finding]) -> set[tuple[Finding, object]]:
    return {
        (finding, finding.fix) for finding in findings if finding.code not in WHOLE_MODULE_CODES
    }


def _filler(count: int, first: int = 0) -> str:
    return "".join(
        f"\n\nclass Filler{i}(nn.Module):\n"
        f"    def __init__(self):\n"
        f"        super().__init__()\n"
        f"        self.conv = nn.Conv2d(8, 8, 3, padding=1)\n\n"
        f"    def forward(self, x):\n"
        f"        return x + self.conv(x)\n"
        for i in range(first, first + count)
    )


HEADER = "import torch\nfrom torch import nn\n"


def _static_fixtures() -> list[Path]:
    return sorted(
        path
        for path in (REPO / "fixtures").rglob("*.py")
        if not {"models", "reference"} & set(path.relative_to(REPO / "fixtures").parts)
    )


# Each fixture linted twice costs about two minutes: every third fixture in name order (bug, clean
# and seed fixtures alike) keeps CI in its time budget; the concatenation test below reads them all.
@pytest.mark.slow
@pytest.mark.parametrize("path", _static_fixtures()[::3], ids=lambda path: path.name)
def test_every_fixture_cut_as_fine_as_possible_gives_the_whole_files_findings(
    monkeypatch: pytest.MonkeyPatch, path: Path
) -> None:
    text = path.read_text(encoding="utf-8")
    whole, segmented = _whole_and_segmented(monkeypatch, text, budget=1)
    if path.name in WHOLE_FILE_FIXTURES:
        assert _comparable(segmented) <= _comparable(whole)
    else:
        assert _comparable(segmented) == _comparable(whole)
    # the codes judged on the whole module are still reported at the same places, or not at all
    places = {(f.code, f.line, f.column) for f in segmented}
    assert places <= {(f.code, f.line, f.column) for f in whole}


@pytest.mark.slow
def test_fixtures_concatenated_give_the_same_findings(monkeypatch: pytest.MonkeyPatch) -> None:
    parts = []
    for path in _static_fixtures():
        text = path.read_text(encoding="utf-8")
        if "from __future__" in text or not _compiles(text):
            continue  # a future import must come first; a syntax error stops segmentation
        parts.append(text)
        if len(parts) == 12:
            break
    text = "\n".join(parts)
    assert len(plan_segments(text, threshold=0, budget=100) or []) >= 2  # reused names link files
    whole, segmented = _whole_and_segmented(monkeypatch, text, budget=100)
    assert whole
    assert _comparable(segmented) == _comparable(whole)


def _compiles(text: str) -> bool:
    try:
        compile(text, "part", "exec")
    except SyntaxError:
        return False
    return True


def test_positions_noqa_and_fixes_after_the_first_segment(monkeypatch: pytest.MonkeyPatch) -> None:
    late = (
        "\n\nclass Late(nn.Module):\n"
        "    def forward(self, x):\n"
        "        print(x.shape)\n"
        "        print(x.dtype)  # noqa: RN109\n"
        "        return x  # noqa: RN109\n"
    )
    text = HEADER + _filler(40) + late
    segments = plan_segments(text, threshold=0, budget=50)
    assert segments is not None and len(segments) > 3
    assert "class Late" in segments[-1].text and "class Late" not in segments[0].text
    checks = replace(CHECKS, codes=CHECKS.codes | {"RN005"})
    whole, segmented = _whole_and_segmented(monkeypatch, text, budget=50, checks=checks)
    lines = text.splitlines()
    print_line = lines.index("        print(x.shape)") + 1
    unused_line = lines.index("        return x  # noqa: RN109") + 1
    assert sorted((f.code, f.line) for f in segmented) == [
        ("RN005", unused_line),
        ("RN109", print_line),
    ]
    assert _comparable(segmented) == _comparable(whole)
    (fixed,) = [f for f in segmented if f.code == "RN109"]
    assert fixed.fix is not None
    assert {edit.line for edit in fixed.fix.edits} == {print_line}


def test_segments_checked_on_two_processes_give_the_same_findings(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    late = (
        "\n\nclass Late(nn.Module):\n"
        "    def forward(self, x):\n"
        "        print(x.shape)\n"
        "        return x  # noqa: RN109\n"
    )
    text = HEADER + _filler(30) + late + _filler(30, 30) + late.replace("Late", "Later")
    checks = replace(CHECKS, codes=CHECKS.codes | {"RN005"})
    _segmented(monkeypatch, budget=50)
    alone = lint_source(text, "model.py", checks, engine.FileGroup(["model.py"]))
    pools: list[int] = []

    def counted_map(*arguments: object) -> object:
        pools.append(len(arguments[1]))  # type: ignore[arg-type]
        return pooled_map(*arguments)  # type: ignore[arg-type]

    monkeypatch.setattr(engine, "pooled_map", counted_map)
    spread = lint_source(text, "model.py", checks, engine.FileGroup(["model.py"], workers=2))
    assert pools and pools[0] > 3  # the segments went to the worker processes
    assert sorted(f.code for f in alone) == ["RN005", "RN005", "RN109", "RN109"]
    assert [(f, f.fix) for f in spread] == [(f, f.fix) for f in alone]


def test_segments_are_checked_in_this_process_when_the_pool_breaks(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from concurrent.futures.process import BrokenProcessPool

    late = "\n\nclass Late(nn.Module):\n    def forward(self, x):\n        print(x.shape)\n        return x\n"
    text = HEADER + _filler(30) + late + _filler(30, 30)
    _segmented(monkeypatch, budget=50)
    alone = lint_source(text, "model.py", CHECKS, engine.FileGroup(["model.py"]))
    started: list[int] = []

    def broken(work: object, items: list[object], workers: int) -> object:
        started.append(workers)
        raise BrokenProcessPool("a worker died")
        yield  # a generator, as forked_map is

    monkeypatch.setattr(processes, "forked_map", broken)
    fallen_back = lint_source(text, "model.py", CHECKS, engine.FileGroup(["model.py"], workers=2))
    assert started == [2]
    assert fallen_back == alone and alone


def test_a_group_larger_than_the_budget_is_one_segment(monkeypatch: pytest.MonkeyPatch) -> None:
    chain = "".join(
        f"\n\nclass Level{i}(Level{i - 1}):\n    def forward(self, x):\n        return x\n"
        for i in range(1, 30)
    )
    text = (
        HEADER + _filler(10) + "\n\nclass Level0(nn.Module):\n    pass\n" + chain + _filler(10, 10)
    )
    segments = plan_segments(text, threshold=0, budget=20)
    assert segments is not None
    (holding,) = [segment for segment in segments if "class Level0" in segment.text]
    assert all(f"class Level{i}(" in holding.text for i in range(1, 30))
    assert len(holding.lines) > 20
    whole, segmented = _whole_and_segmented(monkeypatch, text, budget=20)
    assert _comparable(segmented) == _comparable(whole)


def test_shared_context_is_in_every_segment_and_only_the_first_segment_keeps_the_header() -> None:
    text = '"""Docs."""\nimport torch\nfrom torch import nn\nWIDTH = 8\n' + _filler(6)
    segments = plan_segments(text, threshold=0, budget=10)
    assert segments is not None and len(segments) == 6
    for segment in segments:
        assert "from torch import nn\nWIDTH = 8\n" in segment.text
        numbers = list(segment.lines)
        assert numbers == sorted(numbers)
    assert sum('"""Docs."""' in segment.text for segment in segments) == 1


def test_statements_at_column_0_inside_strings_and_decorators_stay_whole() -> None:
    text = (
        HEADER
        + 'NOTE = """\nclass NotAClass:\n    pass\n"""\n'
        + "@torch.no_grad()\ndef helper(x):\n    return x\n"
        + "try:\n    import timm\nexcept ImportError:\n    timm = None\n"
        + _filler(4)
    )
    segments = plan_segments(text, threshold=0, budget=1)
    assert segments is not None
    for segment in segments:
        compile(segment.text, "segment", "exec")  # every segment is valid Python
    joined = "".join(segment.text for segment in segments)
    assert joined.count("class NotAClass") == 1  # part of the string, not a statement of its own


def test_short_files_and_syntax_errors_are_linted_whole() -> None:
    assert plan_segments(HEADER + _filler(3)) is None
    broken = HEADER + _filler(4) + "\n\ndef broken(:\n    pass\n" + _filler(4, 4)
    assert plan_segments(broken, threshold=0, budget=1) is None


def test_a_file_another_file_imports_is_seen_whole_after_its_segments(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    big = tmp_path / "blocks.py"
    big.write_text(HEADER + _filler(8))
    user = tmp_path / "net.py"
    user.write_text(
        "from torch import nn\nfrom blocks import Filler0, Filler7\n\n"
        "class Net(nn.Module):\n"
        "    def __init__(self):\n"
        "        super().__init__()\n"
        "        self.a = Filler0()\n"
        "        self.b = Filler7()\n\n"
        "    def forward(self, x):\n"
        "        return self.b(self.a(x))\n"
    )
    _segmented(monkeypatch, budget=10)
    group = engine.FileGroup([str(big), str(user)])
    engine.check_file(str(big), CHECKS, group)
    model = group.project.model(str(big))
    assert model is not None and {cls.name for cls in model.class_defs} >= {"Filler0", "Filler7"}


def test_a_sum_of_300_terms_in_19_nested_blocks_is_checked() -> None:
    lines = [HEADER, "class Deep(nn.Module):", "    def forward(self, x):"]
    indent = 8
    for level in range(19):
        lines.append(" " * indent + ("if x is not None:", "for _ in range(1):")[level % 2])
        indent += 1
    lines.append(" " * indent + "x = " + " + ".join(["torch.relu(x)"] * 300))
    lines.append("        return x\n")
    found = lint_source("\n".join(lines), "deep.py", CHECKS)
    assert "RN004" not in {finding.code for finding in found}
