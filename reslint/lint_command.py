"""`reslint PATH...` (and `reslint - --stdin-filename PATH`): lint, report, choose the exit code.

Exit codes: 0 nothing found (or --exit-zero), 1 findings, 2 a path that could not be linted (the
findings of the others are still reported, and the summary never says "passed").
"""

from __future__ import annotations

import argparse
import contextlib
import sys
from collections.abc import Iterator
from typing import IO, TYPE_CHECKING

from reslint.cli import EXIT_CLEAN, EXIT_ERROR, EXIT_FINDINGS, UsageError
from reslint.runner import LintRun
from reslint.settings import Overrides, SettingsResolver, check_codes, check_patterns

if TYPE_CHECKING:
    from reslint.cache import Cache
    from reslint.engine import Checks
    from reslint.fix_command import FixMode
    from reslint.source import SourceFile

STDIN = "-"
MACHINE_FORMATS = ("json", "json-lines", "github", "sarif")


def lint(options: argparse.Namespace) -> int:
    if options.jobs is not None and options.jobs < 1:
        raise UsageError("--jobs must be at least 1")
    reads_stdin = options.stdin_filename is not None or STDIN in options.paths
    if reads_stdin and options.paths not in ([], [STDIN]):
        raise UsageError("- (stdin) cannot be combined with other paths")
    flags = overrides(options)
    mode = fix_mode(options)
    # stdin with --fix or --diff: the fixed source (or the diff) is what goes to stdout
    code_out: str | None = None
    if reads_stdin:
        result, code_out = _lint_stdin(options.stdin_filename or STDIN, flags, mode)
    else:
        result = _lint(options, flags, mode)
    failed = bool(result.missing)
    _notes(result, quiet=options.quiet or options.format in MACHINE_FORMATS, failed=failed)
    if code_out is not None:
        sys.stdout.write(code_out)
    if mode is not None and not mode.write:
        _write_diff(options, result, diffs_to_print=code_out is None)
    else:
        _write(options, result, failed, mode, to_stderr=code_out is not None)
    if failed:
        return EXIT_ERROR
    if mode is not None and not mode.write:  # --diff: 1 when there is something to fix, as ruff
        return EXIT_FINDINGS if result.fixed and not options.exit_zero else EXIT_CLEAN
    return EXIT_FINDINGS if result.findings and not options.exit_zero else EXIT_CLEAN


def fix_mode(options: argparse.Namespace) -> FixMode | None:
    """--diff (shows, never writes) or --fix; None for a plain lint run."""
    if not (options.fix or options.diff):
        return None  # and the engine stays unloaded: a run answered from the cache never needs it
    from reslint.fix_command import FixMode

    return FixMode(write=not options.diff, unsafe=options.unsafe_fixes)


def overrides(options: argparse.Namespace) -> Overrides:
    """The settings the command line gives (each checked: an unknown code is a ConfigError)."""
    return Overrides(
        select=check_codes(options.select, "--select") if options.select else None,
        ignore=check_codes(options.ignore, "--ignore"),
        extend_select=check_codes(options.extend_select, "--extend-select"),
        exclude=check_patterns(_split(options.exclude), "--exclude") if options.exclude else None,
        extend_exclude=check_patterns(_split(options.extend_exclude), "--extend-exclude"),
        respect_gitignore=options.respect_gitignore,
        force_exclude=options.force_exclude or None,
        config=options.config,
    )


# ----------------------------------------------------------------------------------------------------------


def _lint(options: argparse.Namespace, flags: Overrides, mode: FixMode | None) -> LintRun:
    from reslint import runner

    resolver = SettingsResolver(flags)
    if mode is not None:
        from reslint.fix_command import fix_paths

        return fix_paths(options.paths, resolver, mode)
    cache = None if options.no_cache else _cache(resolver)
    return runner.run(
        options.paths, resolver, jobs=options.jobs, cache=cache, show_progress=not options.quiet
    )


def _cache(resolver: SettingsResolver) -> Cache:
    from reslint.cache import Cache, default_directory  # not loaded at all by a --no-cache run

    return Cache(default_directory(resolver.for_folder(resolver.cwd).root))


