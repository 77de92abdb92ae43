"""Fuzz the static pass: lint thousands of mutants of the fixtures, count internal errors and slow files.

The mutants come from the property tests' strategy (tests/test_properties.py: lines deleted,
duplicated, swapped, re-indented, tokens inserted, identifiers renamed, files truncated), drawn
deterministically. Each mutant is linted in this process, as `reslint FILE` would lint it, and timed.
Nothing is asserted: the run reports how many mutants gave RN004 (reslint failed) and which took
longer than --slow seconds, and writes those files to --keep for a closer look.

Run: python benchmarks/fuzz_static.py [--mutants 3000] [--slow 2.0] [--keep /tmp/reslint-fuzz]
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

from hypothesis import HealthCheck, given, settings

PROJECT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(PROJECT / "tests"))

from test_properties import mutated_fixture  # noqa: E402  (the tests folder is not a package)

from reslint.engine import lint_file  # noqa: E402


@dataclass
class Tally:
    mutants: int = 0
    seconds: list[float] = field(default_factory=list)
    codes: Counter[str] = field(default_factory=Counter)
    internal_errors: list[tuple[Path, str]] = field(default_factory=list)
    slow: list[tuple[Path, float]] = field(default_factory=list)


def fuzz(count: int, slow: float, keep: Path) -> Tally:
    tally = Tally()
    keep.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="reslint-fuzz-") as folder:
        subject = Path(folder) / "subject.py"

        @settings(
            max_examples=count,
            derandomize=True,
            database=None,
            deadline=None,
            suppress_health_check=list(HealthCheck),
        )
        @given(content=mutated_fixture())
        def lint_one(content: str) -> None:
            subject.write_text(content, encoding="utf-8")
            start = time.perf_counter()
            findings = lint_file(str(subject))
            elapsed = time.perf_counter() - start
            tally.mutants += 1
            tally.seconds.append(elapsed)
            tally.codes.update(finding.code for finding in findings)
            internal = [finding.message for finding in findings if finding.code == "RN004"]
            if internal or elapsed > slow:
                kept = keep / f"mutant{tally.mutants:05}.py"
                kept.write_text(content, encoding="utf-8")
                if internal:
                    tally.internal_errors.append((kept, internal[0]))
                if elapsed > slow:
                    tally.slow.append((kept, elapsed))

        lint_one()
    return tally


def report(tally: Tally, wall: float) -> None:
    ordered = sorted(tally.seconds)
    print(f"mutants linted: {tally.mutants} in {wall:.0f} s")
    if ordered:
        median = ordered[len(ordered) // 2]
        p99 = ordered[min(len(ordered) - 1, int(len(ordered) * 0.99))]
        print(
            f"per mutant: median {median:.3f} s, 99th percentile {p99:.3f} s, max {ordered[-1]:.2f} s"
        )
    print(f"internal errors (RN004): {len(tally.internal_errors)}")
    for path, message in tally.internal_errors[:10]:
        print(f"  {path}: {message}")
    print(f"slower than the threshold: {len(tally.slow)}")
    for path, seconds in sorted(tally.slow, key=lambda item: -item[1])[:10]:
        print(f"  {path}: {seconds:.2f} s")
    print("findings by code: " + ", ".join(f"{c} {n}" for c, n in sorted(tally.codes.items())))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--mutants", type=int, default=3000)
    parser.add_argument("--slow", type=float, default=2.0, help="seconds a file may take")
    parser.add_argument("--keep", type=Path, default=Path(tempfile.gettempdir()) / "reslint-fuzz")
    args = parser.parse_args()
    start = time.perf_counter()
    tally = fuzz(args.mutants, args.slow, args.keep)
    report(tally, time.perf_counter() - start)


if __name__ == "__main__":
    main()
