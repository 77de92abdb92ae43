"""Run reslint the way a user does: its command line, JSON output, on a folder of files.

Going through the CLI (not the engine's Python API) keeps the benchmark working across engine refactors.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class Finding:
    line: int
    code: str
    message: str


@dataclass
class LintRun:
    findings: dict[str, list[Finding]]  # by path relative to the linted folder
    seconds: float
    error: str = ""


def reslint_command() -> list[str]:
    """The `reslint` installed next to this interpreter (the project's venv), else `python -m reslint`."""
    script = Path(sys.executable).with_name("reslint")
    if script.exists():
        return [str(script)]
    found = shutil.which("reslint")
    return [found] if found else [sys.executable, "-m", "reslint"]


def lint_folder(folder: Path, jobs: int, timeout: float = 1800) -> LintRun:
    command = [
        *reslint_command(),
        "--format",
        "json",
        "--no-color",
        "--jobs",
        str(jobs),
        str(folder),
    ]
    started = time.perf_counter()
    try:
        result = subprocess.run(command, capture_output=True, text=True, timeout=timeout)
    except subprocess.TimeoutExpired:
        return LintRun({}, time.perf_counter() - started, f"timed out after {timeout:.0f} s")
    seconds = time.perf_counter() - started
    if result.returncode not in (0, 1):
        return LintRun({}, seconds, f"exit {result.returncode}: {result.stderr.strip()[-500:]}")
    try:
        records = json.loads(result.stdout or "[]")
    except json.JSONDecodeError as error:
        return LintRun({}, seconds, f"unreadable JSON ({error}): {result.stdout[:200]!r}")
    findings: dict[str, list[Finding]] = {}
    for record in records:
        relative = Path(record["path"]).resolve().relative_to(folder.resolve()).as_posix()
        findings.setdefault(relative, []).append(
            Finding(record["line"], record["code"], record["message"])
        )
    return LintRun(findings, seconds)
