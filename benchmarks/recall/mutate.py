"""Recall benchmark: plant one bug per copy of real ResNet-family files and count what reslint reports.

    python benchmarks/recall/mutate.py                       # every package, every kind, <= 2 sites per file and kind
    python benchmarks/recall/mutate.py --quick               # <= 1 site per file and kind
    python benchmarks/recall/mutate.py --packages timm mmdet --kinds relu-in-shortcut --json out.json
    python benchmarks/recall/mutate.py --folder ~/my_models     # your own files instead of the wheels

A bug is found when a finding of any code, absent from the unmutated file at the same place, lies on one
of the lines the bug's kind names (operators.py); "family" also asks for the kind's expected codes.
Every finding on the unmutated files is listed: each is a false alarm unless someone can defend it.

By default each file and each mutant is linted alone, the conservative figure. `--with-imports` lints
each together with the files of its own archive that it imports relatively (siblings.py), as a user
who runs `reslint mmdet/models/backbones/` does, and still counts findings only in the file itself.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import time
from collections import defaultdict
from dataclasses import dataclass
from pathlib import Path

import corpus
from linter import Finding, LintRun, lint_folder
from mutants import Harvest, Mutant, harvest
from operators import KINDS, Kind
from siblings import sibling_files

# Archive path -> text of the files each corpus file imports relatively (by RealFile.label); empty
# unless --with-imports.
Siblings = dict[str, dict[str, str]]


@dataclass
class Outcome:
    mutant: Mutant
    found: bool
    family: bool
    new_findings: list[Finding]


def arguments() -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument(
        "--packages", nargs="+", metavar="NAME", help="only these packages (corpus.py names)"
    )
    parser.add_argument(
        "--kinds", nargs="+", metavar="KIND", help="only these bug kinds (operators.py names)"
    )
    parser.add_argument(
        "--cap",
        type=int,
        default=2,
        help="sites per file and kind, sampled deterministically (0: all)",
    )
    parser.add_argument("--quick", action="store_true", help="same as --cap 1")
    parser.add_argument("--jobs", type=int, default=2, help="reslint --jobs (default 2)")
    parser.add_argument(
        "--json", type=Path, metavar="OUT", help="write everything machine-readable to OUT"
    )
    parser.add_argument(
        "--misses", type=int, default=2, help="missed examples shown per kind (default 2)"
    )
    parser.add_argument(
        "--with-imports",
        action="store_true",
        help="lint each file with the files of its package it imports relatively (default: alone)",
    )
    parser.add_argument(
        "--keep", type=Path, metavar="DIR", help="write the mutants under DIR and keep them"
    )
    parser.add_argument(
        "--folder",
        type=Path,
        metavar="DIR",
        help="mutate the *.py files under DIR instead of the wheels (its first folders name the packages)",
    )
    held_out = parser.add_mutually_exclusive_group()
    held_out.add_argument(
        "--heldout",
        action="store_true",
        help="mutate the held-out files (corpus.HELDOUT), which reslint was not tuned on",
    )
    held_out.add_argument(
        "--heldout2",
        action="store_true",
        help="mutate the second held-out set (corpus.HELDOUT2), packages none of the others hold",
    )
    held_out.add_argument(
        "--heldout3",
        action="store_true",
        help="mutate the third held-out set (corpus.HELDOUT3), packages none of the others hold",
    )
    options = parser.parse_args()
    if options.folder and (
        options.packages
        or options.with_imports
        or options.heldout
        or options.heldout2
        or options.heldout3
    ):
        parser.error(
            "--folder takes none of --packages, --with-imports, --heldout, --heldout2, --heldout3"
        )
    if options.folder and not options.folder.is_dir():
        parser.error(f"--folder {options.folder}: not a directory")
    known_kinds = {kind.name for kind in KINDS}
    known_packages = {package.name for package in chosen_packages(options)}
    for wanted, known, what in (
        (options.kinds, known_kinds, "kind"),
        (options.packages, known_packages, "package"),
    ):
        unknown = sorted(set(wanted or ()) - known)
        if unknown:
            parser.error(
                f"unknown {what}: {', '.join(unknown)} (known: {', '.join(sorted(known))})"
            )
    if options.quick:
        options.cap = 1
    return options


def chosen_packages(options: argparse.Namespace) -> tuple[corpus.Package, ...]:
    if options.heldout2:
        return corpus.HELDOUT2
    if options.heldout3:
        return corpus.HELDOUT3
    return corpus.HELDOUT if options.heldout else corpus.PACKAGES


def write(folder: Path, relative: str, text: str) -> None:
    target = folder / relative
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_text(text, encoding="utf-8")


def write_with_siblings(folder: Path, real: corpus.RealFile, text: str, siblings: Siblings) -> None:
    """`text` at the file's archive path under `folder`, its siblings (if any) beside it."""
    for path, sibling_text in siblings.get(real.label, {}).items():
        write(folder, path, sibling_text)
    write(folder, real.path, text)


