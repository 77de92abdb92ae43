"""The isolated process: `python -m reslint.dynamic.worker`, request as JSON on stdin, result as JSON on stdout.

Only this process imports torch and the user's code. Its memory is capped before torch is imported.
Whatever the user's code prints goes to stderr, so stdout carries nothing but the result.
"""

from __future__ import annotations

import json
import os
import resource
import sys
import traceback
import warnings
from typing import Any

PROGRESS_PREFIX = "\x1ereslint-progress "


def cap_memory(limit: int) -> str | None:
    """Cap the process's data segment (heap and private mappings, where tensors live) at `limit` bytes.

    RLIMIT_DATA, unlike RLIMIT_AS, does not count shared libraries or reserved thread stacks, so the cap
    means memory actually asked for; both let `import torch` (about 0.6 GiB of address space) through."""
    if limit <= 0:
        return None
    for name in ("RLIMIT_DATA", "RLIMIT_AS"):
        kind = getattr(resource, name, None)
        if kind is None:
            continue
        _, hard = resource.getrlimit(kind)
        soft = limit if hard == resource.RLIM_INFINITY else min(limit, hard)
        try:
            resource.setrlimit(kind, (soft, hard))
        except (ValueError, OSError):
            continue
        return name
    return None


def progress(phase: str, **facts: Any) -> None:
    """One event for the parent: what the worker is doing now (and, once known, where the model lives)."""
    sys.__stderr__.write(PROGRESS_PREFIX + json.dumps({"phase": phase, **facts}) + "\n")
    sys.__stderr__.flush()


def _finding(code: str, message: str, hint: str, path: str, line: int) -> dict[str, Any]:
    from reslint.dynamic.codes import severity_of
    from reslint.findings import Finding

    return Finding(path, line, 1, line, 1, code, severity_of(code), message, hint).to_dict()


def handle(request: dict[str, Any]) -> dict[str, Any]:
    from reslint.dynamic.target import CouldNotRun

    try:
        from reslint.dynamic.compare import Request, compare

        return {"status": "ok", "result": compare(Request.from_dict(request), progress)}
    except CouldNotRun as stop:
        path = stop.path or request.get("target", "").rpartition(":")[0]
        return {
            "status": "could-not-run",
            "finding": _finding(stop.code, stop.message, stop.hint, path, stop.line),
        }
    except MemoryError as error:
        path = request.get("target", "").rpartition(":")[0]
        message = f"the model exhausted the memory cap of the isolated process ({error})".replace(
            " ()", ""
        )
        return {
            "status": "could-not-run",
            "finding": _finding(
                "RD007",
                message,
                "make the model or input smaller, or raise RESLINT_MEMORY_LIMIT",
                path,
                1,
            ),
        }
    except RecursionError as error:
        path = request.get("target", "").rpartition(":")[0]
        return {
            "status": "could-not-run",
            "finding": _finding(
                "RD005",
                f"the model recursed without end: {error}",
                "check forward for a call to itself",
                path,
                1,
            ),
        }
    except Exception as error:  # reslint's own bug: report it, never a bare traceback
        path = request.get("target", "").rpartition(":")[0]
        if _out_of_memory(error):
            return {
                "status": "could-not-run",
                "finding": _finding(
                    "RD007",
                    f"the model exhausted the memory cap of the isolated process ({error})",
                    "make the model or input smaller, or raise RESLINT_MEMORY_LIMIT",
                    path,
                    1,
                ),
            }
        if os.environ.get("RESLINT_DEBUG"):
            traceback.print_exc()
        return {
            "status": "could-not-run",
            "traceback": traceback.format_exc(),
            "finding": _finding(
                "RD099",
                f"reslint failed while comparing: {type(error).__name__}: {error}",
                "please report this with the model file",
                path,
                1,
            ),
        }


def _free_cores() -> int:
    """Threads for torch: the cores nobody else is using (at least one). OpenMP workers spinning on a busy
    machine cost far more than they save."""
    cores = os.cpu_count() or 1
    try:
        busy = os.getloadavg()[0]
    except OSError:
        return 1
    return max(1, min(cores, int(cores - busy + 0.5)))


def _out_of_memory(error: BaseException) -> bool:
    text = str(error)
    return "can't allocate memory" in text or "Cannot allocate memory" in text


def main() -> int:
    result_stream = os.fdopen(os.dup(1), "w")
    os.dup2(2, 1)  # the user's prints (Python and C level) go to stderr
    request = json.loads(sys.stdin.read() or "{}")
    cap_memory(int(request.get("memory_limit", 0)))
    warnings.simplefilter("ignore")
    os.environ.setdefault(
        "HYPOTHESIS_STORAGE_DIRECTORY",
        os.path.join(os.environ.get("TMPDIR", "/tmp"), "reslint-hypothesis"),
    )
    import torch

    torch.set_num_threads(int(request.get("threads") or _free_cores()))
    response = handle(request)
    result_stream.write(json.dumps(response))
    result_stream.flush()
    return 0


if __name__ == "__main__":
    sys.exit(main())
