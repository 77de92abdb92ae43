"""The `reslint` command.

    reslint PATH... [--format full|concise|json|json-lines|github|sarif] [--select CODES] ...
    reslint - --stdin-filename PATH                 (the source on stdin, for editors)
    reslint --fix [--unsafe-fixes] [--diff] PATH...  (mend what can be mended; --diff only shows it)
    reslint --list-rules | --explain CODE | --version
    reslint --compare-to ARCH TARGET [--init JSON] [--timeout SECONDS]   (the dynamic pass, needs torch)
    reslint --list-references

Exit codes: 0 nothing found, 1 findings, 2 usage or internal error, 130 interrupted.

With no PATH and no other action reslint prints its usage and exits 2. pre-commit only runs the hook
when it has files to pass, so a hook run always has paths.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from collections.abc import Sequence
from typing import IO, TYPE_CHECKING, NoReturn

from reslint import __version__
from reslint.dynamic.options import add_arguments as add_dynamic_arguments
from reslint.dynamic.options import given as dynamic_options

if TYPE_CHECKING:
    from reslint.selection import Selection

EXIT_CLEAN = 0
EXIT_FINDINGS = 1
EXIT_ERROR = 2
EXIT_INTERRUPTED = 130

_DYNAMIC_MISSING = "the dynamic pass needs torch: pip install 'reslint[dynamic]'"


class UsageError(Exception):
    """A mistake in the command line: reported as 'reslint: error: ...', exit 2."""


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the console script and `python -m reslint`; returns the exit code, never raises
    (except SystemExit from argparse for --help, --version and malformed options)."""
    from reslint.settings import ConfigError

    try:
        return _main(list(sys.argv[1:] if argv is None else argv))
    except (UsageError, ConfigError) as error:
        print(f"reslint: error: {error}", file=sys.stderr)
        return EXIT_ERROR
    except KeyboardInterrupt:
        print("reslint: interrupted", file=sys.stderr)
        return EXIT_INTERRUPTED
    except BrokenPipeError:
        _silence_stdout()
        return EXIT_ERROR
    except Exception as error:  # the promise: an error message, never a traceback
        print(f"reslint: internal error: {type(error).__name__}: {error}", file=sys.stderr)
        if os.environ.get("RESLINT_DEBUG"):
            import traceback

            traceback.print_exc()
        return EXIT_ERROR


def entry() -> NoReturn:
    """The console script and `python -m reslint`: main() in a process of its own, which then ends
    without tearing the interpreter down. Freeing every module, parse tree and model one object at a
    time is about a seventh of a one-file run (measured); the operating system frees it all at once.
    The dataclass methods and regular expressions it compiles are compiled once, not at every start
    (reslint.compile_cache)."""
    import gc

    from reslint.compile_cache import compiled_once

    gc.disable()  # start-up builds objects that live for the whole run: see collections_budget
    with compiled_once():
        code = main()
    try:
        sys.stdout.flush()
        sys.stderr.flush()
    except (OSError, ValueError):
        raise SystemExit(code) from None  # the usual shutdown reports it, as it always did
    if _others_running():
        raise SystemExit(code)
    os._exit(code)


def _others_running() -> bool:
    """A thread or child process still running would be waited for (or stopped) by the usual exit."""
    threading = sys.modules.get("threading")
    multiprocessing = sys.modules.get("multiprocessing")
    return bool(
        (threading is not None and threading.active_count() > 1)
        or (multiprocessing is not None and multiprocessing.active_children())
    )


class _HelpFormatter(argparse.HelpFormatter):
    """argparse's help formatter, told the terminal's width without `shutil`: argparse makes one for
    every option it is given (to check its metavar), and importing shutil (with bz2, lzma and zlib)
    was about 1% of a one-file run."""

    def __init__(
        self,
        prog: str,
        indent_increment: int = 2,
        max_help_position: int = 24,
        width: int | None = None,
    ) -> None:
        width = _terminal_columns() - 2 if width is None else width
        super().__init__(prog, indent_increment, max_help_position, width)


