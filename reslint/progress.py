"""A progress bar on stderr while many files are linted on a terminal; nothing otherwise."""

from __future__ import annotations

import contextlib
import os
import sys
from collections.abc import Callable, Iterator

# Below this many files a run takes about a second: a bar would only flicker.
MIN_FILES = 50


def wanted(files: int) -> bool:
    return files >= MIN_FILES and sys.stderr.isatty() and not os.environ.get("CI")


@contextlib.contextmanager
def progress_bar(total: int, enabled: bool) -> Iterator[Callable[[int], None]]:
    """Yields `advance(files_done)`; the bar disappears when the run ends."""
    if not enabled:
        yield lambda done: None
        return
    from rich.console import Console
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

    bar = Progress(
        TextColumn("linting"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        console=Console(file=sys.stderr),
        transient=True,
    )
    with bar:
        task = bar.add_task("linting", total=total)
        yield lambda done: bar.advance(task, done)
