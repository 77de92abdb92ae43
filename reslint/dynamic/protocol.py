"""What the runner and the worker say to each other. Imports neither torch nor the user's code.

Runner -> worker: one `WorkerRequest`, as JSON on the worker's stdin.
Worker -> runner: JSON lines on a pipe of their own (the channel, an fd the worker inherits): `Progress`
events while it works, then one `Result`. The worker's stdout and stderr carry only what the model prints;
the runner keeps a bounded tail of them and never looks there for messages.

Every message starts with a newline as well as ending with one: whatever the model may have written to
the channel before (it is an fd in the model's process too) ends there and is dropped as one bad line.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field
from typing import Any

from reslint.dynamic import codes

# The largest message the runner accepts. A result is a few hundred kB (resnet152's layer table is the
# biggest); a longer line is not reslint's and is dropped without being held in memory.
MAX_MESSAGE_BYTES = 16 * 2**20

# How an allocation failure reads, from Python (MemoryError), torch's allocator ("can't allocate memory"),
# the C library (ENOMEM) and C++ (std::bad_alloc, printed by the runtime before it aborts).
_OUT_OF_MEMORY_WORDS = (
    "MemoryError",
    "can't allocate memory",
    "Cannot allocate memory",
    "std::bad_alloc",
)


@dataclass(frozen=True)
class WorkerRequest:
    comparison: dict[str, Any]  # the fields of compare.Request
    channel: int  # the worker's fd for messages to the runner
    memory_limit: int  # bytes; 0: no limit
    threads: int | None = None  # torch threads; None: the cores nobody else is using
    python_path: list[str] = field(default_factory=list)  # PYTHONPATH, which -I makes Python ignore

    def encode(self) -> bytes:
        return json.dumps(asdict(self)).encode()

    @classmethod
    def decode(cls, data: bytes) -> WorkerRequest:
        return cls(**json.loads(data))


@dataclass(frozen=True)
class Progress:
    """What the worker is doing now and, once known, where the model is defined."""

    phase: str
    path: str | None = None
    line: int = 1


@dataclass(frozen=True)
class Result:
    status: str  # "ok" (result holds the comparison) | "could-not-run" (finding says why)
    result: dict[str, Any] | None = None
    finding: dict[str, Any] | None = None


Message = Progress | Result


def encode(message: Message) -> bytes:
    kind = "progress" if isinstance(message, Progress) else "result"
    return b"\n" + json.dumps({"kind": kind, **asdict(message)}).encode() + b"\n"


def decode(line: bytes) -> Message | None:
    """The message on one line; None for anything else (a blank line, the model's bytes)."""
    try:
        data = json.loads(line)
        kind = data.pop("kind")
        if kind == "progress":
            return Progress(str(data["phase"]), _text_or_none(data.get("path")), int(data["line"]))
        if kind == "result" and data.get("status") in ("ok", "could-not-run"):
            return Result(**data)
    except (ValueError, TypeError, KeyError, AttributeError, RecursionError):
        pass
    return None


def _text_or_none(value: Any) -> str | None:
    return None if value is None else str(value)


def is_out_of_memory(failure: BaseException | str) -> bool:
    """Does this exception, or this text (a crashed worker's last output), say that memory ran out?"""
    if isinstance(failure, MemoryError):
        return True
    text = failure if isinstance(failure, str) else str(failure)
    return any(word in text for word in _OUT_OF_MEMORY_WORDS)


def finding(code: str, message: str, hint: str, path: str, line: int = 1) -> dict[str, Any]:
    """A dynamic finding as JSON, anchored at the start of `line`."""
    return codes.finding(code, message, hint, (path, line)).to_dict()