def _terminal_columns() -> int:
    """The width shutil.get_terminal_size() reports: $COLUMNS, else the terminal's, else 80."""
    try:
        columns = int(os.environ.get("COLUMNS", "0"))
    except ValueError:
        columns = 0
    if columns <= 0:
        try:
            columns = os.get_terminal_size(sys.__stdout__.fileno()).columns  # type: ignore[union-attr]
        except (AttributeError, ValueError, OSError):
            columns = 0
    return columns if columns > 0 else 80


def build_parser() -> argparse.ArgumentParser:
    from reslint.reporters import FORMATS

    parser = argparse.ArgumentParser(
        prog="reslint",
        formatter_class=_HelpFormatter,
        description="Find residual-network bugs in PyTorch model code.",
        epilog="Exit codes: 0 nothing found, 1 findings, 2 usage or internal error.",
    )
    parser.add_argument(
        "paths",
        nargs="*",
        metavar="PATH",
        help="files or folders to lint (folders: every *.py and *.ipynb in them); - reads stdin",
    )
    output = parser.add_argument_group("output")
    output.add_argument(
        "--format",
        choices=(*FORMATS, "text"),
        default="full",
        help="full (default; `text` is its old name), concise, json, json-lines, github (workflow "
        "commands), sarif (SARIF 2.1.0)",
    )
    output.add_argument("--output-file", metavar="FILE", help="write the report to FILE")
    output.add_argument(
        "--statistics", action="store_true", help="count the findings of each code instead"
    )
    output.add_argument(
        "--exit-zero", action="store_true", help="exit 0 even when there are findings"
    )
    output.add_argument(
        "-q", "--quiet", action="store_true", help="print the findings only: no summary, no notes"
    )
    output.add_argument(
        "--no-color",
        action="store_true",
        help="no colors or styles in the text output (also: NO_COLOR=1)",
    )
    fixes = parser.add_argument_group("fixes")
    fixes.add_argument(
        "--fix",
        action="store_true",
        help="mend the findings marked [*] in place (safe fixes only), then report what is left",
    )
    fixes.add_argument(
        "--unsafe-fixes",
        action="store_true",
        help="with --fix or --diff, also apply fixes that change what the network computes",
    )
    fixes.add_argument(
        "--diff",
        action="store_true",
        help="print the fixes as a unified diff instead of writing them (exit 1 if there are any)",
    )
    codes = parser.add_argument_group("rule selection (codes or prefixes, comma-separated)")
    for flag, meaning in (
        ("--select", "only these (e.g. RN2,RN301; ALL for every code)"),
        ("--ignore", "not these"),
        ("--extend-select", "these too, on top of the selection"),
    ):
        codes.add_argument(flag, action="append", default=[], metavar="CODES", help=meaning)
    files = parser.add_argument_group("files")
    files.add_argument(
        "--config",
        metavar="FILE",
        help="use this reslint.toml or pyproject.toml for every file (default: the nearest one "
        "found walking up from each file)",
    )
    files.add_argument(
        "--exclude",
        action="append",
        default=[],
        metavar="PATTERNS",
        help="gitignore-style patterns to skip, replacing the default excludes",
    )
    files.add_argument(
        "--extend-exclude",
        action="append",
        default=[],
        metavar="PATTERNS",
        help="gitignore-style patterns to skip, on top of the default excludes",
    )
    files.add_argument(
        "--respect-gitignore",
        action=argparse.BooleanOptionalAction,
        default=None,
        help="skip files that .gitignore ignores (default: yes)",
    )
    files.add_argument(
        "--force-exclude",
        action="store_true",
        help="apply the excludes to files named on the command line too (for pre-commit)",
    )
    files.add_argument(
        "--stdin-filename",
        metavar="PATH",
        help="read the source from stdin and report it as PATH (for editors)",
    )
    files.add_argument(
        "--no-cache",
        action="store_true",
        help="lint every file afresh, neither reading nor writing .reslint_cache/",
    )
    files.add_argument(
        "--jobs",
        type=int,
        default=None,
        metavar="N",
        help="worker processes (default: the number of cores for large runs, 1 for small ones)",
    )
    parser.add_argument("--list-rules", action="store_true", help="list every rule and exit")
    parser.add_argument(
        "--explain", metavar="CODE", help="print the documentation of a rule and exit"
    )
    parser.add_argument("--version", action="version", version=f"reslint {__version__}")
    dynamic = parser.add_argument_group(
        "dynamic pass (needs torch: pip install 'reslint[dynamic]')"
    )
    dynamic.add_argument(
        "--compare-to",
        nargs=2,
        metavar=("ARCH", "TARGET"),
        help="build TARGET (path/to/file.py:Name or package.module:Name) and compare it with the reference ARCH",
    )
    dynamic.add_argument(
        "--init", metavar="JSON", help="constructor arguments for TARGET as a JSON object"
    )
    dynamic.add_argument(
        "--timeout",
        type=float,
        default=None,
        metavar="SECONDS",
        help="give up on the dynamic pass after this long (default: 60)",
    )
    dynamic.add_argument(
        "--analysis",
        choices=("auto", "sampled", "symbolic"),
        default=None,
        help="how input sizes are explored: sampled (hypothesis), symbolic (torch.export with dynamic "
        "height/width, slower), or auto (default: symbolic only once sampling finds a failure)",
    )
    add_dynamic_arguments(dynamic)
    dynamic.add_argument(
        "--list-references", action="store_true", help="list the reference architectures and exit"
    )
    return parser


