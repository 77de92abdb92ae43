"""The dynamic pass's own command-line flags (beyond --compare-to, --init, --timeout and --analysis), for
reslint.cli to add to its parser. Imports nothing heavy: the static pass pays nothing for it."""

from __future__ import annotations

from typing import Any

TABLES = ("full", "diff", "none")


def add_arguments(group: Any) -> None:
    group.add_argument(
        "--output",
        metavar="INDEX|KEY",
        default=None,
        help="when forward returns a tuple or dict, the element to compare (default: the one shaped "
        "like the reference's output)",
    )
    group.add_argument(
        "--table",
        choices=TABLES,
        default=None,
        help="the layer table: full, diff (default: differing rows with context and the stage "
        "subtotals; one line when the model matches) or none",
    )


def given(options: Any) -> dict[str, Any]:
    """The flags of add_arguments that were given, as keyword arguments for run_compare."""
    return {
        name: getattr(options, name)
        for name in ("output", "table")
        if getattr(options, name, None) is not None
    }
