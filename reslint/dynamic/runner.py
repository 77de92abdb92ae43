"""Parent side of the isolation: spawn the worker, enforce the timeout, turn every way it can end into
data. Never imports torch or the user's code."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from reslint.dynamic.codes import severity_of
from reslint.dynamic.worker import PROGRESS_PREFIX
from reslint.findings import Finding

DEFAULT_TIMEOUT = 60.0
DEFAULT_MEMORY_LIMIT = 4 * 2**30


@dataclass
class WorkerOutcome:
    status: str  # "ok" | "could-not-run"
    result: dict[str, Any] | None = None
    finding: dict[str, Any] | None = None
    stderr_tail: list[str] = field(default_factory=list)
    seconds: float = 0.0


def memory_limit() -> int:
    """Bytes for the worker's cap: RESLINT_MEMORY_LIMIT (e.g. 4G, 512M, 0 = none), else min(4 GiB, RAM/2)."""
    text = os.environ.get("RESLINT_MEMORY_LIMIT", "").strip().upper()
    if text:
        units = {"K": 2**10, "M": 2**20, "G": 2**30}
        scale = units.get(text[-1], 1)
        return int(float(text.rstrip("KMGB") or 0) * scale)
    try:
        ram = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")
    except (ValueError, OSError):
        return DEFAULT_MEMORY_LIMIT
    return min(DEFAULT_MEMORY_LIMIT, ram // 2)


def _finding(code: str, message: str, hint: str, path: str, line: int = 1) -> dict[str, Any]:
    return Finding(path, line, 1, line, 1, code, severity_of(code), message, hint).to_dict()


def _target_path(target: str) -> str:
    return target.rpartition(":")[0] or target


class _StderrReader(threading.Thread):
    def __init__(self, stream: Any, on_progress: Callable[[str], None] | None) -> None:
        super().__init__(daemon=True)
        self.stream, self.on_progress = stream, on_progress
        self.tail: list[str] = []
        self.phase = "starting"
        self.where: tuple[str, int] | None = (
            None  # the model's file and line, once the worker knows them
        )

    def run(self) -> None:
        for raw in iter(self.stream.readline, b""):
            line = raw.decode("utf-8", "replace").rstrip("\n")
            if line.startswith(PROGRESS_PREFIX):
                try:
                    event = json.loads(line[len(PROGRESS_PREFIX) :])
                    self.phase = event["phase"]
                except (ValueError, KeyError, TypeError):
                    continue
                if "path" in event:
                    self.where = (str(event["path"]), int(event.get("line", 1)))
                if self.on_progress:
                    self.on_progress(self.phase)
            else:
                self.tail = (self.tail + [line])[-40:]


class _StdoutReader(threading.Thread):
    def __init__(self, stream: Any) -> None:
        super().__init__(daemon=True)
        self.stream, self.data = stream, b""

    def run(self) -> None:
        self.data = self.stream.read()


def _kill_group(process: subprocess.Popen) -> None:
    try:
        os.killpg(process.pid, signal.SIGKILL)
    except (ProcessLookupError, PermissionError):
        pass
    process.wait()


def run_worker(
    request: dict[str, Any],
    timeout: float = DEFAULT_TIMEOUT,
    on_progress: Callable[[str], None] | None = None,
) -> WorkerOutcome:
    """Run one comparison in a fresh process group; kill the whole group on timeout."""
    started = time.perf_counter()
    path = _target_path(str(request.get("target", "")))
    request = {"memory_limit": memory_limit(), "cwd": os.getcwd(), **request}
    with tempfile.TemporaryDirectory(prefix="reslint-") as scratch:
        env = {
            **os.environ,
            "HYPOTHESIS_STORAGE_DIRECTORY": scratch,
            "PYTHONDONTWRITEBYTECODE": "1",
        }
        process = subprocess.Popen(
            [sys.executable, "-m", "reslint.dynamic.worker"],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            start_new_session=True,
            env=env,
            cwd=request["cwd"],
        )
        err, out = _StderrReader(process.stderr, on_progress), _StdoutReader(process.stdout)
        err.start()
        out.start()
        try:
            process.stdin.write(json.dumps(request).encode())
            process.stdin.close()
        except BrokenPipeError:
            pass
        try:
            process.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            _kill_group(process)
            err.join(1)
            message = (
                f"the model did not finish within {timeout:g} s and was killed (while {err.phase})"
            )
            return WorkerOutcome(
                "could-not-run",
                finding=_finding(
                    "RD006",
                    message,
                    "look for an endless loop or a blocking call; raise --timeout if it is just slow",
                    *(err.where or (path, 1)),
                ),
                stderr_tail=err.tail,
                seconds=time.perf_counter() - started,
            )
        except BaseException:
            _kill_group(process)
            raise
        out.join()
        err.join(1)
        _kill_group(process)  # nothing the model started may outlive the comparison
    return _interpret(process.returncode, out.data, err, path, time.perf_counter() - started)


def _interpret(
    code: int, stdout: bytes, err: _StderrReader, path: str, seconds: float
) -> WorkerOutcome:
    try:
        payload = json.loads(stdout.decode("utf-8", "replace")) if stdout.strip() else None
    except ValueError:
        payload = None
    if isinstance(payload, dict) and payload.get("status") in ("ok", "could-not-run"):
        return WorkerOutcome(
            payload["status"], payload.get("result"), payload.get("finding"), err.tail, seconds
        )
    tail = "\n".join(err.tail)
    path, line = err.where or (path, 1)
    if (
        "MemoryError" in tail
        or "bad_alloc" in tail
        or "Cannot allocate memory" in tail
        or code == -signal.SIGKILL
    ):
        finding = _finding(
            "RD007",
            f"the isolated process ran out of memory (while {err.phase})",
            "make the model or input smaller, or raise RESLINT_MEMORY_LIMIT",
            path,
            line,
        )
    else:
        how = f"signal {signal.Signals(-code).name}" if code < 0 else f"exit code {code}"
        last = next((line for line in reversed(err.tail) if line.strip()), "")
        detail = f": {last.strip()}" if last else ""
        finding = _finding(
            "RD008",
            f"the isolated process died with {how} (while {err.phase}){detail}",
            "run the model directly to see the crash",
            path,
            line,
        )
    return WorkerOutcome("could-not-run", finding=finding, stderr_tail=err.tail, seconds=seconds)