def _main(argv: list[str]) -> int:
    parser = build_parser()
    options = parser.parse_args(argv)
    _reconfigure_output()
    if options.format == "text":
        options.format = "full"
    actions = [
        name
        for name, given in (
            ("PATH", bool(options.paths) or options.stdin_filename is not None),
            ("--list-rules", options.list_rules),
            ("--explain", options.explain is not None),
            ("--compare-to", options.compare_to is not None),
            ("--list-references", options.list_references),
        )
        if given
    ]
    if len(actions) > 1:
        raise UsageError(f"{' and '.join(actions)} cannot be used together")
    if options.compare_to is None and (
        options.init is not None or options.timeout is not None or options.analysis is not None
    ):
        raise UsageError("--init, --timeout and --analysis only apply to --compare-to")
    if options.compare_to is None and dynamic_options(options):
        raise UsageError("--output and --table only apply to --compare-to")
    if (options.fix or options.diff) and "PATH" not in actions:
        raise UsageError("--fix and --diff need a PATH to fix (or - for stdin)")
    if (options.fix or options.diff) and options.statistics:
        raise UsageError("--statistics cannot be used with --fix or --diff")
    if not actions:
        parser.print_usage(sys.stderr)
        print(
            "reslint: error: give at least one PATH to lint (or --list-rules, --explain CODE, --compare-to ARCH TARGET)",
            file=sys.stderr,
        )
        return EXIT_ERROR
    if options.list_rules:
        return list_rules(options.format)
    if options.explain is not None:
        return explain(options.explain, options.format, options.no_color)
    if options.compare_to is not None:
        return _compare(options)
    if options.list_references:
        return _list_references(options.format)
    from reslint.lint_command import lint

    return lint(options)


def list_rules(output_format: str = "full") -> int:
    """Every code, static (RN) and dynamic (RD)."""
    from reslint.vocabulary import all_codes

    rows = [
        {
            "code": info.code,
            "name": info.name,
            "severity": info.severity.value,
            "pass": info.origin,
            "summary": ("(opt-in) " if info.opt_in else "") + info.summary,
        }
        for info in all_codes()
    ]
    if output_format == "json":
        print(json.dumps(rows, indent=2, ensure_ascii=False))
        return EXIT_CLEAN
    columns = ("code", "name", "severity", "pass")
    widths = {column: max([len(column)] + [len(row[column]) for row in rows]) for column in columns}
    for row in [{column: column for column in (*columns, "summary")}, *rows]:
        print(
            "  ".join(row[column].ljust(widths[column]) for column in columns)
            + "  "
            + row["summary"]
        )
    return EXIT_CLEAN


