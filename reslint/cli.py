"""The `reslint` command.

    reslint PATH... [--format text|json] [--select CODES] [--ignore CODES] [--no-color]
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

from reslint import __version__
from reslint.dynamic.options import add_arguments as add_dynamic_arguments
from reslint.dynamic.options import given as dynamic_options

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
    try:
        return _main(list(sys.argv[1:] if argv is None else argv))
    except UsageError as error:
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


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="reslint",
        description="Find residual-network bugs in PyTorch model code.",
        epilog="Exit codes: 0 nothing found, 1 findings, 2 usage or internal error.",
    )
    parser.add_argument(
        "paths",
        nargs="*",
        metavar="PATH",
        help="files or folders to lint (folders: every *.py in them)",
    )
    parser.add_argument(
        "--format", choices=("text", "json"), default="text", help="output format (default: text)"
    )
    parser.add_argument(
        "--select",
        action="append",
        default=[],
        metavar="CODES",
        help="only these codes or prefixes, comma-separated (e.g. RN2,RN301)",
    )
    parser.add_argument(
        "--ignore",
        action="append",
        default=[],
        metavar="CODES",
        help="skip these codes or prefixes, comma-separated",
    )
    parser.add_argument(
        "--no-color",
        action="store_true",
        help="no colors or styles in the text output (also: NO_COLOR=1)",
    )
    parser.add_argument(
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
    actions = [
        name
        for name, given in (
            ("PATH", bool(options.paths)),
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
        return explain(options.explain, options.format)
    if options.compare_to is not None:
        return _compare(options)
    if options.list_references:
        return _list_references(options.format)
    return lint(options)


# ----------------------------------------------------------------------------------------------------------
# The static pass.


def lint(options: argparse.Namespace) -> int:
    from reslint import engine
    from reslint.report import print_json_report, print_text_report

    select, ignore = _codes(options.select), _codes(options.ignore)
    unknown = engine.unknown_selectors(select + ignore, [rule.code for rule in engine.all_rules()])
    if unknown:
        raise UsageError(
            f"unknown rule code or prefix: {', '.join(unknown)} (see reslint --list-rules)"
        )
    if options.jobs is not None and options.jobs < 1:
        raise UsageError("--jobs must be at least 1")
    result = engine.run(options.paths, select=select, ignore=ignore, jobs=options.jobs)
    for path in result.missing:
        print(f"reslint: error: no such file or directory: {path}", file=sys.stderr)
    if not result.files and not result.missing:
        print("reslint: note: no Python files found under the given paths", file=sys.stderr)
    if options.format == "json":
        print_json_report(result.findings)
    else:
        for path in result.empty_files:
            print(f"reslint: note: {path} is empty, nothing to check", file=sys.stderr)
        print_text_report(result.findings, len(result.files), options.no_color, result.sources)
    for error in result.internal_errors:
        print(f"reslint: {error}", file=sys.stderr)
    sys.stdout.flush()
    if result.missing or result.internal_errors:
        return EXIT_ERROR
    return EXIT_FINDINGS if result.findings else EXIT_CLEAN


def _codes(values: list[str]) -> list[str]:
    return [code.strip() for value in values for code in value.split(",") if code.strip()]


def list_rules(output_format: str = "text") -> int:
    from reslint.engine import all_rules

    rows = [
        {
            "code": rule.code,
            "name": rule.name,
            "severity": _severity_name(rule),
            "summary": rule.summary(),
        }
        for rule in all_rules()
    ]
    if output_format == "json":
        print(json.dumps(rows, indent=2, ensure_ascii=False))
        return EXIT_CLEAN
    widths = {
        column: max([len(column)] + [len(row[column]) for row in rows])
        for column in ("code", "name", "severity")
    }
    for row in [
        {"code": "code", "name": "name", "severity": "severity", "summary": "summary"}
    ] + rows:
        print(
            "  ".join(row[column].ljust(widths[column]) for column in widths)
            + "  "
            + row["summary"]
        )
    return EXIT_CLEAN


def explain(code: str, output_format: str = "text") -> int:
    from reslint.engine import rule_for_code

    rule = rule_for_code(code)
    if rule is None:
        raise UsageError(f"unknown rule code: {code} (see reslint --list-rules)")
    if output_format == "json":
        print(
            json.dumps(
                {
                    "code": rule.code,
                    "name": rule.name,
                    "severity": _severity_name(rule),
                    "summary": rule.summary(),
                    "documentation": rule.documentation(),
                },
                indent=2,
                ensure_ascii=False,
            )
        )
        return EXIT_CLEAN
    print(f"{rule.code} {rule.name} ({_severity_name(rule)})\n")
    print(rule.documentation() or rule.summary())
    return EXIT_CLEAN


def _severity_name(rule) -> str:
    return getattr(rule.severity, "value", str(rule.severity))


# ----------------------------------------------------------------------------------------------------------
# The dynamic pass lives in reslint.dynamic and needs torch; it is imported only when asked for.


def _compare(options: argparse.Namespace) -> int:
    arch, target = options.compare_to
    init = _parse_init(options.init)
    timeout = 60.0 if options.timeout is None else options.timeout
    if not timeout > 0:
        raise UsageError("--timeout must be a positive number of seconds")
    dynamic = _import_dynamic()
    if dynamic is None:
        return EXIT_ERROR
    extra = {"analysis": options.analysis} if options.analysis not in (None, "auto") else {}
    extra |= dynamic_options(options)
    return int(
        dynamic.run_compare(arch, target, init, timeout, options.format, options.no_color, **extra)
    )


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