def lint_originals(
    work: Path, files: list[corpus.RealFile], jobs: int, siblings: Siblings
) -> tuple[dict[str, list[Finding]], LintRun]:
    """Each original in its own folder (as each mutant is), linted in one run."""
    folder = work / "originals"
    names = {f"{index:03d}/{real.path}": real for index, real in enumerate(files)}
    for index, real in enumerate(files):
        write_with_siblings(folder / f"{index:03d}", real, real.text, siblings)
    run = lint_folder(folder, jobs)
    return {real.label: run.findings.get(relative, []) for relative, real in names.items()}, run


def lint_mutants(
    work: Path, harvested: Harvest, jobs: int, siblings: Siblings
) -> tuple[dict[str, list[Finding]], list[LintRun], list[str]]:
    """One reslint run per package; each mutant in its own folder, so imports never mix copies."""
    by_package: dict[str, list[Mutant]] = defaultdict(list)
    for mutant in harvested.mutants:
        by_package[mutant.original.package].append(mutant)
    found: dict[str, list[Finding]] = {}
    runs: list[LintRun] = []
    errors: list[str] = []
    for package, mutants in by_package.items():
        folder = work / "mutants" / package
        names = {
            f"{index:04d}/{mutant.original.path}": mutant for index, mutant in enumerate(mutants)
        }
        for index, mutant in enumerate(mutants):
            write_with_siblings(
                folder / f"{index:04d}", mutant.original, mutant.applied.text, siblings
            )
        run = lint_folder(folder, jobs)
        runs.append(run)
        if run.error:
            errors.append(f"{package}: {run.error}")
        for relative, mutant in names.items():
            found[mutant.identifier] = run.findings.get(relative, [])
    return found, runs, errors


def score(mutant: Mutant, findings: list[Finding], baseline: list[Finding], kind: Kind) -> Outcome:
    already = {(f.code, mutant.applied.old_to_new.get(f.line, f.line)) for f in baseline}
    new = [f for f in findings if (f.code, f.line) not in already]
    expected = set(mutant.applied.expected_lines)
    on_line = [f for f in new if f.line in expected]
    family = any(f.code.startswith(kind.codes) for f in on_line)
    return Outcome(mutant, bool(on_line), family, new)


def rate(hits: int, total: int) -> str:
    return f"{100 * hits / total:5.1f}%" if total else "    -"


def table(rows: dict[str, list[Outcome]], header: str) -> list[str]:
    lines = [f"{header:<28} {'bugs':>5} {'found':>6} {'recall':>7} {'family':>7}"]
    for name, outcomes in rows.items():
        found = sum(o.found for o in outcomes)
        family = sum(o.family for o in outcomes)
        total = len(outcomes)
        lines.append(
            f"{name:<28} {total:>5} {found:>6} {rate(found, total):>7} {rate(family, total):>7}"
        )
    return lines


def report(
    outcomes: list[Outcome], harvested: Harvest, baseline: dict[str, list[Finding]], misses: int
) -> list[str]:
    by_kind: dict[str, list[Outcome]] = {
        kind.name: [] for kind in KINDS if harvested.sites[kind.name]
    }
    for outcome in outcomes:
        by_kind.setdefault(outcome.mutant.kind, []).append(outcome)
    return (
        recall_tables(outcomes, by_kind)
        + sites_section(by_kind, harvested)
        + baseline_section(baseline)
        + misses_section(by_kind, misses)
    )


def recall_tables(outcomes: list[Outcome], by_kind: dict[str, list[Outcome]]) -> list[str]:
    by_package: dict[str, list[Outcome]] = defaultdict(list)
    by_issue: dict[str, list[Outcome]] = defaultdict(list)
    issue_of = {kind.name: kind.issue for kind in KINDS}
    for outcome in outcomes:
        by_package[outcome.mutant.original.package].append(outcome)
        by_issue[f"issue {issue_of[outcome.mutant.kind]} kinds"].append(outcome)
    lines = ["", "== recall per kind (issue 6 kinds first, then issue 7) =="] + table(
        by_kind, "kind"
    )
    lines += ["", "== recall per package =="] + table(dict(sorted(by_package.items())), "package")
    lines += ["", "== overall =="] + table({"all": outcomes, **dict(sorted(by_issue.items()))}, "")[
        1:
    ]
    return lines


def sites_section(by_kind: dict[str, list[Outcome]], harvested: Harvest) -> list[str]:
    lines = ["", "== sites and discarded mutants =="]
    for name in by_kind:
        dropped = {why: n for (kind, why), n in harvested.discarded.items() if kind == name}
        lines.append(f"{name:<28} sites {harvested.sites[name]:>5}  discarded {dropped or 0}")
    return lines + [f"unreadable: {entry}" for entry in harvested.unreadable]


