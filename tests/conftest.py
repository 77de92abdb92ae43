"""Shared test helpers."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest

PROJECT = Path(__file__).resolve().parents[1]
DYNAMIC_TESTS = PROJECT / "tests" / "dynamic"
NO_TORCH = "the dynamic pass needs torch, which is not installed: pip install '.[dynamic]'"


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Every test under tests/dynamic/ is marked `dynamic`; without torch they are skipped, saying why,
    so that `pip install '.[test]'` alone runs the static suite green. Those of the dynamic pass's
    torch-free parts (the report, the alignment, the input search) are marked `torch_free` and run."""
    import importlib.util

    has_torch = importlib.util.find_spec("torch") is not None
    for item in items:
        if DYNAMIC_TESTS in item.path.parents:
            item.add_marker(pytest.mark.dynamic)
            if not has_torch and item.get_closest_marker("torch_free") is None:
                item.add_marker(pytest.mark.skip(reason=NO_TORCH))


def checkout_environment() -> dict[str, str]:
    """os.environ with this checkout first on PYTHONPATH: a child Python started in another folder
    imports the reslint under test, not whatever an installed reslint points to."""
    path = os.pathsep.join(filter(None, [str(PROJECT), os.environ.get("PYTHONPATH")]))
    return {**os.environ, "PYTHONPATH": path}


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
            for key, value in checkout_environment().items()
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
