"""The static pass reads files as text: it never imports or runs the file it lints, and never imports torch."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from reslint import check_paths
from reslint.findings import Finding

PROJECT = Path(__file__).resolve().parents[1]
FIXTURES = PROJECT / "fixtures"
MODULE_NAME = "reslint_isolation_probe"
HEAVY_PACKAGES = ("torch", "hypothesis", "numpy")

HOSTILE_TEMPLATE = '''\
"""Every top-level statement here has a visible effect if the file is ever imported or executed."""
import pathlib
pathlib.Path({marker!r}).write_text("this file was executed")
import reslint_no_such_module_4711
raise SystemExit(97)

import torch
import torch.nn as nn


class BasicBlock(nn.Module):
    def __init__(self, planes):
        super(BasicBlock, self).__init__()
        self.conv = nn.Conv2d(planes, planes, kernel_size=3, padding=1, bias=False)
        self.bn = nn.BatchNorm2d(planes)

    def forward(self, x):
        return torch.relu(self.bn(self.conv(x)) + x)
'''

# Runs the CLI in a child process and, at exit, dumps which heavy packages and which linted modules got loaded.
PROBE = """
import atexit, json, sys
out, module_name, argv = sys.argv[1], sys.argv[2], sys.argv[3:]
def dump():
    roots = {name.split(".")[0] for name in sys.modules}
    with open(out, "w") as handle:
        json.dump({"loaded": sorted(roots & set(%r)), "linted_module_imported": module_name in sys.modules}, handle)
atexit.register(dump)
sys.argv = ["reslint", *argv]
from reslint.cli import main
sys.exit(main())
""" % (HEAVY_PACKAGES,)  # noqa: UP031 -- the probe is full of braces

# Shadows a heavy package on PYTHONPATH: any process that imports it (worker processes included, which the
# parent's sys.modules cannot show) leaves a record.
TRIPWIRE = """
import os
with open(os.path.join({folder!r}, "{package}.imported"), "a") as record:
    record.write(str(os.getpid()) + "\\n")
raise ImportError("tripwire: the static pass imported {package}")
"""


@pytest.fixture
def hostile_file(tmp_path: Path) -> tuple[Path, Path]:
    marker = tmp_path / "executed.marker"
    path = tmp_path / f"{MODULE_NAME}.py"
    path.write_text(HOSTILE_TEMPLATE.format(marker=str(marker)), encoding="utf-8")
    return path, marker


def run_cli_probe(
    tmp_path: Path, *argv: str
) -> tuple[subprocess.CompletedProcess[str], dict[str, object]]:
    tripwires = tmp_path / "tripwires"
    for package in HEAVY_PACKAGES:
        (tripwires / package).mkdir(parents=True)
        (tripwires / package / "__init__.py").write_text(
            TRIPWIRE.format(folder=str(tripwires), package=package)
        )
    report = tmp_path / "probe.json"
    command = [sys.executable, "-c", PROBE, str(report), MODULE_NAME, *argv]
    env = {
        **os.environ,
        "PYTHONPATH": os.pathsep.join(filter(None, [str(tripwires), os.environ.get("PYTHONPATH")])),
    }
    result = subprocess.run(
        command, capture_output=True, text=True, cwd=tmp_path, env=env, timeout=300
    )
    assert report.exists(), (
        f"the CLI died before exiting normally:\n{result.stdout}\n{result.stderr}"
    )
    probe = json.loads(report.read_text(encoding="utf-8"))
    probe["tripped"] = sorted(record.stem for record in tripwires.glob("*.imported"))
    return result, probe


def test_lint_paths_does_not_execute_the_file(hostile_file: tuple[Path, Path]) -> None:
    path, marker = hostile_file
    findings = check_paths(
        [str(path)]
    )  # SystemExit(97) or ImportError would surface here if the file ran
    assert isinstance(findings, list)
    assert all(isinstance(finding, Finding) for finding in findings)
    assert not marker.exists()
    assert MODULE_NAME not in sys.modules
    assert "reslint_no_such_module_4711" not in sys.modules


def test_cli_does_not_execute_the_file_nor_import_torch(
    hostile_file: tuple[Path, Path], tmp_path: Path
) -> None:
    path, marker = hostile_file
    result, probe = run_cli_probe(tmp_path, str(path))
    assert result.returncode in (0, 1), result.stderr
    assert "Traceback" not in result.stdout + result.stderr
    assert not marker.exists()
    assert probe == {"loaded": [], "linted_module_imported": False, "tripped": []}


@pytest.mark.parametrize(
    "argv",
    [
        ["--help"],
        ["--list-rules"],
        ["--explain", "RN101"],
        ["--format", "json", str(FIXTURES)],
        [str(FIXTURES / "seeds")],
    ],
    ids=["help", "list-rules", "explain", "json-all-fixtures", "text-seeds"],
)
def test_static_commands_never_import_torch(argv: list[str], tmp_path: Path) -> None:
    result, probe = run_cli_probe(tmp_path, *argv)
    assert result.returncode in (0, 1), result.stdout + result.stderr
    assert probe["loaded"] == [], f"{argv} imported {probe['loaded']}"
    assert probe["tripped"] == [], (
        f"{argv} (or one of its worker processes) imported {probe['tripped']}"
    )


def test_importing_the_cli_does_not_import_torch() -> None:
    check = (
        "import sys, reslint.cli, reslint.engine, reslint.runner; "
        f"print(sorted({{name.split('.')[0] for name in sys.modules}} & set({HEAVY_PACKAGES!r})))"
    )
    result = subprocess.run(
        [sys.executable, "-c", check], capture_output=True, text=True, check=True
    )
    assert result.stdout.strip() == "[]"
