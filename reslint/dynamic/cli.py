"""Entry points the `reslint` command calls for the dynamic pass. Importing this module imports neither
torch nor the user's code: both live only in the worker process."""

from __future__ import annotations

import json
import os
import sys
from collections.abc import Callable
from typing import Any

from reslint.dynamic import render
from reslint.dynamic.catalogue import REFERENCES
from reslint.dynamic.codes import COULD_NOT_RUN
from reslint.dynamic.runner import DEFAULT_TIMEOUT, BadSetting, run_worker

EXIT_MATCHES, EXIT_DIFFERS, EXIT_ERROR = 0, 1, 2


def _options() -> dict[str, Any]:
    """Knobs without CLI flags: RESLINT_ANALYSIS (auto|sampled|symbolic), RESLINT_DEVICE (auto|meta|cpu),
    RESLINT_EXAMPLES (hypothesis examples), RESLINT_THREADS (torch threads in the worker)."""
    options: dict[str, Any] = {
        "analysis": os.environ.get("RESLINT_ANALYSIS", "auto"),
        "device": os.environ.get("RESLINT_DEVICE", "auto"),
    }
    if os.environ.get("RESLINT_EXAMPLES", "").isdigit():
        options["max_examples"] = int(os.environ["RESLINT_EXAMPLES"])
    if os.environ.get("RESLINT_THREADS", "").isdigit():
        options["threads"] = int(os.environ["RESLINT_THREADS"])
    return options


def error_result(arch: str, target: str, finding: dict[str, Any]) -> dict[str, Any]:
    ref = REFERENCES.get(arch)
    return {
        "verdict": "error",
        "arch": arch,
        "target": target,
        "parameters": {"model": None, "reference": ref.parameters if ref else None},
        "findings": [finding],
        "layers": [],
        "failing_input": None,
        "analysis": None,
        "valid_input_range": None,
        "state_dict": None,
    }


def compare_result(
    arch: str,
    target: str,
    init: dict[str, Any],
    timeout: float = DEFAULT_TIMEOUT,
    progress: Any = None,
    **options: Any,
) -> dict[str, Any]:
    """The JSON object `--format json` prints (verdict, parameters, findings, layers, failing_input...)."""
    request = {"arch": arch, "target": target, "init": init, **_options(), **options}
    outcome = run_worker(request, timeout, progress)
    if outcome.status == "ok" and outcome.result is not None:
        result = outcome.result
    else:
        assert outcome.finding is not None
        result = error_result(arch, target, outcome.finding)
    for finding in result["findings"]:
        finding["path"] = _shown_path(finding["path"])
    if result.get("path"):
        result["path"] = _shown_path(result["path"])
    return result


def _shown_path(path: str) -> str:
    """Paths under the working directory as the static pass shows them: relative."""
    if not os.path.isabs(path):
        return path
    relative = os.path.relpath(path)
    return path if relative.startswith("..") else relative


def select_findings(result: dict[str, Any], selected: Callable[[str], bool]) -> dict[str, Any]:
    """The result without the differences (RD1xx) that are not selected; could-not-run codes stay."""
    findings = [
        finding
        for finding in result["findings"]
        if finding["code"] in COULD_NOT_RUN or selected(finding["code"])
    ]
    return {**result, "findings": findings}


def exit_code(result: dict[str, Any]) -> int:
    return {"matches": EXIT_MATCHES, "differs": EXIT_DIFFERS}.get(
        result.get("verdict", ""), EXIT_ERROR
    )


class _ProgressBar:
    """A transient spinner on stderr for text output on a terminal; silent otherwise."""

    def __init__(self, enabled: bool) -> None:
        self.progress = None
        self.task = None
        if enabled:
            from rich.console import Console
            from rich.progress import Progress, SpinnerColumn, TextColumn, TimeElapsedColumn

            self.progress = Progress(
                SpinnerColumn(),
                TextColumn("{task.description}"),
                TimeElapsedColumn(),
                console=Console(file=sys.stderr),
                transient=True,
            )

    def __enter__(self) -> _ProgressBar:
        if self.progress is not None:
            self.progress.start()
            self.task = self.progress.add_task("starting", total=None)
        return self

    def __exit__(self, *exc: object) -> None:
        if self.progress is not None:
            self.progress.stop()

    def __call__(self, phase: str) -> None:
        if self.progress is not None and self.task is not None:
            self.progress.update(self.task, description=phase)


def run_compare(
    arch: str,
    target: str,
    init: dict,
    timeout: float,
    output_format: str,
    no_color: bool,
    selected: Callable[[str], bool] = lambda code: True,
    table: str = "diff",
    **options: Any,
) -> int:
    """`reslint --compare-to ARCH TARGET`: exit 0 matches, 1 differs, 2 could not run. Differences
    whose code is not `selected` (--ignore RD105) are not shown; with none left, the exit is 0."""
    show_bar = output_format != "json" and sys.stderr.isatty() and not os.environ.get("CI")
    try:
        with _ProgressBar(show_bar) as bar:
            found = compare_result(arch, target, init, timeout, bar, **options)
    except BadSetting as error:
        print(f"reslint: error: {error}", file=sys.stderr)
        return EXIT_ERROR
    result = select_findings(found, selected)
    if output_format == "json":
        render.print_json(result)
    else:
        render.print_text(result, no_color, table=table)
    if found["findings"] and not result["findings"]:
        return EXIT_MATCHES  # every difference found was deselected
    return exit_code(result)


def list_references(output_format: str) -> int:
    """`reslint --list-references`."""
    rows = [
        {
            "name": ref.name,
            "family": ref.family,
            "block": ref.block,
            "layers": list(ref.layers),
            "parameters": ref.parameters,
            "num_classes": ref.num_classes,
            "input_size": ref.input_size,
            "description": ref.description,
        }
        for ref in REFERENCES.values()
    ]
    if output_format == "json":
        sys.stdout.write(json.dumps(rows, indent=2) + "\n")
        return EXIT_MATCHES
    width = max(len(row["name"]) for row in rows)
    for row in rows:
        print(f"{row['name']:<{width}}  {row['parameters']:>12,}  {row['description']}")
    return EXIT_MATCHES