def _lint_stdin(name: str, flags: Overrides, mode: FixMode | None) -> tuple[LintRun, str | None]:
    """The source on stdin, reported as `name`: its folder's configuration applies, and with
    --force-exclude an excluded name gives no findings (as ruff does for editors). With --fix, also
    the fixed source (with --diff, the diff) to print."""
    from reslint.discovery import excluded_explicitly
    from reslint.engine import lint_read_source
    from reslint.settings import settings_for_source
    from reslint.source import decode_source

    settings = settings_for_source(name, flags)
    checks = settings.checks_for(name)
    data = sys.stdin.buffer.read(checks.max_bytes + 1)
    if settings.force_exclude and name != STDIN and excluded_explicitly(name, settings):
        # an editor pipes the buffer through --fix: it must get it back unchanged
        return LintRun([], [], [], []), _unchanged(data, mode)
    source = (
        decode_source(name, data) if len(data) <= checks.max_bytes else _too_large(name, checks)
    )
    if mode is not None:
        from reslint.fix_command import fix_source

        return fix_source(source, settings, mode)
    result = lint_read_source(source, checks)
    sources = {name: source.text} if source.text is not None else {}
    return LintRun(result.findings, [name], [name] if result.empty else [], [], sources), None


def _unchanged(data: bytes, mode: FixMode | None) -> str | None:
    if mode is None or not mode.write:
        return None if mode is None else ""
    return data.decode("utf-8", errors="surrogateescape")


def _too_large(name: str, checks: Checks) -> SourceFile:
    from reslint.rules.RN003_file_too_large import FileTooLargeRule
    from reslint.source import SourceFile

    limit = f"{checks.max_bytes / (1024 * 1024):.1f} MB"
    message = f"stdin skipped: it is over the {limit} size limit"
    return SourceFile(name, None, FileTooLargeRule.finding(name, (1, 1, 1, 2), message))


def _notes(result: LintRun, quiet: bool, failed: bool) -> None:
    """Errors always go to stderr; notes only for people reading a text report."""
    for path in result.missing:
        print(f"reslint: error: no such file or directory: {path}", file=sys.stderr)
    if quiet:
        return
    if not result.files and not failed:
        print("reslint: note: no Python files found under the given paths", file=sys.stderr)
    for path in result.empty_files:
        print(f"reslint: note: {path} is empty, nothing to check", file=sys.stderr)


def _write(
    options: argparse.Namespace,
    result: LintRun,
    failed: bool,
    mode: FixMode | None,
    to_stderr: bool = False,
) -> None:
    from reslint.reporters import FixSummary, Report, write_report
    from reslint.reporters import statistics as statistics_report

    report = Report(
        result.findings,
        len(result.files),
        failed=failed,
        sources=result.sources,
        no_color=options.no_color,
        quiet=options.quiet,
        fixes=FixSummary(result.fixed, options.unsafe_fixes, applied=mode is not None),
    )
    with _output(options.output_file, sys.stderr if to_stderr else sys.stdout) as out:
        if options.statistics:
            statistics_report.write(report, out, as_json=options.format in MACHINE_FORMATS)
        else:
            write_report(report, options.format, out)


def _write_diff(options: argparse.Namespace, result: LintRun, diffs_to_print: bool) -> None:
    """--diff: the diffs (stdin's was printed already), then what would be fixed, on stderr."""
    from reslint.reporters import count

    with _output(options.output_file, sys.stdout) as out:
        for diff in result.diffs if diffs_to_print else ():
            out.write(diff)
    if not options.quiet:
        print(f"Would fix {count(result.fixed, 'finding')}.", file=sys.stderr)


@contextlib.contextmanager
def _output(path: str | None, default: IO[str]) -> Iterator[IO[str]]:
    if path is None:
        yield default
        default.flush()
        return
    try:
        handle = open(path, "w", encoding="utf-8")
    except OSError as error:
        raise UsageError(f"--output-file {path}: {error.strerror or error}") from None
    with handle:
        yield handle


def _split(values: list[str]) -> tuple[str, ...]:
    return tuple(part.strip() for value in values for part in value.split(",") if part.strip())
