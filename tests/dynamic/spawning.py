"""Starting reslint processes from the tests' thread pools.

Two threads starting a process at the same moment (CPython's vfork path) have made exec fail with
"OSError: [Errno 14] Bad address" now and then on this machine (2 of 4 full runs on 2026-11-29), so
processes are started one at a time; once started they run side by side.
"""

from __future__ import annotations

import subprocess
import threading
from collections.abc import Sequence
from typing import Any

_STARTING = threading.Lock()


def start(argv: Sequence[str], **options: Any) -> subprocess.Popen[str]:
    """`subprocess.Popen(argv, text=True, **options)`, one start at a time."""
    with _STARTING:
        return subprocess.Popen(argv, text=True, **options)
