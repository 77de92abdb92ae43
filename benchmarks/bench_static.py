"""Static-pass speed, measured as a user meets it: whole processes, from start to exit.

(a) one ~250-line model file, cold: median of N runs of `reslint FILE` against the floor
    `python -c "import libcst, rich"` (target: ratio <= 1.5);
(b) a folder of 60 files / ~25k lines made from the fixtures: `reslint FOLDER` against `fixit lint FOLDER`
    (Fixit 2 with its default rules, installed into its own venv under ~/.cache; target: >= 4x faster).

Run: python benchmarks/bench_static.py [--runs 15] [--folder-runs 3] [--no-fixit]
"""

from __future__ import annotations

import argparse
import ast
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

PROJECT = Path(__file__).resolve().parents[1]
FIXTURES = PROJECT / "fixtures"
BIN = Path(sys.executable).parent
FIXIT_VERSION = "2.2.1"
CACHE = Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache")
FIXIT_VENV = CACHE / "reslint-bench" / f"fixit-{FIXIT_VERSION}"
SINGLE_FILE_LINES = 250
SINGLE_FILE_TARGET = 1.5
FOLDER_TARGET = 4.0


@dataclass
class Row:
    what: str
    wall: list[float]
    cpu: list[
        float
    ]  # user + sys of the process and its children: steadier than wall time on a busy machine

    @property
    def median(self) -> float:
        return statistics.median(self.wall)


def run_once(argv: list[str], cwd: Path | None = None) -> tuple[float, float]:
    """(wall seconds, CPU seconds) of one whole process."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.perf_counter()
    result = subprocess.run(
        argv, cwd=cwd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True
    )
    elapsed = time.perf_counter() - start
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    if result.returncode not in (0, 1):  # 1 = findings, for both reslint and Fixit
        raise SystemExit(f"{' '.join(argv)} exited {result.returncode}:\n{result.stderr}")
    return elapsed, (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)


def measure(commands: dict[str, list[str]], runs: int, cwd: Path | None = None) -> list[Row]:
    """Runs the commands interleaved (one warm-up each first) so drift hits all of them alike. The
    warm-up is also reslint's first run, which fills its cache of compiled dataclass methods and
    regular expressions (reslint.compile_cache), as a user's first run does."""
    rows = {name: Row(name, [], []) for name in commands}
    for argv in commands.values():
        run_once(argv, cwd)
    for _ in range(runs):
        for name, argv in commands.items():
            wall, cpu = run_once(argv, cwd)
            rows[name].wall.append(wall)
            rows[name].cpu.append(cpu)
    return list(rows.values())


def fixture_files() -> list[Path]:
    """Fixtures that parse: a file with syntax errors would cost Fixit nothing (it gives up) and skew (b)."""
    files = [path for path in sorted(FIXTURES.rglob("*.py")) if parses(path)]
    if not files:
        raise SystemExit(f"no parseable fixtures under {FIXTURES}")
    return files


def parses(path: Path) -> bool:
    try:
        ast.parse(path.read_text(encoding="utf-8"))
    except (SyntaxError, UnicodeDecodeError, ValueError):
        return False
    return True


def line_count(path: Path) -> int:
    return len(path.read_text(encoding="utf-8").splitlines())


def single_model_file() -> Path:
    """The clean fixture closest to 250 lines (any fixture if there are no clean ones yet)."""
    clean = sorted((FIXTURES / "clean").glob("*.py")) or fixture_files()
    return min(clean, key=lambda path: abs(line_count(path) - SINGLE_FILE_LINES))


def make_folder(target: Path, files: int, total_lines: int) -> int:
    """`files` modules of about total_lines/files lines each, each a different run of fixtures glued together."""
    sources = [path.read_text(encoding="utf-8") for path in fixture_files()]
    written = 0
    for number in range(files):
        budget = (total_lines - written) / (
            files - number
        )  # what is left, shared by the files still to write
        parts: list[str] = []
        offset = number
        while not parts or sum(part.count("\n") + 2 for part in parts) < budget:
            parts.append(sources[offset % len(sources)])
            offset += 7  # a stride co-prime with most fixture counts, so neighbouring files differ
        text = "\n\n".join(parts)
        (target / f"model_{number:02d}.py").write_text(text, encoding="utf-8")
        written += len(text.splitlines())
    return written


