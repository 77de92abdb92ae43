"""`reslint --fix PATH...` and `--diff`: fix the files found, write them (or show the diff), and give
the findings that are left, as a LintRun for lint_command to report.

Files are fixed one group at a time in this process (a group's files are modelled together, as the
lint run does). A file is written only when its text changed, in the encoding it was read in; the
cache is neither read nor written (the files change under it). Notebooks are fixed cell by cell
(reslint.notebook_fix) when their JSON can be written back as it was laid out.
"""

from __future__ import annotations

import difflib
import io
import sys
import tokenize
from collections.abc import Sequence
from dataclasses import dataclass

from reslint.engine import Checks, FileGroup, lint_read_source
from reslint.findings import FileResult, finding_order
from reslint.fixer import FixOutcome, fix_text
from reslint.notebook import NotANotebook, is_notebook
from reslint.notebook_fix import fix_notebook
from reslint.runner import LintRun, group_files
from reslint.settings import Settings, SettingsResolver
from reslint.source import SourceFile, read_source


@dataclass(frozen=True)
class FixMode:
    """What the command line asked for: write the fixes (--fix) or only show them (--diff)."""

    write: bool
    unsafe: bool


def fix_paths(paths: Sequence[str], resolver: SettingsResolver, mode: FixMode) -> LintRun:
    """Discover, fix and report: the findings left, the number of fixes and (--diff) the diffs."""
    from reslint.discovery import discover

    found = discover(paths, resolver)
    results: list[FileResult] = []
    run = LintRun([], [path for path, _ in found.files], [], found.missing)
    for group in group_files(found.files):
        with FileGroup(group.paths, group.settings.max_bytes) as file_group:
            for path in group.paths:
                results.append(_fix_file(path, group.settings, file_group, mode, run))
    run.findings = sorted((f for result in results for f in result.findings), key=finding_order)
    run.empty_files = [result.path for result in results if result.empty]
    return run


def fix_source(source: SourceFile, settings: Settings, mode: FixMode) -> tuple[LintRun, str]:
    """stdin: the run (its `sources` hold the fixed text, so findings are shown against it) and the
    text to print: the fixed source, or with --diff the diff."""
    name = source.path
    checks = settings.checks_for(name)
    outcome = (
        _fixed(source.text, name, checks, None, mode)
        if source.text is not None and not source.empty
        else None
    )
    if source.text is None or outcome is None:
        result = lint_read_source(source, checks)
        run = LintRun(result.findings, [name], [name] if result.empty else [], [])
        run.sources = {name: source.text} if source.text is not None else {}
        return run, "" if not mode.write else source.text or ""
    run = LintRun(outcome.findings, [name], [], [], {name: outcome.text}, fixed=outcome.fixed_count)
    return run, outcome.text if mode.write else unified_diff(name, source.text, outcome.text)


def unified_diff(path: str, before: str, after: str) -> str:
    lines = difflib.unified_diff(
        before.splitlines(keepends=True), after.splitlines(keepends=True), path, path
    )
    return "".join(line if line.endswith("\n") else line + "\n" for line in lines)


def _fix_file(
    path: str, settings: Settings, group: FileGroup, mode: FixMode, run: LintRun
) -> FileResult:
    checks = settings.checks_for(path)
    source = read_source(path, checks.max_bytes)
    if source.text is None or source.empty:
        return lint_read_source(source, checks, group)
    outcome = _fixed(source.text, path, checks, group, mode)
    if outcome is None:
        return lint_read_source(source, checks, group)
    if outcome.text != source.text:
        if mode.write and not _write(path, outcome.text):
            return lint_read_source(source, checks, group)
        run.fixed += outcome.fixed_count
        if not mode.write:
            run.diffs.append(unified_diff(path, source.text, outcome.text))
    return FileResult(path, outcome.findings)


def _fixed(
    text: str, path: str, checks: Checks, group: FileGroup | None, mode: FixMode
) -> FixOutcome | None:
    """The file fixed; None, with a note, for a notebook that cannot be written back."""
    if not is_notebook(path):
        return fix_text(text, path, checks, group, mode.unsafe)
    try:
        outcome = fix_notebook(text, path, checks, group, mode.unsafe)
    except (NotANotebook, ValueError):
        outcome = None  # not notebook JSON: the lint reports it (RN002)
    if outcome is None:
        print(
            f"reslint: note: {path} not fixed: its JSON is not laid out as Jupyter writes it",
            file=sys.stderr,
        )
    return outcome


def _write(path: str, text: str) -> bool:
    """Write `text` back in the file's own encoding (a BOM kept); False, with a note, if it cannot be."""
    try:
        with open(path, "rb") as handle:
            encoding, _ = tokenize.detect_encoding(io.BytesIO(handle.read()).readline)
        data = text.encode(encoding)
        with open(path, "wb") as handle:
            handle.write(data)
    except (OSError, SyntaxError, UnicodeError, LookupError) as error:
        print(f"reslint: error: {path} not fixed: {error}", file=sys.stderr)
        return False
    return True
