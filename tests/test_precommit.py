"""The pre-commit hook for real: `pre-commit try-repo` installs reslint from this checkout into its own
environment (from the registry, without torch) and runs it on a temporary git repository."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = [pytest.mark.network, pytest.mark.slow]

PROJECT = Path(__file__).resolve().parents[1]
# What pip needs to build reslint; copied rather than pointing try-repo at the checkout itself, because
# try-repo's snapshot of a dirty checkout leaves untracked files out and needs a commit to exist.
PACKAGE_PARTS = ("pyproject.toml", "README.md", ".pre-commit-hooks.yaml", "reslint", "rules")
OFFLINE_SIGNS = (
    "Failed to establish a new connection",
    "Temporary failure in name resolution",
    "Name or service not known",
    "Network is unreachable",
    "No route to host",
    "Max retries exceeded",
    "ConnectTimeoutError",
    "ReadTimeoutError",
    "(from versions: none)",
)

BUGGY_BLOCK = """\
import torch.nn as nn


class Bottleneck(nn.Module):
    pass


class BasicBlock(nn.Module):
    def __init__(self, planes):
        super(Bottleneck, self).__init__()
        self.conv = nn.Conv2d(planes, planes, kernel_size=3, padding=1, bias=False)
        self.bn = nn.BatchNorm2d(planes)

    def forward(self, x):
        return self.bn(self.conv(x)) + x
"""
BUGGY_NOTEBOOK = json.dumps(
    {
        "cells": [
            {"cell_type": "code", "metadata": {}, "source": ["import torch.nn as nn"]},
            {"cell_type": "code", "metadata": {}, "source": ["layer = nn.linear(4, 4)"]},
        ],
        "metadata": {},
        "nbformat": 4,
        "nbformat_minor": 5,
    }
)
FIXED_BLOCK = BUGGY_BLOCK.replace("super(Bottleneck, self)", "super(BasicBlock, self)")


def git(*args: str, cwd: Path, env: dict[str, str]) -> None:
    identity = (
        "-c",
        "user.name=reslint tests",
        "-c",
        "user.email=tests@reslint.invalid",
        "-c",
        "commit.gpgsign=false",
    )
    subprocess.run(["git", *identity, *args], cwd=cwd, env=env, check=True, capture_output=True)


@pytest.fixture(scope="module")
def hook_env(tmp_path_factory: pytest.TempPathFactory) -> dict[str, str]:
    """Environment for git and pre-commit: no GIT_* leaking in from an outer hook, a private PRE_COMMIT_HOME."""
    env = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith(("GIT_", "PRE_COMMIT"))
    }
    env["PRE_COMMIT_HOME"] = str(tmp_path_factory.mktemp("pre-commit-home"))
    return env


@pytest.fixture(scope="module")
def snapshot(tmp_path_factory: pytest.TempPathFactory, hook_env: dict[str, str]) -> Path:
    """A one-commit git repository holding this checkout's package as it is on disk now."""
    root = tmp_path_factory.mktemp("reslint-snapshot")
    ignore = shutil.ignore_patterns("__pycache__", "*.pyc", "*.egg-info")
    for part in PACKAGE_PARTS:
        source = PROJECT / part
        if source.is_dir():
            shutil.copytree(source, root / part, ignore=ignore)
        else:
            shutil.copy2(source, root / part)
    git("init", "-q", cwd=root, env=hook_env)
    git("add", "-A", cwd=root, env=hook_env)
    git("commit", "-q", "-m", "snapshot", cwd=root, env=hook_env)
    return root


def make_user_repo(root: Path, source: str, env: dict[str, str]) -> Path:
    root.mkdir()
    git("init", "-q", cwd=root, env=env)
    (root / "model.py").write_text(source, encoding="utf-8")
    git("add", "model.py", cwd=root, env=env)
    return root


def try_repo(
    snapshot: Path, user_repo: Path, env: dict[str, str]
) -> subprocess.CompletedProcess[str]:
    command = [
        sys.executable,
        "-m",
        "pre_commit",
        "try-repo",
        str(snapshot),
        "reslint",
        "--all-files",
        "--color=never",
    ]
    result = subprocess.run(
        command, cwd=user_repo, env=env, capture_output=True, text=True, timeout=900
    )
    skip_if_registry_unreachable(result, Path(env["PRE_COMMIT_HOME"]))
    return result


def skip_if_registry_unreachable(result: subprocess.CompletedProcess[str], home: Path) -> None:
    """pre-commit failing to install the hook because pip cannot reach the registry is the one allowed skip.
    A hook that fails is not that: pre-commit reports its own errors as "An (unexpected) error has occurred"."""
    if "error has occurred" not in result.stdout + result.stderr:
        return
    log = home / "pre-commit.log"
    output = (
        result.stdout
        + result.stderr
        + (log.read_text(encoding="utf-8", errors="replace") if log.exists() else "")
    )
    sign = next((sign for sign in OFFLINE_SIGNS if sign in output), None)
    if sign is not None:
        why = f"package registry unreachable while pre-commit installed the hook ({sign!r})"
        pytest.skip(reason=why)


