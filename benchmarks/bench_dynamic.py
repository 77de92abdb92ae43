"""Benchmark the dynamic pass against torchinfo, whole process, in one run (see README_dynamic.md).

    python benchmarks/bench_dynamic.py [--runs N] [--json]

Measures, interleaved so each round sees the same machine load, every process from start to exit:
  torchinfo  python -c: build fixtures/models/tv_resnet.py:resnet50 and torchinfo.summary(model, (1, 3, 224, 224))
  reslint    reslint --compare-to resnet50 fixtures/models/tv_resnet.py:resnet50 --format json
  wide101    reslint --compare-to wide_resnet101_2 fixtures/models/wide_resnet.py:wide_resnet101_2 --format json
  torch      python -c "import torch" (the floor every row pays; for context)
Wall time is time.perf_counter around the process; peak RSS comes from os.wait4, which reports the largest
resident set of the process and of every child it waited for (reslint's isolated worker included).

Targets (issue 3): reslint's wall time <= 1.5 x torchinfo's (the median of the per-round ratios), its median
peak RSS below torchinfo's, and wide101's peak RSS < 1 GiB. Exit 0 when all are met, 1 when one is missed, 2 when a run failed.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
PYTHON = sys.executable
MODELS = REPO / "fixtures" / "models"
WALL_RATIO_LIMIT = 1.5
WIDE_RSS_LIMIT_MB = 1024.0

TORCHINFO_SNIPPET = f"""
import importlib.util, torch, torchinfo
spec = importlib.util.spec_from_file_location("tv_resnet", {str(MODELS / "tv_resnet.py")!r})
module = importlib.util.module_from_spec(spec)
spec.loader.exec_module(module)
torchinfo.summary(module.resnet50(), (1, 3, 224, 224), verbose=0)
"""


@dataclass(frozen=True)
class Command:
    name: str
    argv: list[str]
    expect_exit: int = 0


@dataclass
class Samples:
    command: Command
    seconds: list[float] = field(default_factory=list)
    peak_mb: list[float] = field(default_factory=list)

    @property
    def wall(self) -> float:
        return statistics.median(self.seconds)

    @property
    def rss(self) -> float:
        return statistics.median(self.peak_mb)


def reslint(arch: str, target: str) -> list[str]:
    return [PYTHON, "-m", "reslint", "--compare-to", arch, target, "--format", "json"]


COMMANDS = [
    Command("torch", [PYTHON, "-c", "import torch"]),
    Command("torchinfo", [PYTHON, "-c", TORCHINFO_SNIPPET]),
    Command("reslint", reslint("resnet50", "fixtures/models/tv_resnet.py:resnet50")),
    Command(
        "wide101", reslint("wide_resnet101_2", "fixtures/models/wide_resnet.py:wide_resnet101_2")
    ),
]


def measure(command: Command) -> tuple[float, float]:
    """(wall seconds, peak RSS in MiB) of one whole process and the children it waited for."""
    # Output goes to files, not pipes: os.wait4 must reap the process itself (Popen.wait would hide the
    # rusage), and a process blocked on a full pipe would never exit.
    with tempfile.TemporaryFile() as stdout, tempfile.TemporaryFile() as stderr:
        started = time.perf_counter()
        process = subprocess.Popen(command.argv, cwd=REPO, stdout=stdout, stderr=stderr)
        _, status, usage = os.wait4(process.pid, 0)
        seconds = time.perf_counter() - started
        process.returncode = os.waitstatus_to_exitcode(status)
        stdout.seek(0)
        stderr.seek(0)
        out, err = stdout.read().decode(), stderr.read().decode()
    if process.returncode != command.expect_exit:
        sys.stderr.write(
            f"{command.name} exited {process.returncode}, expected {command.expect_exit}\n"
            f"{out[-2000:]}\n{err[-2000:]}\n"
        )
        raise SystemExit(2)
    if command.name in ("reslint", "wide101") and not _matches_with_equivalence(json.loads(out)):
        sys.stderr.write(f"{command.name}: the verdict is not 'matches'\n{out[:3000]}\n")
        raise SystemExit(2)
    return seconds, usage.ru_maxrss / 1024.0  # Linux reports KiB


def _matches_with_equivalence(report: dict[str, object]) -> bool:
    """The figure counts the same-weights check too: it must have run, and agreed."""
    equivalence = report.get("equivalence") or {}
    return report["verdict"] == "matches" and equivalence.get("status") == "matches"  # type: ignore[union-attr]


def run_rounds(runs: int) -> dict[str, Samples]:
    samples = {command.name: Samples(command) for command in COMMANDS}
    measure(COMMANDS[0])  # warm-up: the first torch import reads the wheel from a cold disk cache
    for round_number in range(1, runs + 1):
        for command in COMMANDS:
            seconds, peak = measure(command)
            samples[command.name].seconds.append(seconds)
            samples[command.name].peak_mb.append(peak)
            print(
                f"  round {round_number}/{runs} {command.name:<9} {seconds:6.2f} s {peak:7.0f} MiB",
                file=sys.stderr,
                flush=True,
            )
    return samples


def verdicts(samples: dict[str, Samples]) -> dict[str, object]:
    torchinfo, ours, wide = samples["torchinfo"], samples["reslint"], samples["wide101"]
    # Per-round ratios (both processes ran back to back, under the same load), then their median.
    wall_ratio = statistics.median(o / t for o, t in zip(ours.seconds, torchinfo.seconds))
    rss_ratio = ours.rss / torchinfo.rss
    return {
        "wall_ratio": round(wall_ratio, 3),
        "wall_ratio_of_medians": round(ours.wall / torchinfo.wall, 3),
        "rss_ratio": round(rss_ratio, 3),
        "wall_ok": wall_ratio <= WALL_RATIO_LIMIT,
        "rss_ok": ours.rss < torchinfo.rss,
        "wide_rss_ok": wide.rss < WIDE_RSS_LIMIT_MB,
    }


def print_table(samples: dict[str, Samples], result: dict[str, object], runs: int) -> None:
    print(
        f"dynamic pass benchmark, median of {runs} runs (python {sys.version.split()[0]}, {os.cpu_count()} CPUs)"
    )
    print(f"{'command':<10} {'wall s':>8} {'min s':>7} {'peak RSS MiB':>13}   runs (s)")
    for name, sample in samples.items():
        spread = ", ".join(f"{s:.2f}" for s in sample.seconds)
        print(
            f"{name:<10} {sample.wall:8.2f} {min(sample.seconds):7.2f} {sample.rss:13.0f}   {spread}"
        )
    mark = {True: "ok", False: "MISSED"}
    print(
        f"reslint / torchinfo wall: {result['wall_ratio']:.2f}x, median of the per-round ratios "
        f"({result['wall_ratio_of_medians']:.2f}x of the medians) (target <= {WALL_RATIO_LIMIT}x) "
        f"{mark[bool(result['wall_ok'])]}"
    )
    print(
        f"reslint / torchinfo peak RSS: {result['rss_ratio']:.2f}x (target < 1x) {mark[bool(result['rss_ok'])]}"
    )
    print(
        f"wide_resnet101_2 peak RSS: {samples['wide101'].rss:.0f} MiB (target < {WIDE_RSS_LIMIT_MB:.0f}) "
        f"{mark[bool(result['wide_rss_ok'])]}"
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--runs", type=int, default=5, help="rounds to take the median over (default 5)"
    )
    parser.add_argument(
        "--json", action="store_true", help="print the figures as JSON instead of a table"
    )
    options = parser.parse_args(argv)
    samples = run_rounds(max(1, options.runs))
    result = verdicts(samples)
    if options.json:
        figures = {
            name: {"wall_s": round(s.wall, 3), "peak_rss_mib": round(s.rss, 1), "runs_s": s.seconds}
            for name, s in samples.items()
        }
        print(json.dumps({"runs": options.runs, "figures": figures, **result}, indent=2))
    else:
        print_table(samples, result, options.runs)
    return 0 if result["wall_ok"] and result["rss_ok"] and result["wide_rss_ok"] else 1


if __name__ == "__main__":
    sys.exit(main())
