"""Fewer garbage collections while a file is checked.

Parsing builds hundreds of thousands of small objects (libcst nodes: about 160 per line of code) that
all live until the file is done. With CPython's default threshold (a young collection every 700
allocations) they are traversed again and again as they are promoted, and every full collection walks
the whole tree built so far. A higher first threshold keeps the same collector (cycles are still
freed) and saves a little CPU for a few MB.
"""

from __future__ import annotations

import gc
from collections.abc import Iterator
from contextlib import contextmanager

# Measured on `classes 720` (10k lines, in one process, runs interleaved, load 12): 8.3 s of CPU on
# average with 700, 7.7 s with 10,000 (-8%). Session 21, bench_static's 60-file folder in one process
# (three runs each, interleaved, load 5): median 11.2 s of CPU with 10,000, 11.0 s with 50,000, 10.3 s
# with 100,000; peak 96, 97 and 94 MB (a 10k-line file: 99 and 96 MB). Most of what the collector did
# was free each finished file's model, whose objects refer to each other. Since session 22 a group's
# models are dropped when it is done (Project.release) and reference counting frees them, so what the
# young generation holds is mostly the file being checked, alive: each collection only walks it and
# promotes it. Session 22, the same folder, four interleaved runs each, load 8: 9.5 s of CPU on
# average with 100,000 (60 MB), 8.7 s with 1,000,000 (114 MB); a 140k-line file, which is checked a
# segment at a time: 218 MB and 202 MB.
YOUNG_THRESHOLD = 1_000_000

_start_up_frozen: list[bool] = []  # whether this process froze what it imported


@contextmanager
def fewer_collections() -> Iterator[None]:
    """The collector's first threshold raised to YOUNG_THRESHOLD (never lowered), restored after."""
    previous, enabled = gc.get_threshold(), gc.isenabled()
    gc.set_threshold(max(previous[0], YOUNG_THRESHOLD), *previous[1:])
    if not enabled:
        # The command starts with the collector off (cli.entry): what it imported before its first
        # file lives for the whole run, so it is moved out of the collector's sight (about 5% of a
        # one-file run was collections re-scanning it), and collecting starts here.
        if not _start_up_frozen:  # once (counting the frozen objects walks them all: 3 ms a file)
            gc.freeze()
            _start_up_frozen.append(True)
        gc.enable()
    try:
        yield
    finally:
        gc.set_threshold(*previous)
        if not enabled:
            gc.disable()
