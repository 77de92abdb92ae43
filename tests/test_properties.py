"""Property tests: whatever text or bytes a file holds, the linter returns findings and never crashes."""

from __future__ import annotations

import json
import re
import subprocess
import sys
import tempfile
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from reslint.engine import Checks, lint_file
from reslint.findings import Finding
from reslint.fixer import fix_text, no_worse, syntax_errors

# About 45 s: CI runs them once, with torch installed, not again in its torch-free phase.
pytestmark = pytest.mark.slow

PROJECT = Path(__file__).resolve().parents[1]
FALLBACK_SEED = """\
import torch.nn as nn


class BasicBlock(nn.Module):
    expansion = 1

    def __init__(self, inplanes, planes, stride=1, downsample=None):
        super(BasicBlock, self).__init__()
        self.conv1 = nn.Conv2d(inplanes, planes, kernel_size=3, stride=stride, padding=1, bias=False)
        self.bn1 = nn.BatchNorm2d(planes)
        self.relu = nn.ReLU(inplace=True)
        self.downsample = downsample

    def forward(self, x):
        identity = x
        out = self.relu(self.bn1(self.conv1(x)))
        if self.downsample is not None:
            identity = self.downsample(x)
        out += identity
        return self.relu(out)
"""
SEEDS = sorted(str(path.relative_to(PROJECT)) for path in (PROJECT / "fixtures").rglob("*.py")) or [
    "<fallback>"
]
TOKENS = [
    "(",
    ")",
    "[",
    "]",
    "{",
    "}",
    ":",
    ",",
    ".",
    "=",
    "+=",
    "==",
    "*",
    "**",
    "@",
    "->",
    "\\",
    "#",
    "'",
    '"',
    '"""',
    "\t",
    "    ",
    "\n",
    "def",
    "class",
    "return",
    "lambda",
    "yield",
    "async",
    "await",
    "if",
    "else",
    "for",
    "in",
    "nn.Conv2d(",
    "nn.BatchNorm2d(",
    "self.",
    "super(",
    "x",
    "out",
    "identity",
    "1",
    "0x",
    "1e",
    "f'{",
    "pass",
    ";",
]
IDENTIFIER = re.compile(r"\b[A-Za-z_][A-Za-z0-9_]*\b")
SETTINGS = settings(
    derandomize=True,
    database=None,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)


def seed_source(name: str) -> str:
    return FALLBACK_SEED if name == "<fallback>" else (PROJECT / name).read_text(encoding="utf-8")


# Mutations: each takes the source lines and draws what it needs.
def delete_line(lines: list[str], draw: st.DrawFn) -> list[str]:
    index = draw(st.integers(0, len(lines) - 1))
    return lines[:index] + lines[index + 1 :]


def duplicate_line(lines: list[str], draw: st.DrawFn) -> list[str]:
    index = draw(st.integers(0, len(lines) - 1))
    return lines[: index + 1] + lines[index:]


def swap_lines(lines: list[str], draw: st.DrawFn) -> list[str]:
    first, second = draw(st.integers(0, len(lines) - 1)), draw(st.integers(0, len(lines) - 1))
    swapped = list(lines)
    swapped[first], swapped[second] = swapped[second], swapped[first]
    return swapped


def insert_token(lines: list[str], draw: st.DrawFn) -> list[str]:
    index = draw(st.integers(0, len(lines) - 1))
    column = draw(st.integers(0, len(lines[index])))
    token = draw(st.sampled_from(TOKENS))
    changed = list(lines)
    changed[index] = lines[index][:column] + token + lines[index][column:]
    return changed


def truncate(lines: list[str], draw: st.DrawFn) -> list[str]:
    text = "".join(lines)
    return text[: draw(st.integers(0, len(text)))].splitlines(keepends=True) or [""]


def change_indentation(lines: list[str], draw: st.DrawFn) -> list[str]:
    index = draw(st.integers(0, len(lines) - 1))
    prefix = draw(st.sampled_from(["", " ", "  ", "    ", "\t", "        ", " \t"]))
    changed = list(lines)
    changed[index] = prefix + lines[index].lstrip(" \t")
    return changed


