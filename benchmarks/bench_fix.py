"""What `reslint --fix` costs over a lint run: whole processes on a copy of the bug fixtures and seeds.

Each round of fixes lints the file again (and checks that the result still parses), so a file with
fixes costs a few lints; a file without costs one, as a plain run. `--diff` is timed rather than
`--fix` so that every run starts from the same files.

Run: python benchmarks/bench_fix.py [--runs 5]
"""

from __future__ import annotations

import argparse
import shutil
import sys
import tempfile
from pathlib import Path

from bench_static import measure, print_table

PROJECT = Path(__file__).resolve().parents[1]
SOURCES = sorted((PROJECT / "fixtures" / "bugs").glob("*.py")) + sorted(
    (PROJECT / "fixtures" / "seeds").glob("*.py")
)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=5)
    options = parser.parse_args()
    reslint = [sys.executable, "-m", "reslint", "--no-cache", "--quiet", "--jobs", "1"]
    with tempfile.TemporaryDirectory(prefix="reslint-bench-fix-") as folder:
        for source in SOURCES:
            shutil.copy2(source, folder)
        rows = measure(
            {
                f"reslint FOLDER ({len(SOURCES)} files)": [*reslint, folder],
                "reslint --diff FOLDER": [*reslint, "--diff", folder],
                "reslint --diff --unsafe-fixes FOLDER": [
                    *reslint,
                    "--diff",
                    "--unsafe-fixes",
                    folder,
                ],
            },
            options.runs,
        )
    print_table("--fix against a plain lint run (fixtures/bugs + fixtures/seeds)", rows)
    lint, safe, unsafe = (row.median for row in rows)
    print(
        f"\n  --diff costs {safe / lint:.2f}x a lint run; with --unsafe-fixes {unsafe / lint:.2f}x"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
