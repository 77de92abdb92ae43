"""Real bugs from public hand-written ResNets (real_bugs.toml): which of them does reslint report?

    python benchmarks/recall/real_bugs.py                    # mirrors under /work/.mirror (or $RESLINT_MIRRORS)
    python benchmarks/recall/real_bugs.py --mirrors DIR --json out.json

The repositories are never copied into this project. Each entry names a repository, a commit and a path;
the file is read from a local git mirror (DIR/<owner>+<name>/repo, a bare or a normal clone) with
`git show COMMIT:PATH`. Entries whose repository or commit is not available are skipped with a note.
A bug is found when reslint has a finding on its `line` or on one of its `also` lines. `[[clean]]`
entries are correct files: every finding on them is a false-alarm candidate. Needs Python 3.11+ (tomllib).
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path

import tomllib
from linter import Finding, lint_folder

HERE = Path(__file__).resolve().parent


@dataclass(frozen=True)
class Entry:
    repo: str
    path: str
    commit: str
    kind: str = "clean"
    line: int = 0
    also: tuple[int, ...] = ()
    explanation: str = ""

    @property
    def lines(self) -> set[int]:
        return {self.line, *self.also}

    @property
    def file_key(self) -> str:
        return f"{self.repo}@{self.commit[:10]}:{self.path}"


@dataclass
class Loaded:
    texts: dict[str, str] = field(default_factory=dict)  # file_key -> source
    notes: list[str] = field(default_factory=list)


def read_entries(path: Path) -> tuple[list[Entry], list[Entry]]:
    data = tomllib.loads(path.read_text(encoding="utf-8"))
    bugs = [Entry(**{**item, "also": tuple(item.get("also", ()))}) for item in data.get("bug", [])]
    clean = [Entry(**item) for item in data.get("clean", [])]
    return bugs, clean


def git_dir(mirrors: Path, repo: str) -> Path | None:
    base = mirrors / repo.replace("/", "+", 1) / "repo"
    for candidate in (base / ".git", base):
        if (candidate / "HEAD").exists():
            return candidate
    return None


def load(entries: list[Entry], mirrors: Path) -> Loaded:
    loaded = Loaded()
    for entry in entries:
        if entry.file_key in loaded.texts:
            continue
        where = git_dir(mirrors, entry.repo)
        if where is None:
            loaded.notes.append(f"skipped {entry.repo}: no mirror under {mirrors}")
            continue
        shown = subprocess.run(
            ["git", "--git-dir", str(where), "show", f"{entry.commit}:{entry.path}"],
            capture_output=True,
        )
        if shown.returncode != 0:
            loaded.notes.append(
                f"skipped {entry.file_key}: {shown.stderr.decode(errors='replace').strip()}"
            )
            continue
        loaded.texts[entry.file_key] = shown.stdout.decode("utf-8", errors="replace")
    return loaded


def lint(texts: dict[str, str], jobs: int) -> tuple[dict[str, list[Finding]], str]:
    """Each file alone in its own folder (named as in its repository), all in one reslint run."""
    with tempfile.TemporaryDirectory(prefix="reslint-real-") as temporary:
        folder = Path(temporary)
        names = {}
        for index, (key, text) in enumerate(sorted(texts.items())):
            relative = f"{index:03d}/{key.split(':', 1)[1]}"
            target = folder / relative
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_text(text, encoding="utf-8")
            names[relative] = key
        run = lint_folder(folder, jobs)
    return {key: run.findings.get(relative, []) for relative, key in names.items()}, run.error


def describe(findings: list[Finding]) -> str:
    return ", ".join(f"{f.code}@{f.line}" for f in findings) or "nothing"


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    default_mirrors = os.environ.get("RESLINT_MIRRORS", "/work/.mirror")
    parser.add_argument(
        "--mirrors", type=Path, default=Path(default_mirrors), help="folder of git mirrors"
    )
    parser.add_argument(
        "--list", type=Path, default=HERE / "real_bugs.toml", help="the TOML list of bugs"
    )
    parser.add_argument("--jobs", type=int, default=2)
    parser.add_argument("--json", type=Path, metavar="OUT")
    options = parser.parse_args()
    bugs, clean = read_entries(options.list)
    loaded = load(bugs + clean, options.mirrors)
    for note in loaded.notes:
        print(note, file=sys.stderr)
    findings, error = lint(loaded.texts, options.jobs) if loaded.texts else ({}, "")
    if error:
        print(f"reslint failed: {error}", file=sys.stderr)
        return 1
    results = []
    per_kind: dict[str, list[bool]] = defaultdict(list)
    for bug in bugs:
        if bug.file_key not in findings:
            continue
        hits = [f for f in findings[bug.file_key] if f.line in bug.lines]
        per_kind[bug.kind].append(bool(hits))
        results.append(
            {
                "bug": bug.__dict__ | {"also": list(bug.also)},
                "found": bool(hits),
                "by": describe(hits),
            }
        )
        mark = "found " if hits else "MISSED"
        print(f"{mark} {bug.repo}/{bug.path}:{bug.line} [{bug.kind}] {bug.explanation}")
        if hits:
            print(f"         by {describe(hits)}")
    print("\n== clean files (every finding is a false-alarm candidate) ==")
    alarms = []
    for entry in clean:
        for finding in findings.get(entry.file_key, []):
            alarms.append(
                {
                    "file": entry.file_key,
                    "line": finding.line,
                    "code": finding.code,
                    "message": finding.message,
                }
            )
            print(f"{entry.repo}/{entry.path}:{finding.line}: {finding.code} {finding.message}")
    checked = sum(1 for entry in clean if entry.file_key in findings)
    print(f"{checked} clean files checked, {len(alarms)} findings")
    print("\n== per kind ==")
    for kind, outcomes in sorted(per_kind.items()):
        print(f"{kind:<28} {sum(outcomes)}/{len(outcomes)}")
    found = sum(r["found"] for r in results)
    print(
        f"\nreal bugs found: {found}/{len(results)} evaluated ({len(bugs) - len(results)} not available)"
    )
    if options.json:
        options.json.write_text(
            json.dumps({"bugs": results, "clean_findings": alarms}, indent=1), encoding="utf-8"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
