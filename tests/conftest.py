"""Shared test helpers."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest

PROJECT = Path(__file__).resolve().parents[1]


@pytest.fixture
def run_reslint() -> Callable[..., subprocess.CompletedProcess[str]]:
    """Run `python -m reslint ARGS...` in a child process, as a user would (no terminal: stdout is a pipe)."""

    def run(
        *args: str,
        env: dict[str, str] | None = None,
        cwd: Path | str | None = None,
        input: str | None = None,
    ) -> subprocess.CompletedProcess[str]:
        environment = {
            key: value
            for key, value in os.environ.items()
            if key not in {"NO_COLOR", "FORCE_COLOR"}
        }
        environment.update(env or {})
        return subprocess.run(
            [sys.executable, "-m", "reslint", *args],
            capture_output=True,
            text=True,
            encoding="utf-8",
            env=environment,
            cwd=cwd or PROJECT,
            input=input,
            timeout=300,
        )

    return run
