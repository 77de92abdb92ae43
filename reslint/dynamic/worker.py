"""The isolated process: the only one that imports torch and runs the user's code.

The runner starts it as `python -I -B -c BOOTSTRAP` (see runner.py): no working directory, user site or
PYTHON* variables on its path, and `reslint` pinned to the runner's own copy before anything else is
imported. It reads a `protocol.WorkerRequest` from stdin, caps its memory, imports torch, compares, sends
one `protocol.Result` over the channel and leaves with `os._exit`: threads the model left running and
its atexit handlers cannot hold up, or lose, a result that was already sent.
"""

from __future__ import annotations

import ctypes
import os
import resource
import signal
import sys
import traceback
import warnings
from typing import Any

from reslint.dynamic import protocol

# Address space torch reserves without using it (shared libraries, thread stacks, malloc arenas), measured
# as VmPeak beside VmHWM with 2 threads: `import torch` 0.62 GiB; resnet152 and wide_resnet101_2 traced on
# meta 0.74 GiB for 0.27 GiB resident, on the CPU 0.95-1.01 GiB for 0.32-0.38 GiB; each further torch
# thread ~43 MiB (32 threads: 2.2 GiB for 0.33 GiB resident).
RESERVED_ADDRESS_SPACE = 2**30
RESERVED_PER_THREAD = 64 * 2**20

_PR_SET_PDEATHSIG = 1


def cap_address_space(limit: int, threads: int) -> None:
    """RLIMIT_AS at the memory cap plus the address space torch reserves but never touches, so that an
    allocation that cannot fit fails at once, as a MemoryError at the line that asked for it.

    The cap itself is the runner's: it watches the memory the whole process tree really holds (shared
    mappings included, which RLIMIT_DATA misses) and kills the tree past it. RLIMIT_AS at the bare cap
    would refuse a model whose resident memory is a third of it, and more so the more cores there are."""
    if limit <= 0:
        return
    soft = limit + RESERVED_ADDRESS_SPACE + RESERVED_PER_THREAD * threads
    _, hard = resource.getrlimit(resource.RLIMIT_AS)
    if hard != resource.RLIM_INFINITY:
        soft = min(soft, hard)
    resource.setrlimit(resource.RLIMIT_AS, (soft, hard))


def _die_with_the_runner() -> None:
    """If reslint itself is killed (SIGKILL leaves it no time to clean up), the worker goes with it."""
    try:
        ctypes.CDLL(None).prctl(_PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0)
    except (OSError, AttributeError):  # not Linux
        pass


def _free_cores() -> int:
    """Threads for torch: the cores nobody else is using (at least one). OpenMP workers spinning on a busy
    machine cost far more than they save."""
    cores = os.cpu_count() or 1
    try:
        busy = os.getloadavg()[0]
    except OSError:
        return 1
    return max(1, min(cores, int(cores - busy + 0.5)))


class Reporter:
    """The worker's side of the channel; remembers the phase and the model's place for its own findings."""

    def __init__(self, fd: int) -> None:
        os.set_inheritable(fd, False)  # the model's subprocesses get no handle on it
        self.fd = fd
        self.phase = "starting"
        self.where: tuple[str, int] | None = None

    def progress(self, phase: str, path: str | None = None, line: int = 1) -> None:
        self.phase = phase
        if path is not None:
            self.where = (path, line)
        self.send(protocol.Progress(phase, path, line))

    def send(self, message: protocol.Message) -> None:
        data = memoryview(protocol.encode(message))
        while data:
            data = data[os.write(self.fd, data) :]


# Failures of the user's code that compare.py lets through: by phase, the code of the step that failed.
_PHASE_CODES = (("importing", "RD002"), ("building", "RD004"))
_FORWARD_FAILED = "RD005"


def handle(comparison: dict[str, Any], reporter: Reporter) -> protocol.Result:
    """Run one comparison; whatever the model does becomes the result or a finding, never an exception."""
    from reslint.dynamic.compare import Request, compare
    from reslint.dynamic.target import CouldNotRun, target_file
    from reslint.dynamic.tracing import user_frame

    target_path = target_file(str(comparison.get("target", "")))

    def could_not_run(code: str, message: str, hint: str, error: BaseException) -> protocol.Result:
        path, line = user_frame(error) or reporter.where or (target_path, 1)
        return protocol.Result(
            "could-not-run", finding=protocol.finding(code, message, hint, path, line)
        )

    try:
        return protocol.Result("ok", compare(Request.from_dict(comparison), reporter.progress))
    except CouldNotRun as stop:
        finding = protocol.finding(
            stop.code, stop.message, stop.hint, stop.path or target_path, stop.line
        )
        return protocol.Result("could-not-run", finding=finding)
    except RecursionError as error:
        return could_not_run(
            _FORWARD_FAILED,
            f"the model recursed without end: {error}",
            "check forward for a call to itself",
            error,
        )
    except (
        KeyboardInterrupt
    ) as error:  # the worker has a session of its own: no terminal sends SIGINT
        return could_not_run(
            _code_of_phase(reporter.phase),
            f"the model raised KeyboardInterrupt (while {reporter.phase})",
            "nobody pressed Ctrl-C: raise an ordinary exception instead",
            error,
        )
    except SystemExit as error:
        return could_not_run(
            _code_of_phase(reporter.phase),
            f"the model called sys.exit({error.code!r}) (while {reporter.phase})",
            "a model must not end the process: raise an exception instead",
            error,
        )
    except Exception as error:
        if protocol.is_out_of_memory(error):
            return could_not_run(
                "RD007",
                f"the model ran out of memory (while {reporter.phase}): {error}".rstrip(": "),
                "make the model or input smaller, or raise RESLINT_MEMORY_LIMIT",
                error,
            )
        if os.environ.get("RESLINT_DEBUG"):
            traceback.print_exc()
        finding = protocol.finding(
            "RD099",
            f"reslint failed while comparing: {type(error).__name__}: {error}",
            "please report this with the model file",
            target_path,
        )
        return protocol.Result("could-not-run", finding=finding)


def _code_of_phase(phase: str) -> str:
    return next(
        (code for prefix, code in _PHASE_CODES if phase.startswith(prefix)), _FORWARD_FAILED
    )


def _flush_standard_streams() -> None:
    for stream in (sys.stdout, sys.stderr):
        try:
            stream.flush()
        except (
            Exception
        ):  # the model may have replaced or closed them; its output is not ours to save
            pass


def main() -> None:
    request = protocol.WorkerRequest.decode(sys.stdin.buffer.read())
    _die_with_the_runner()
    threads = request.threads or _free_cores()
    cap_address_space(request.memory_limit, threads)
    reporter = Reporter(request.channel)
    sys.path[:0] = request.python_path
    warnings.simplefilter("ignore")
    import torch

    torch.set_num_threads(threads)
    result = handle(request.comparison, reporter)
    _flush_standard_streams()
    try:
        reporter.send(result)
    except OSError:  # the runner is gone
        os._exit(1)
    os._exit(0)