def ensure_fixit() -> Path:
    fixit = FIXIT_VENV / "bin" / "fixit"
    if not fixit.exists():
        print(f"installing fixit=={FIXIT_VERSION} into {FIXIT_VENV} (once)", file=sys.stderr)
        subprocess.run([sys.executable, "-m", "venv", "--clear", str(FIXIT_VENV)], check=True)
        pip = [
            str(FIXIT_VENV / "bin" / "python"),
            "-m",
            "pip",
            "install",
            "-q",
            f"fixit=={FIXIT_VERSION}",
        ]
        subprocess.run(pip, check=True)
    return fixit


def print_table(title: str, rows: list[Row]) -> None:
    print(f"\n{title}")
    print(f"  {'command':<50} {'median s':>9} {'min s':>7} {'max s':>7} {'CPU s':>7} {'runs':>5}")
    for row in rows:
        low, high, cpu = min(row.wall), max(row.wall), statistics.median(row.cpu)
        print(
            f"  {row.what:<50} {row.median:>9.3f} {low:>7.3f} {high:>7.3f} {cpu:>7.3f} {len(row.wall):>5}"
        )


def verdict(met: bool) -> str:
    return "met" if met else "MISSED"


def bench_single_file(runs: int) -> float:
    model = single_model_file()
    rows = measure(
        {
            'python -c "import libcst, rich"  (floor)': [
                sys.executable,
                "-c",
                "import libcst, rich",
            ],
            f"reslint {model.relative_to(PROJECT)}": [
                str(BIN / "reslint"),
                "--no-color",
                "--no-cache",  # cold: every run lints the file
                str(model),
            ],
        },
        runs,
    )
    print_table(f"(a) one model file, cold process, {line_count(model)} lines", rows)
    ratio = rows[1].median / rows[0].median
    met = verdict(ratio <= SINGLE_FILE_TARGET)
    print(f"  ratio reslint / floor = {ratio:.2f}  (target <= {SINGLE_FILE_TARGET}: {met})")
    return ratio


def bench_folder(runs: int, files: int, lines: int, with_fixit: bool) -> float | None:
    with tempfile.TemporaryDirectory(prefix="reslint-bench-") as folder:
        written = make_folder(Path(folder), files, lines)
        commands = {
            f"reslint FOLDER  ({os.cpu_count()} cores)": [
                str(BIN / "reslint"),
                "--no-color",
                "--no-cache",
                folder,
            ]
        }
        if with_fixit:
            fixit = f"fixit lint FOLDER  (fixit {FIXIT_VERSION}, default rules)"
            commands[fixit] = [str(ensure_fixit()), "lint", folder]
        rows = measure(commands, runs, cwd=Path(folder))
    print_table(f"(b) a folder of {files} files, {written} lines", rows)
    if not with_fixit:
        return None
    speedup = rows[1].median / rows[0].median
    met = verdict(speedup >= FOLDER_TARGET)
    print(f"  reslint is {speedup:.1f}x faster than Fixit  (target >= {FOLDER_TARGET}x: {met})")
    return speedup


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--runs", type=int, default=15, help="runs per command for the single file (default 15)"
    )
    parser.add_argument(
        "--folder-runs", type=int, default=3, help="runs per command for the folder (default 3)"
    )
    parser.add_argument("--files", type=int, default=60)
    parser.add_argument("--lines", type=int, default=25_000)
    parser.add_argument(
        "--no-fixit", action="store_true", help="skip the Fixit comparison (no install)"
    )
    args = parser.parse_args()
    print(f"python {sys.version.split()[0]}, {os.cpu_count()} cores, reslint from {BIN}")
    # An installed package has its bytecode; an editable checkout under PYTHONDONTWRITEBYTECODE=1 (as on
    # this project's machines) would otherwise recompile reslint on every timed run.
    import compileall

    project = Path(__file__).resolve().parents[1]
    compileall.compile_dir(project / "reslint", quiet=1)
    compileall.compile_dir(project / "rules", quiet=1)
    bench_single_file(args.runs)
    bench_folder(args.folder_runs, args.files, args.lines, with_fixit=not args.no_fixit)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
