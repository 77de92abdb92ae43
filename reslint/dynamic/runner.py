"""Parent side of the isolation: start the worker, watch it, end everything it started, and turn every way
it can end into data. Never imports torch or the user's code.

One loop, in the calling thread, waits on the worker's two pipes (its messages; what the model prints)
and on the clock: it holds at most one message and the tail of the output, whatever the model writes, and
it stops at the timeout, when the memory the process tree holds passes the cap, or when a result arrived
or the worker ended. Then every process of the tree is killed and the scratch folder removed; SIGTERM,
SIGHUP and SIGINT do the same before reslint exits (143, 129; 130 through KeyboardInterrupt).
"""

from __future__ import annotations

import os
import re
import selectors
import signal
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

import reslint
from reslint.dynamic import protocol
from reslint.dynamic.process_tree import ProcessTree, subreaper
from reslint.dynamic.target import target_file
from reslint.source import special_file_kind

DEFAULT_TIMEOUT = 60.0
DEFAULT_MEMORY_LIMIT = 4 * 2**30
MAX_MEMORY_LIMIT = 2**60  # an exbibyte: more, plus what the worker reserves, does not fit an rlimit
POLL_SECONDS = 0.1  # how often the worker's exit and the tree's memory are looked at
DRAIN_SECONDS = 1.0  # after the end: how long to wait for output still in the pipes
OUTPUT_TAIL_BYTES = 64 * 2**10
OUTPUT_TAIL_LINES = 40

_SIZE = re.compile(r"(\d+(?:\.\d*)?)\s*([KMGT]?)(?:I?B)?", re.IGNORECASE)
_UNITS = {"": 1, "K": 2**10, "M": 2**20, "G": 2**30, "T": 2**40}


class BadSetting(ValueError):
    """An environment variable that reslint cannot use: a usage error, not a finding."""


@dataclass
class WorkerOutcome:
    status: str  # "ok" | "could-not-run"
    result: dict[str, Any] | None = None
    finding: dict[str, Any] | None = None


