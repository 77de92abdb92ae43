"""`reslint .` on a project root that holds a 2,000-file conda environment costs about as much as
linting the project's own files: discovery skips the environment (and .gitignore'd copies) cheaply.

A temporary git project is made: models/ (the clean and seed fixtures: the project's own code), a
conda environment envs/torch/ (conda-meta/ and 2,000 generated library modules of ~120 lines) and a
.gitignore'd wandb/ copy of models/. Timed as whole processes, median of interleaved runs:

  floor           python -c "import libcst, rich"
  models          reslint --no-cache models        the project's files
  root            reslint --no-cache .             the same files, found from the root
  root, cached    reslint .                        a re-run on unchanged files
  environment     reslint --no-cache envs/torch/lib/python3.11/site-packages
                                                   what linting the environment would cost (once; a
                                                   folder named explicitly is searched even if excluded)

Run: python benchmarks/bench_discovery.py [--runs 7] [--env-files 2000]
"""

from __future__ import annotations

import argparse
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

PROJECT = Path(__file__).resolve().parents[1]
BIN = Path(sys.executable).parent
SITE_PACKAGES = "envs/torch/lib/python3.11/site-packages"

LIBRARY_MODULE = '''\
"""Generated library module {index}: functions and classes as installed packages have them."""

import os
import sys
from collections import OrderedDict


class Registry{index}:
    """Keeps named entries."""

    def __init__(self, name="registry{index}"):
        self.name = name
        self.entries = OrderedDict()

    def register(self, key, value):
        if key in self.entries:
            raise KeyError(f"{{key}} is registered already")
        self.entries[key] = value
        return value

    def lookup(self, key, default=None):
        return self.entries.get(key, default)

    def __len__(self):
        return len(self.entries)

'''
FUNCTION = """
def helper_{index}_{number}(values, scale={number}):
    total = 0
    for value in values:
        if value is None:
            continue
        total += value * scale
    return total / max(len(values), 1) if values else os.environ.get("DEFAULT", sys.platform)

"""


def make_project(root: Path, env_files: int) -> None:
    subprocess.run(["git", "init", "-q", str(root)], check=True)
    models = root / "models"
    for folder in ("clean", "seeds"):
        shutil.copytree(PROJECT / "fixtures" / folder, models / folder)
    shutil.copytree(models, root / "wandb" / "run-1" / "files" / "code")
    (root / ".gitignore").write_text("wandb/\n", encoding="utf-8")
    env = root / "envs" / "torch"
    (env / "conda-meta").mkdir(parents=True)
    (env / "conda-meta" / "history").write_text("==> 2026-01-01 <==\n", encoding="utf-8")
    for index in range(env_files):
        package = root / SITE_PACKAGES / f"pkg{index // 50}"
        package.mkdir(parents=True, exist_ok=True)
        body = LIBRARY_MODULE.format(index=index) + "".join(
            FUNCTION.format(index=index, number=number) for number in range(10)
        )
        (package / f"module{index}.py").write_text(body, encoding="utf-8")


def timed(argv: list[str], cwd: Path) -> float:
    start = time.perf_counter()
    result = subprocess.run(
        argv, cwd=cwd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True
    )
    elapsed = time.perf_counter() - start
    if result.returncode not in (0, 1):
        raise SystemExit(f"{' '.join(argv)} exited {result.returncode}:\n{result.stderr}")
    return elapsed


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--runs", type=int, default=7)
    parser.add_argument("--env-files", type=int, default=2000)
    options = parser.parse_args()
    reslint = str(BIN / "reslint")
    with tempfile.TemporaryDirectory(prefix="reslint-bench-discovery-") as folder:
        root = Path(folder)
        make_project(root, options.env_files)
        project_files = len(list((root / "models").rglob("*.py")))
        env_lines = sum(
            len(path.read_text(encoding="utf-8").splitlines())
            for path in (root / "envs").rglob("*.py")
        )
        commands = {
            'floor: python -c "import libcst, rich"': [sys.executable, "-c", "import libcst, rich"],
            f"models: reslint --no-cache models  ({project_files} files)": [
                reslint,
                "--no-cache",
                "models",
            ],
            "root: reslint --no-cache .": [reslint, "--no-cache", "."],
            "root, cached: reslint .": [reslint, "."],
        }
        timed(commands["root, cached: reslint ."], root)  # fills the cache
        samples: dict[str, list[float]] = {name: [] for name in commands}
        for _ in range(options.runs):
            for name, argv in commands.items():
                samples[name].append(timed(argv, root))
        environment = timed([reslint, "--no-cache", SITE_PACKAGES], root)
    print(
        f"project: {project_files} files in models/, a conda env of {options.env_files} files ({env_lines} lines)"
    )
    print(f"{'command':60} {'median':>8} {'min':>8}")
    for name, values in samples.items():
        print(f"{name:60} {statistics.median(values):7.2f}s {min(values):7.2f}s")
    print(
        f"{'environment: reslint --no-cache ' + SITE_PACKAGES + '  (once)':60} {environment:7.2f}s"
    )
    ratio = statistics.median(samples["root: reslint --no-cache ."]) / statistics.median(
        samples[f"models: reslint --no-cache models  ({project_files} files)"]
    )
    print(f"root / models = {ratio:.2f} (target: about 1)")


if __name__ == "__main__":
    main()
