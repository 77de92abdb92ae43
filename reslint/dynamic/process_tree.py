"""The processes a comparison started: found, measured and ended without their cooperation.

A model may start processes that leave the worker's process group and session (`setsid`, a double fork,
`start_new_session=True`). While a comparison runs, reslint is a child subreaper (Linux): such orphans are
re-parented to reslint instead of init, so every process the model started is a descendant of the worker
or a new child of reslint, and /proc finds them all. Elsewhere only the worker's process group is killed.
"""

from __future__ import annotations

import ctypes
import os
import signal
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager

_PR_SET_CHILD_SUBREAPER = 36
_PR_GET_CHILD_SUBREAPER = 37
_PAGE = os.sysconf("SC_PAGE_SIZE") if hasattr(os, "sysconf") else 4096
_KILL_PATIENCE = (
    5.0  # seconds to wait for SIGKILLed processes to die (one in disk sleep may take a while)
)


def _prctl(option: int, value: object = 0) -> int:
    libc = ctypes.CDLL(None, use_errno=True)
    return int(libc.prctl(option, value, 0, 0, 0))


@contextmanager
def subreaper() -> Iterator[None]:
    """Make this process a child subreaper for the duration (restoring what it was before)."""
    previous = ctypes.c_int(0)
    try:
        known = _prctl(_PR_GET_CHILD_SUBREAPER, ctypes.byref(previous)) == 0
        enabled = known and _prctl(_PR_SET_CHILD_SUBREAPER, 1) == 0
    except (OSError, AttributeError):  # no prctl: not Linux
        enabled = False
    try:
        yield
    finally:
        if enabled:
            _prctl(_PR_SET_CHILD_SUBREAPER, previous.value)


def _read(path: str) -> str | None:
    try:
        with open(path) as handle:
            return handle.read()
    except (OSError, ValueError):
        return None


def _state(pid: int) -> str | None:
    """The process's state letter (R, S, D, Z, ...), None when it is gone."""
    stat = _read(f"/proc/{pid}/stat")
    return stat.rpartition(")")[2].split()[0] if stat else None


def _alive(pid: int) -> bool:
    return _state(pid) not in (None, "Z", "X")


def _children_from_task_files(pid: int) -> list[int]:
    try:
        tasks = os.listdir(f"/proc/{pid}/task")
    except OSError:
        return []
    found = []
    for task in tasks:
        found += [
            int(child) for child in (_read(f"/proc/{pid}/task/{task}/children") or "").split()
        ]
    return found


def _children_from_scan(pid: int) -> list[int]:
    """For kernels without /proc/PID/task/TID/children: every process's parent, from its stat line."""
    found = []
    for entry in os.listdir("/proc"):
        stat = _read(f"/proc/{entry}/stat") if entry.isdigit() else None
        if stat and int(stat.rpartition(")")[2].split()[1]) == pid:
            found.append(int(entry))
    return found


_children = (
    _children_from_task_files
    if os.path.exists(f"/proc/self/task/{threading.get_native_id()}/children")
    else _children_from_scan
)


class ProcessTree:
    """The worker and everything it started: its descendants, and the orphans re-parented to us."""

    def __init__(self, root: int, before: set[int]) -> None:
        self.root = root
        self.before = before  # our children that were there before the worker: never ours to kill

    @staticmethod
    def our_children() -> set[int]:
        return set(_children(os.getpid())) if os.path.isdir("/proc") else set()

    def _adopted(self) -> set[int]:
        return self.our_children() - self.before - {self.root}

    def members(self) -> list[int]:
        """Every live process of the tree."""
        if not os.path.isdir("/proc"):
            return []
        # The worker's tree first, our adopted children after: a process that dies while we walk has
        # handed its children to us before it shows as dead, so reading ours last cannot miss them.
        found = _live_descendants([self.root], seen=set())
        return found + _live_descendants(list(self._adopted()), seen=set(found))

    def memory_over(self, limit: int) -> int | None:
        """The memory the tree holds when it is over `limit` bytes, else None.

        Resident sizes are cheap to read but count a page shared by several processes in each of them;
        only when their sum is over the limit is the proportional share (Pss: a shared page split between
        the processes that map it, shared memory and mmap included) read, which costs ~10 ms per process."""
        members = self.members()
        if sum(_resident(pid) for pid in members) <= limit:
            return None
        used = sum(_proportional(pid) for pid in members)
        return used if used > limit else None

    def kill(self) -> None:
        """SIGKILL every process of the tree until none is left alive, then reap the orphans we adopted.
        The worker itself is left for its Popen to reap."""
        try:
            os.killpg(self.root, signal.SIGKILL)
        except OSError:
            pass
        deadline = time.monotonic() + _KILL_PATIENCE
        while (members := self.members()) and time.monotonic() < deadline:
            # a process may fork while we look: each round kills what exists now
            for pid in members:
                try:
                    os.kill(pid, signal.SIGKILL)
                except OSError:
                    pass
            self._reap()
            time.sleep(0.01)
        self._reap()

    def _reap(self) -> None:
        for pid in self._adopted():
            try:
                os.waitpid(pid, os.WNOHANG)
            except ChildProcessError:
                pass


def _live_descendants(queue: list[int], seen: set[int]) -> list[int]:
    """The live processes of `queue` and below, except those in `seen`.

    A zombie's children are still looked at: the leader of a multi-threaded process shows as a zombie
    while its other threads live on, and they keep its children until the last of them exits."""
    found = []
    while queue:
        pid = queue.pop()
        if pid in seen:
            continue
        seen.add(pid)
        if _alive(pid):
            found.append(pid)
        queue += _children(pid)
    return found


def _resident(pid: int) -> int:
    statm = _read(f"/proc/{pid}/statm")
    return int(statm.split()[1]) * _PAGE if statm else 0


def _proportional(pid: int) -> int:
    rollup = _read(f"/proc/{pid}/smaps_rollup")
    for line in (rollup or "").splitlines():
        if line.startswith("Pss:"):
            return int(line.split()[1]) * 1024
    return _resident(pid)  # before Linux 4.14, or the process just ended