def test_hook_fails_on_the_bug_and_names_it(
    snapshot: Path, hook_env: dict[str, str], tmp_path: Path
) -> None:
    user_repo = make_user_repo(tmp_path / "buggy", BUGGY_BLOCK, hook_env)
    (user_repo / "explore.ipynb").write_text(BUGGY_NOTEBOOK, encoding="utf-8")
    git("add", "explore.ipynb", cwd=user_repo, env=hook_env)
    result = try_repo(snapshot, user_repo, hook_env)
    output = result.stdout + result.stderr
    assert result.returncode == 1, output
    assert "RN101" in output, output
    assert "model.py" in output, output
    assert "explore.ipynb:cell 2:1:9: RN105" in output, output  # the hook covers notebooks


def test_hook_passes_once_the_bug_is_fixed(
    snapshot: Path, hook_env: dict[str, str], tmp_path: Path
) -> None:
    user_repo = make_user_repo(tmp_path / "fixed", FIXED_BLOCK, hook_env)
    result = try_repo(snapshot, user_repo, hook_env)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "Passed" in result.stdout, result.stdout


@pytest.fixture(scope="module")
def hook_interpreters(
    snapshot: Path, hook_env: dict[str, str], tmp_path_factory: pytest.TempPathFactory
) -> list[Path]:
    """The hook's python, installed as users get it: a config naming the repository, then `install-hooks`
    (try-repo installs into a throwaway store, so its environment cannot be inspected afterwards)."""
    user_repo = make_user_repo(
        tmp_path_factory.mktemp("configured") / "repo", FIXED_BLOCK, hook_env
    )
    revision = subprocess.run(
        ["git", "rev-parse", "HEAD"], cwd=snapshot, capture_output=True, text=True, check=True
    )
    config = f"repos:\n  - repo: {snapshot}\n    rev: {revision.stdout.strip()}\n    hooks:\n      - id: reslint\n"
    (user_repo / ".pre-commit-config.yaml").write_text(config, encoding="utf-8")
    command = [sys.executable, "-m", "pre_commit", "install-hooks", "--color", "never"]
    result = subprocess.run(
        command, cwd=user_repo, env=hook_env, capture_output=True, text=True, timeout=900
    )
    skip_if_registry_unreachable(result, Path(hook_env["PRE_COMMIT_HOME"]))
    assert result.returncode == 0, result.stdout + result.stderr
    interpreters = sorted(Path(hook_env["PRE_COMMIT_HOME"]).glob("repo*/py_env-*/bin/python"))
    assert interpreters, "pre-commit made no python environment for the hook"
    return interpreters


def run_in(python: Path, code: str, cwd: Path) -> str:
    """Runs outside the checkout, so the source tree cannot shadow what is installed."""
    return subprocess.run(
        [str(python), "-c", code], capture_output=True, text=True, check=True, cwd=cwd
    ).stdout


def test_hook_environment_has_no_torch(hook_interpreters: list[Path], tmp_path: Path) -> None:
    probe = "import importlib.util as u; print(u.find_spec('reslint') is not None, u.find_spec('torch') is not None)"
    for python in hook_interpreters:
        found = run_in(python, probe, tmp_path).split()
        assert found == ["True", "False"], f"{python}: reslint installed, torch installed = {found}"


def test_hook_environment_holds_the_whole_package(
    hook_interpreters: list[Path], tmp_path: Path
) -> None:
    """pre-commit's install is a plain (non-editable) `pip install .`: every module must land in it, the
    rules/ folder as reslint/rules/ (a subpackage missing from pyproject's package list would not)."""
    expected = {
        path.relative_to(PROJECT).as_posix() for path in (PROJECT / "reslint").rglob("*.py")
    }
    expected |= {
        "reslint/" + path.relative_to(PROJECT).as_posix()
        for path in (PROJECT / "rules").rglob("*.py")
    }
    for python in hook_interpreters:
        package = run_in(
            python,
            "import pathlib, reslint; print(pathlib.Path(reslint.__file__).parent)",
            tmp_path,
        )
        site = Path(package.strip()).parent
        installed = {path.relative_to(site).as_posix() for path in (site / "reslint").rglob("*.py")}
        assert expected <= installed, (
            f"missing from the installed package: {sorted(expected - installed)}"
        )


def test_hook_with_fix_mends_the_file(
    snapshot: Path, hook_env: dict[str, str], tmp_path: Path
) -> None:
    """`args: [--fix]`: the first run fixes the file (pre-commit fails it, as files changed), the next
    passes on the fixed file."""
    user_repo = make_user_repo(tmp_path / "to-fix", BUGGY_BLOCK, hook_env)
    revision = subprocess.run(
        ["git", "rev-parse", "HEAD"], cwd=snapshot, capture_output=True, text=True, check=True
    )
    config = (
        f"repos:\n  - repo: {snapshot}\n    rev: {revision.stdout.strip()}\n    hooks:\n"
        "      - id: reslint\n        args: [--fix]\n"
    )
    (user_repo / ".pre-commit-config.yaml").write_text(config, encoding="utf-8")
    command = [sys.executable, "-m", "pre_commit", "run", "--all-files", "--color", "never"]

    def run() -> subprocess.CompletedProcess[str]:
        result = subprocess.run(
            command, cwd=user_repo, env=hook_env, capture_output=True, text=True, timeout=900
        )
        skip_if_registry_unreachable(result, Path(hook_env["PRE_COMMIT_HOME"]))
        return result

    first = run()
    assert first.returncode == 1, first.stdout + first.stderr
    assert (user_repo / "model.py").read_text(encoding="utf-8") == FIXED_BLOCK
    second = run()
    assert second.returncode == 0, second.stdout + second.stderr