def baseline_section(baseline: dict[str, list[Finding]]) -> list[str]:
    lines = ["", "== findings on the unmutated files (false-alarm candidates) =="]
    for label, findings in baseline.items():
        for finding in sorted(findings, key=lambda f: f.line):
            lines.append(f"{label}:{finding.line}: {finding.code} {finding.message}")
    return lines if any(baseline.values()) else [*lines, "none"]


def misses_section(by_kind: dict[str, list[Outcome]], misses: int) -> list[str]:
    lines = ["", f"== missed examples (up to {misses} per kind) =="]
    for name, group in by_kind.items():
        for outcome in [o for o in group if not o.found][:misses]:
            where = f"{outcome.mutant.identifier}, expected lines {outcome.mutant.applied.expected_lines}"
            lines += [f"-- {name}: {where}", outcome.mutant.snippet]
    return lines


def reslint_version() -> str:
    root = Path(__file__).resolve().parents[2]
    result = subprocess.run(
        ["git", "-C", str(root), "rev-parse", "--short", "HEAD"], capture_output=True, text=True
    )
    return result.stdout.strip() or "unknown"


def as_json(
    outcomes: list[Outcome],
    harvested: Harvest,
    baseline: dict[str, list[Finding]],
    timing: dict,
    options: argparse.Namespace,
) -> dict:
    folder = options.folder
    return {
        "reslint_commit": reslint_version(),
        "with_imports": options.with_imports,
        "heldout": options.heldout,
        "heldout2": options.heldout2,
        "heldout3": options.heldout3,
        "folder": str(folder) if folder else None,
        "packages": {} if folder else {p.name: p.version for p in chosen_packages(options)},
        "timing_seconds": timing,
        "sites": dict(harvested.sites),
        "discarded": [
            {"kind": k, "why": w, "count": n} for (k, w), n in sorted(harvested.discarded.items())
        ],
        "unreadable": harvested.unreadable,
        "baseline_findings": [
            {"file": label, "line": f.line, "code": f.code, "message": f.message}
            for label, findings in baseline.items()
            for f in findings
        ],
        "mutants": [
            {
                "id": o.mutant.identifier,
                "kind": o.mutant.kind,
                "package": o.mutant.original.package,
                "path": o.mutant.original.path,
                "expected_lines": list(o.mutant.applied.expected_lines),
                "found": o.found,
                "found_family": o.family,
                "new_findings": [
                    {"line": f.line, "code": f.code, "message": f.message} for f in o.new_findings
                ],
                "snippet": o.mutant.snippet,
            }
            for o in outcomes
        ],
    }


def main() -> int:
    options = arguments()
    started = time.perf_counter()
    files, notes = (
        corpus.load_folder(options.folder)
        if options.folder
        else corpus.load(
            set(options.packages) if options.packages else None, chosen_packages(options)
        )
    )
    for note in notes:
        print(note, file=sys.stderr)
    if not files:
        print("no corpus file could be had (is the package registry reachable?)", file=sys.stderr)
        return 2
    kinds = [kind for kind in KINDS if not options.kinds or kind.name in options.kinds]
    harvested = harvest(files, kinds, options.cap, options.jobs)
    siblings = {real.label: sibling_files(real) for real in files} if options.with_imports else {}
    made = time.perf_counter()
    with tempfile.TemporaryDirectory(prefix="reslint-recall-") as temporary:
        work = options.keep or Path(temporary)
        baseline, original_run = lint_originals(work, files, options.jobs, siblings)
        findings, runs, errors = lint_mutants(work, harvested, options.jobs, siblings)
    errors = ([f"originals: {original_run.error}"] if original_run.error else []) + errors
    kinds_by_name = {kind.name: kind for kind in KINDS}
    outcomes = [
        score(m, findings.get(m.identifier, []), baseline[m.original.label], kinds_by_name[m.kind])
        for m in harvested.mutants
    ]
    timing = {
        "download_and_mutate": round(made - started, 1),
        "lint_originals": round(original_run.seconds, 1),
        "lint_mutants": round(sum(run.seconds for run in runs), 1),
        "total": round(time.perf_counter() - started, 1),
    }
    lines_total = sum(len(real.text.splitlines()) for real in files)
    print(
        f"corpus: {len(files)} files, {lines_total} lines, {len({f.package for f in files})} packages; "
        f"{len(harvested.mutants)} mutants (cap {options.cap or 'none'} per file and kind); reslint {reslint_version()}; "
        + (
            "each linted with the files it imports"
            if options.with_imports
            else "each file linted alone"
        )
    )
    print("\n".join(report(outcomes, harvested, baseline, options.misses)))
    print(f"\ntiming (s): {timing}")
    for error in errors:
        print(f"reslint failed: {error}", file=sys.stderr)
    if options.json:
        options.json.write_text(
            json.dumps(
                as_json(outcomes, harvested, baseline, timing, options),
                indent=1,
            ),
            encoding="utf-8",
        )
    return 1 if errors else 0


if __name__ == "__main__":
    sys.exit(main())