def memory_limit() -> int:
    """Bytes for the cap: RESLINT_MEMORY_LIMIT (4G, 512M, 1.5GiB; 0 for none), else min(4 GiB, RAM / 2)."""
    text = os.environ.get("RESLINT_MEMORY_LIMIT", "").strip()
    if text:
        size = _SIZE.fullmatch(text)
        if size is None:
            raise BadSetting(
                f"RESLINT_MEMORY_LIMIT={text!r} is not a size: write e.g. 4G, 512M, or 0 for no limit"
            )
        limit = int(float(size.group(1)) * _UNITS[size.group(2).upper()])
        if limit > MAX_MEMORY_LIMIT:  # setrlimit would overflow in the worker
            raise BadSetting(
                f"RESLINT_MEMORY_LIMIT={text!r} is a size no machine has: write e.g. 4G, 512M, or 0 for"
                " no limit"
            )
        return limit
    try:
        ram = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")
    except (ValueError, OSError):
        return DEFAULT_MEMORY_LIMIT
    return min(DEFAULT_MEMORY_LIMIT, ram // 2)


def show_size(size: int) -> str:
    for unit, scale in (("GiB", 2**30), ("MiB", 2**20)):
        if size >= scale:
            return f"{size / scale:.3g} {unit}"
    return f"{size / 2**10:.3g} KiB"


# ----------------------------------------------------------------------------------------------------------
# The two pipes.


class _Output:
    """What the model printed (stdout and stderr share one pipe): the tail is kept, the rest dropped.
    RESLINT_DEBUG=1 shows all of it on reslint's stderr as it comes."""

    def __init__(self, fd: int) -> None:
        self.fd = fd
        self.tail = bytearray()
        self.echo = bool(os.environ.get("RESLINT_DEBUG"))

    def read(self) -> bool:
        data = os.read(self.fd, 1 << 16)
        if self.echo:
            sys.stderr.buffer.write(data)
            sys.stderr.flush()
        self.tail += data
        del self.tail[:-OUTPUT_TAIL_BYTES]
        return bool(data)

    def lines(self) -> list[str]:
        text = self.tail.decode("utf-8", "replace")
        return [line[:500] for line in text.splitlines()[-OUTPUT_TAIL_LINES:]]


class _Channel:
    """The worker's messages: progress events, then one result. A line longer than a message can be is
    dropped as it streams in, so the model cannot make reslint hold more than MAX_MESSAGE_BYTES."""

    def __init__(self, fd: int, on_progress: Callable[[str], None] | None) -> None:
        self.fd, self.on_progress = fd, on_progress
        self.pending = bytearray()
        self.skipping = False  # inside a line that is already too long
        self.oversized = False
        self.phase = "starting"
        self.where: tuple[str, int] | None = (
            None  # the model's file and line, once the worker knows
        )
        self.result: protocol.Result | None = None

    def read(self) -> bool:
        data = os.read(self.fd, 1 << 16)
        *complete, rest = data.split(b"\n")
        for piece in complete:
            if not self.skipping and len(self.pending) + len(piece) <= protocol.MAX_MESSAGE_BYTES:
                self._receive(bytes(self.pending + piece))
            self.pending.clear()
            self.skipping = False
        if not self.skipping:
            self.pending += rest
            if len(self.pending) > protocol.MAX_MESSAGE_BYTES:
                self.pending.clear()
                self.skipping = self.oversized = True
        return bool(data)

    def _receive(self, line: bytes) -> None:
        message = protocol.decode(line) if line.strip() else None
        if isinstance(message, protocol.Progress):
            self.phase = message.phase
            if message.path is not None:
                self.where = (message.path, message.line)
            if self.on_progress:
                self.on_progress(message.phase)
        elif isinstance(message, protocol.Result) and self.result is None:
            self.result = message


# ----------------------------------------------------------------------------------------------------------
# Signals: stop waiting, clean up, then leave the way the signal asked.


class _Stop(BaseException):
    pass


class _Signals:
    """While armed, SIGTERM, SIGHUP and SIGINT stop the wait at once; while cleaning up they are only
    remembered (a second Ctrl-C must not leave the model running). Only the main thread gets signals."""

    CAUGHT = (signal.SIGTERM, signal.SIGHUP, signal.SIGINT)

    def __init__(self) -> None:
        self.received: int | None = None
        self.armed = False
        self.previous: dict[int, Any] = {}

    def __enter__(self) -> _Signals:
        if threading.current_thread() is threading.main_thread():
            self.previous = {
                number: signal.signal(number, self._on_signal) for number in self.CAUGHT
            }
        return self

    def arm(self) -> None:
        self.armed = True
        if self.received is not None:  # it came while the worker was starting
            self.armed = False
            raise _Stop

    def _on_signal(self, number: int, frame: object) -> None:
        self.received = self.received or number
        if self.armed:
            self.armed = False
            raise _Stop

    def __exit__(self, kind: object, error: object, trace: object) -> None:
        for number, handler in self.previous.items():
            signal.signal(number, handler)
        if self.received == signal.SIGINT:
            raise KeyboardInterrupt
        if self.received is not None:
            name = signal.Signals(self.received).name
            print(f"reslint: stopped by {name}; the model's processes were killed", file=sys.stderr)
            raise SystemExit(128 + self.received)


# ----------------------------------------------------------------------------------------------------------
# Starting the worker.


def _bootstrap() -> str:
    """The worker's -c program. Under -I nothing in the working directory can be imported; reslint is
    loaded from this process's own copy, before anything else, so no `reslint/` elsewhere can stand in."""
    locations = list(reslint.__path__)
    init = os.path.join(locations[0], "__init__.py")
    return (
        "import importlib.util, sys\n"
        f"spec = importlib.util.spec_from_file_location('reslint', {init!r},"
        f" submodule_search_locations={locations!r})\n"
        "package = importlib.util.module_from_spec(spec)\n"
        "sys.modules['reslint'] = package\n"
        "spec.loader.exec_module(package)\n"
        "from reslint.dynamic.worker import main\n"
        "main()\n"
    )


def _python_path() -> list[str]:
    """PYTHONPATH, which -I ignores, as absolute folders: it is the user's own choice. Empty entries
    (the working directory) are left out."""
    entries = os.environ.get("PYTHONPATH", "").split(os.pathsep)
    return [os.path.abspath(entry) for entry in entries if entry]


@contextmanager
def _started(
    comparison: dict[str, Any], limit: int, scratch: str
) -> Iterator[tuple[subprocess.Popen[bytes], int]]:
    """The worker process and the read end of its channel (closed on exit)."""
    channel_out, channel_in = os.pipe()
    request = protocol.WorkerRequest(
        comparison, channel_in, limit, comparison.get("threads"), _python_path()
    )
    env = {**os.environ, "HYPOTHESIS_STORAGE_DIRECTORY": scratch, "TMPDIR": scratch}
    try:
        process = subprocess.Popen(
            [sys.executable, "-I", "-B", "-c", _bootstrap()],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            pass_fds=(channel_in,),
            start_new_session=True,  # the terminal's Ctrl-C goes to reslint, which then ends the tree
            env=env,
            cwd=comparison["cwd"],
        )
    except BaseException:
        os.close(channel_out)
        raise
    finally:
        os.close(channel_in)
    try:
        assert process.stdin is not None
        try:
            process.stdin.write(request.encode())
            process.stdin.close()
        except BrokenPipeError:
            pass
        yield process, channel_out
    finally:
        os.close(channel_out)
        if process.stdout is not None:
            process.stdout.close()


# ----------------------------------------------------------------------------------------------------------
# Running one comparison.


@dataclass
class _Watch:
    process: subprocess.Popen[bytes]
    channel: _Channel
    output: _Output
    tree: ProcessTree
    limit: int

    def until_the_end(self, deadline: float) -> tuple[str, int]:
        """Why the wait ended ("result", "exited", "timeout", "memory") and the memory held then."""
        selector = selectors.DefaultSelector()
        for stream in (self.channel, self.output):
            selector.register(stream.fd, selectors.EVENT_READ, stream)
        next_look = 0.0
        try:
            while (remaining := deadline - time.monotonic()) > 0:
                for key, _ in selector.select(min(POLL_SECONDS, remaining)):
                    if not key.data.read():
                        selector.unregister(key.fd)
                if self.channel.result is not None:
                    return "result", 0
                if (
                    time.monotonic() < next_look
                ):  # a flood of output must not make us look each read
                    continue
                next_look = time.monotonic() + POLL_SECONDS
                if self.process.poll() is not None:
                    return "exited", 0
                used = self.tree.memory_over(self.limit) if self.limit > 0 else None
                if used is not None:
                    return "memory", used
            return "timeout", 0
        finally:
            selector.close()

    def drain(self) -> None:
        """Read what is left in the pipes (everyone who could write is dead by now), within a bound."""
        selector = selectors.DefaultSelector()
        for stream in (self.channel, self.output):
            selector.register(stream.fd, selectors.EVENT_READ, stream)
        deadline = time.monotonic() + DRAIN_SECONDS
        try:
            while selector.get_map() and (remaining := deadline - time.monotonic()) > 0:
                ready = selector.select(remaining)
                if not ready:
                    break
                for key, _ in ready:
                    if not key.data.read():
                        selector.unregister(key.fd)
        finally:
            selector.close()


def run_worker(
    request: dict[str, Any],
    timeout: float = DEFAULT_TIMEOUT,
    on_progress: Callable[[str], None] | None = None,
) -> WorkerOutcome:
    """Run one comparison in an isolated worker; nothing it starts outlives this call."""
    limit = memory_limit()
    path = target_file(str(request.get("target", "")))
    kind = special_file_kind(path) if path.endswith(".py") or os.sep in path else None
    if kind is not None:
        finding = protocol.finding(
            "RD001",
            f"{path} is not a regular file: it is {kind}",
            "name the .py file that defines the model",
            path,
        )
        return WorkerOutcome("could-not-run", finding=finding)
    comparison = {"cwd": os.getcwd(), **request}
    with (
        _Signals() as signals,
        subreaper(),
        tempfile.TemporaryDirectory(prefix="reslint-", ignore_cleanup_errors=True) as scratch,
    ):
        before = ProcessTree.our_children()
        with _started(comparison, limit, scratch) as (process, channel_fd):
            output = process.stdout
            assert output is not None
            watch = _Watch(
                process,
                _Channel(channel_fd, on_progress),
                _Output(output.fileno()),
                ProcessTree(process.pid, before),
                limit,
            )
            try:
                try:
                    signals.arm()
                    ending, used = watch.until_the_end(time.monotonic() + timeout)
                finally:
                    signals.armed = False
            finally:  # a separate block: a signal in the one above cannot skip this
                watch.tree.kill()
                process.wait()
            watch.drain()
    return _interpret(watch, ending, used, path, timeout)


def _interpret(watch: _Watch, ending: str, used: int, path: str, timeout: float) -> WorkerOutcome:
    channel = watch.channel
    if channel.result is not None:
        result = channel.result
        return WorkerOutcome(result.status, result.result, result.finding)
    path, line = channel.where or (path, 1)
    phase = channel.phase
    if ending == "timeout":
        code, hint = (
            "RD006",
            "look for an endless loop or a blocking call; raise --timeout if it is just slow",
        )
        message = f"the model did not finish within {timeout:g} s and was killed (while {phase})"
    elif ending == "memory" or protocol.is_out_of_memory("\n".join(watch.output.lines())):
        code, hint = "RD007", "make the model or input smaller, or raise RESLINT_MEMORY_LIMIT"
        message = f"the model ran out of memory (while {phase})"
        if ending == "memory":
            message = (
                f"the model and the processes it started held {show_size(used)}, over the"
                f" {show_size(watch.limit)} memory cap, and were killed (while {phase})"
            )
    else:
        code, hint = "RD008", "run the model directly to see the crash"
        message = f"the isolated process {_how_it_ended(watch)} (while {phase}){_last_words(watch)}"
    return WorkerOutcome("could-not-run", finding=protocol.finding(code, message, hint, path, line))


def _how_it_ended(watch: _Watch) -> str:
    code = watch.process.returncode
    if code < 0:
        return f"was killed by signal {signal.Signals(-code).name}"
    if watch.channel.oversized:
        return f"sent a message over the {show_size(protocol.MAX_MESSAGE_BYTES)} limit"
    return f"exited with code {code} before sending a result"


def _last_words(watch: _Watch) -> str:
    last = next((line.strip() for line in reversed(watch.output.lines()) if line.strip()), "")
    return f": {last}" if last else ""