def replace_identifier(lines: list[str], draw: st.DrawFn) -> list[str]:
    text = "".join(lines)
    names = sorted(set(IDENTIFIER.findall(text)))
    if not names:
        return lines
    old = draw(st.sampled_from(names))
    new = draw(
        st.sampled_from(names) | st.from_regex(r"[A-Za-z_][A-Za-z0-9_]{0,8}", fullmatch=True)
    )
    return re.sub(rf"\b{re.escape(old)}\b", new, text).splitlines(keepends=True) or [""]


MUTATIONS: list[Callable[[list[str], st.DrawFn], list[str]]] = [
    delete_line,
    duplicate_line,
    swap_lines,
    insert_token,
    truncate,
    change_indentation,
    replace_identifier,
]


@st.composite
def mutated_fixture(draw: st.DrawFn) -> str:
    lines = seed_source(draw(st.sampled_from(SEEDS))).splitlines(keepends=True) or [""]
    for mutation in draw(st.lists(st.sampled_from(MUTATIONS), min_size=1, max_size=4)):
        lines = mutation(lines, draw) or [""]
    return "".join(lines)


python_like_text = st.lists(st.sampled_from(TOKENS) | st.text(max_size=3), max_size=60).map("".join)


@pytest.fixture(scope="module")
def scratch() -> Iterator[Path]:
    with tempfile.TemporaryDirectory(prefix="reslint-properties-") as folder:
        yield Path(folder)


def lint_content(folder: Path, content: str | bytes) -> list[Finding]:
    path = folder / "subject.py"
    if isinstance(content, bytes):
        path.write_bytes(content)
    else:
        path.write_text(content, encoding="utf-8")
    findings = lint_file(str(path))
    internal = [finding.message for finding in findings if finding.code == "RN004"]
    assert not internal, internal  # reslint failed on the file (an internal error is a finding)
    assert isinstance(findings, list)
    assert all(isinstance(finding, Finding) for finding in findings)
    assert all(finding.line >= 1 and finding.column >= 1 for finding in findings)
    return findings


@SETTINGS
@given(content=st.text(max_size=400))
def test_random_text_never_crashes(scratch: Path, content: str) -> None:
    lint_content(scratch, content)


@SETTINGS
@given(content=python_like_text)
def test_python_like_token_soup_never_crashes(scratch: Path, content: str) -> None:
    lint_content(scratch, content)


@SETTINGS
@given(content=st.binary(max_size=400))
def test_random_bytes_never_crash(scratch: Path, content: bytes) -> None:
    lint_content(scratch, content)


@settings(SETTINGS, max_examples=150)
@given(content=mutated_fixture())
def test_mutated_fixtures_never_crash(scratch: Path, content: str) -> None:
    lint_content(scratch, content)


@settings(SETTINGS, max_examples=8)
@given(sources=st.lists(mutated_fixture() | python_like_text, min_size=5, max_size=15))
def test_cli_exits_0_or_1_without_traceback(sources: list[str]) -> None:
    with tempfile.TemporaryDirectory(prefix="reslint-cli-properties-") as folder:
        for number, source in enumerate(sources):
            Path(folder, f"mutant_{number}.py").write_text(source, encoding="utf-8")
        command = [sys.executable, "-m", "reslint", "--format", "json", "--no-color", folder]
        result = subprocess.run(command, capture_output=True, text=True, timeout=300)
    assert "Traceback" not in result.stdout + result.stderr, result.stderr
    assert "internal error" not in result.stderr, result.stderr
    assert result.returncode in (0, 1), result.stderr
    findings = json.loads(result.stdout)
    assert (result.returncode == 1) == bool(findings)
    assert all(
        {"code", "path", "line", "column", "message"} <= set(finding) for finding in findings
    )


@settings(SETTINGS, max_examples=40)
@given(content=mutated_fixture())
def test_fixing_mutated_fixtures_never_breaks_parsing(content: str) -> None:
    """--fix --unsafe-fixes on any mutant: the result parses at least as well as the mutant did, and
    reslint does not fail on it."""
    outcome = fix_text(content, "subject.py", Checks.every(), unsafe=True)
    assert no_worse(syntax_errors(content), outcome.text)
    assert not [finding.message for finding in outcome.findings if finding.code == "RN004"]
    if not outcome.fixed:
        assert outcome.text == content