def explain(code: str, output_format: str = "full", no_color: bool = False) -> int:
    """A code's documentation: rendered Markdown on a terminal, the Markdown itself otherwise."""
    from reslint.vocabulary import lookup

    info = lookup(code)
    if info is None:
        raise UsageError(f"unknown rule code: {code} (see reslint --list-rules)")
    if output_format == "json":
        print(
            json.dumps(
                {
                    "code": info.code,
                    "name": info.name,
                    "severity": info.severity.value,
                    "pass": info.origin,
                    "summary": info.summary,
                    "documentation": info.documentation,
                },
                indent=2,
                ensure_ascii=False,
            )
        )
        return EXIT_CLEAN
    title = f"{info.code} {info.name} ({info.severity.value}, {info.origin} pass)"
    if sys.stdout.isatty():
        render_documentation(title, info.documentation, no_color)
    else:
        print(f"{title}\n\n{info.documentation}")
    return EXIT_CLEAN


def render_documentation(
    title: str, documentation: str, no_color: bool = False, file: IO[str] | None = None
) -> None:
    from rich.markdown import Markdown

    from reslint.reporters.console import make_console

    console = make_console(no_color, file)
    console.print(Markdown(f"# {title}\n\n{documentation}"))


# ----------------------------------------------------------------------------------------------------------
# The dynamic pass lives in reslint.dynamic and needs torch; it is imported only when asked for.


def _compare(options: argparse.Namespace) -> int:
    if options.format not in ("full", "concise", "json"):
        raise UsageError(f"--compare-to prints text or json, not --format {options.format}")
    arch, target = options.compare_to
    init = _parse_init(options.init)
    timeout = 60.0 if options.timeout is None else options.timeout
    if not timeout > 0:
        raise UsageError("--timeout must be a positive number of seconds")
    dynamic = _import_dynamic()
    if dynamic is None:
        return EXIT_ERROR
    extra = {"analysis": options.analysis} if options.analysis not in (None, "auto") else {}
    output_format = "json" if options.format == "json" else "text"
    selected = _selection(options)
    extra |= dynamic_options(options)
    return int(
        dynamic.run_compare(
            arch,
            target,
            init,
            timeout,
            output_format,
            options.no_color,
            selected=lambda code: selected.enables(code),
            **extra,
        )
    )


def _selection(options: argparse.Namespace) -> Selection:
    """--select/--ignore (and the configuration file's) apply to the dynamic pass's codes too."""
    from reslint.lint_command import overrides
    from reslint.settings import SettingsResolver

    return SettingsResolver(overrides(options)).for_folder(os.getcwd()).selection


def _list_references(output_format: str) -> int:
    dynamic = _import_dynamic()
    if dynamic is None:
        return EXIT_ERROR
    return int(dynamic.list_references(output_format))


def _parse_init(text: str | None) -> dict:
    if text is None:
        return {}
    try:
        value = json.loads(text)
    except json.JSONDecodeError as error:
        raise UsageError(
            f"--init is not valid JSON ({error.msg} at column {error.colno}); "
            "give a JSON object, e.g. --init '{\"num_classes\": 10}'"
        ) from None
    if not isinstance(value, dict):
        raise UsageError(
            f"--init must be a JSON object, e.g. --init '{{\"num_classes\": 10}}', not {type(value).__name__}"
        )
    return value


def _import_dynamic():
    import importlib.util

    if importlib.util.find_spec("torch") is None:
        print(f"reslint: error: {_DYNAMIC_MISSING}", file=sys.stderr)
        return None
    try:
        from reslint.dynamic import cli as dynamic
    except ImportError as error:
        missing = getattr(error, "name", None) or ""
        if missing.split(".")[0] in {"torch", "hypothesis"}:
            print(f"reslint: error: {_DYNAMIC_MISSING} ({error})", file=sys.stderr)
        else:
            print(f"reslint: error: the dynamic pass could not be loaded: {error}", file=sys.stderr)
        return None
    return dynamic


# ----------------------------------------------------------------------------------------------------------


def _reconfigure_output() -> None:
    """Source lines may hold any character; a console that cannot encode one shows '?' instead of failing."""
    for stream in (sys.stdout, sys.stderr):
        reconfigure = getattr(stream, "reconfigure", None)
        if reconfigure is not None:
            try:
                reconfigure(errors="replace")
            except (ValueError, OSError):
                pass


def _silence_stdout() -> None:
    # The reader went away (`reslint ... | head`): stop Python from complaining again at exit.
    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
    except (OSError, ValueError):
        pass
