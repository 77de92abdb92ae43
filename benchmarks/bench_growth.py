"""How the static pass's cost grows with the file: wall time, CPU time and peak memory per input size.

Each input (see growth_inputs.py) is written to a temporary file and linted by a child process,
`reslint --no-cache --jobs 1 --format json FILE`, as a user runs it (`--jobs default`: without the
option, so a huge file's segments use every core); its CPU time (its worker processes included) and
the peak RSS of the largest of its processes come from wait4().
Between consecutive sizes the growth ratio is printed, normalised to the size ratio: 1.0 is linear,
2.0 at a doubling is quadratic.

Run: python benchmarks/bench_growth.py [--full] [--only classes,inheritance] [--reslint PATH] [--jobs N]
     (quick mode, the default, takes 2 to 3 minutes; --full much longer)
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

from growth_inputs import GENERATORS

DEFAULT_RESLINT = Path(sys.executable).parent / "reslint"

QUICK = {
    "classes": [250, 500, 1000],
    "inheritance": [100, 200, 400],
    "nesting": [100, 200, 400],
    "literal": [10_000, 20_000, 40_000],
    "realistic": [5_000, 10_000],
}
FULL = {
    "classes": [1_000, 2_000, 5_000, 10_000],
    "inheritance": [100, 400, 800, 3_000],
    "nesting": [100, 200, 400, 800],
    "literal": [10_000, 100_000, 1_000_000],
    "realistic": [25_000, 50_000, 100_000],
}


@dataclass
class Measure:
    kind: str
    size: int
    lines: int
    seconds: float
    cpu_seconds: float
    peak_mb: float
    codes: list[str]


def measure(kind: str, size: int, folder: Path, reslint: Path, jobs: str) -> Measure:
    source = GENERATORS[kind](size)
    path = folder / f"{kind}_{size}.py"
    path.write_text(source)
    jobs_option = [] if jobs == "default" else ["--jobs", jobs]
    argv = [str(reslint), "--no-cache", *jobs_option, "--format", "json", "--no-color", str(path)]
    start = time.perf_counter()
    child = subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
    assert child.stdout is not None
    output = child.stdout.read()
    _, status, usage = os.wait4(child.pid, 0)
    seconds = time.perf_counter() - start
    child.returncode = os.waitstatus_to_exitcode(status)
    codes = sorted({f["code"] for f in json.loads(output)}) if output.strip() else ["?"]
    path.unlink()
    peak_mb = usage.ru_maxrss / 1024  # Linux reports KiB
    cpu_seconds = usage.ru_utime + usage.ru_stime
    return Measure(kind, size, source.count("\n"), seconds, cpu_seconds, peak_mb, codes)


def print_row(row: Measure, previous: Measure | None) -> None:
    growth = ""
    if previous is not None:
        size_ratio = row.size / previous.size
        growth = (
            f"{row.seconds / previous.seconds / size_ratio:5.2f}"
            f" {row.peak_mb / previous.peak_mb / size_ratio:5.2f}"
        )
    print(
        f"{row.kind:12} {row.size:>9} {row.lines:>8} {row.seconds:9.2f} {row.cpu_seconds:8.2f}"
        f" {row.peak_mb:9.0f}"
        f"  {growth:11} {','.join(row.codes) or '-'}",
        flush=True,
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--full", action="store_true", help="the large sizes (tens of minutes)")
    parser.add_argument("--only", help="comma-separated kinds: " + ", ".join(GENERATORS))
    parser.add_argument(
        "--reslint", type=Path, default=DEFAULT_RESLINT, help="the executable (another checkout's)"
    )
    parser.add_argument(
        "--jobs", default="1", help="reslint's --jobs (default 1), or 'default' to leave it out"
    )
    args = parser.parse_args()
    plan = FULL if args.full else QUICK
    kinds = args.only.split(",") if args.only else list(plan)
    print(
        "kind              size    lines   time(s)   cpu(s)  peak(MB)  growth t m  codes found\n"
        "  (growth: time and memory ratio to the previous size, divided by the size ratio;"
        " 1 = linear)"
    )
    with tempfile.TemporaryDirectory(prefix="reslint-growth-") as folder:
        for kind in kinds:
            previous = None
            for size in plan[kind]:
                row = measure(kind, size, Path(folder), args.reslint, args.jobs)
                print_row(row, previous)
                previous = row


if __name__ == "__main__":
    main()
