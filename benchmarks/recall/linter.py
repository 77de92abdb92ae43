"""Run reslint the way a user does: its command line, JSON output, on a folder of files.

Going through the CLI (not the engine's Python API) keeps the benchmark working across engine refactors.
"""

from __future__ import annotations

import json
import os
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


CHECKOUT = Path(__file__).resolve().parents[2]


def reslint_command() -> tuple[list[str], dict[str, str]]:
    """This checkout's reslint (`python -m reslint` with the checkout first on the path), so a branch
    measures its own code and not whichever copy is installed in the venv."""
    environment = dict(os.environ)
    paths = [str(CHECKOUT), *filter(None, [environment.get("PYTHONPATH", "")])]
    environment["PYTHONPATH"] = os.pathsep.join(paths)
    return [sys.executable, "-m", "reslint"], environment


def lint_folder(folder: Path, jobs: int, timeout: float = 1800) -> LintRun:
    program, environment = reslint_command()
    command = [
        *program,
        "--format",
        "json",
        "--no-color",
        "--jobs",
        str(jobs),
        str(folder),
    ]
    started = time.perf_counter()
    try:
        result = subprocess.run(
            command, capture_output=True, text=True, timeout=timeout, env=environment
        )
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
