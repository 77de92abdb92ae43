"""Reading a file to lint: its text, or the file-level finding that explains why there is none."""

from __future__ import annotations

import io
import os
import re
import stat
import tokenize
from dataclasses import dataclass

from reslint.findings import Finding, Severity

DEFAULT_MAX_BYTES = 5 * 1024 * 1024

UNREADABLE = "RN002"
TOO_LARGE = "RN003"

_LINE = re.compile(r"[^\r\n]*(?:\r\n|\r|\n)|[^\r\n]+\Z")


@dataclass(frozen=True)
class SourceFile:
    """A file's text (BOM removed), or `finding` when it cannot be linted. `empty` files have neither."""

    path: str
    text: str | None
    finding: Finding | None = None

    @property
    def empty(self) -> bool:
        return self.text is not None and not self.text.strip()


_KINDS = (
    (stat.S_ISDIR, "a directory"),
    (stat.S_ISFIFO, "a named pipe (FIFO)"),
    (stat.S_ISCHR, "a character device"),
    (stat.S_ISBLK, "a block device"),
    (stat.S_ISSOCK, "a socket"),
)


def _kind_of(mode: int) -> str | None:
    """What a file that is not a regular file is, from its st_mode; None for a regular file."""
    if stat.S_ISREG(mode):
        return None
    return next((kind for test, kind in _KINDS if test(mode)), "not a regular file")


def special_file_kind(path: str) -> str | None:
    """What `path` (symlinks followed) is when it exists but is not a regular file: 'a named pipe (FIFO)',
    'a character device', ...; None for a regular file or a path that does not exist."""
    try:
        return _kind_of(os.stat(path).st_mode)
    except (OSError, ValueError):
        return None


def is_lintable_file(path: str) -> bool:
    """Can the static pass read `path`? Only regular files (symlinks followed): reading a FIFO blocks
    forever, and /dev/zero or /dev/urandom never end. Folder discovery skips anything else."""
    try:
        return stat.S_ISREG(os.stat(path).st_mode)
    except (OSError, ValueError):
        return False


class NotRegularFile(OSError):
    """A path that names a FIFO, a device, a socket or a folder: reading it could wait forever (a FIFO)
    or never end (/dev/zero), so it is not read."""

    def __init__(self, kind: str) -> None:
        super().__init__(f"it is {kind}, not a regular file")
        self.kind = kind


class FileTooLarge(OSError):
    def __init__(self, size: int, limit: int) -> None:
        super().__init__(f"it is {_megabytes(size)}, over the {_megabytes(limit)} limit")
        self.size, self.limit = size, limit


def read_regular_file(path: str, max_bytes: int) -> bytes:
    """The bytes of `path` (symlinks followed) when it is a regular file of at most `max_bytes`; else
    NotRegularFile, FileTooLarge or another OSError. Every file reslint reads goes through here: source,
    configuration, .gitignore and cache alike may be a FIFO or a link to /dev/zero."""
    with open(path, "rb", opener=_open_without_waiting) as handle:
        info = os.fstat(handle.fileno())
        kind = _kind_of(info.st_mode)
        if kind is not None:
            raise NotRegularFile(kind)
        # /proc files and growing files say less than they hold: never read past the limit
        data = handle.read(max_bytes + 1) if info.st_size <= max_bytes else b""
    size = max(info.st_size, len(data))
    if size > max_bytes:
        raise FileTooLarge(size, max_bytes)
    return data


def read_source(path: str, max_bytes: int = DEFAULT_MAX_BYTES) -> SourceFile:
    try:
        data = read_regular_file(path, max_bytes)
    except NotRegularFile as error:
        return _skipped(
            path,
            UNREADABLE,
            Severity.ERROR,
            f"not read: {error}",
            "lint the .py files themselves",
        )
    except FileTooLarge as error:
        return _skipped(
            path,
            TOO_LARGE,
            Severity.WARNING,
            f"file skipped: {_megabytes(error.size)} is over the {_megabytes(error.limit)} size limit",
            "split the file, or lint the models it contains separately",
        )
    except OSError as error:
        return _skipped(
            path, UNREADABLE, Severity.ERROR, f"cannot read file: {error.strerror or error}", ""
        )
    return decode_source(path, data)


def _open_without_waiting(path: str, flags: int) -> int:
    """Opening a FIFO would wait for a writer; with O_NONBLOCK it returns, and fstat says what it is."""
    return os.open(path, flags | os.O_NONBLOCK | getattr(os, "O_NOCTTY", 0))


def decode_source(path: str, data: bytes) -> SourceFile:
    """Decode like Python does: UTF-8 unless a coding cookie says otherwise; a BOM is dropped."""
    if b"\0" in data:
        return _skipped(
            path,
            UNREADABLE,
            Severity.ERROR,
            "binary file: it contains NUL bytes, so it is not Python source",
            "",
        )
    try:
        encoding, _ = tokenize.detect_encoding(io.BytesIO(data).readline)
    except SyntaxError as error:
        reason = str(error.msg)
        if reason.startswith("invalid or missing encoding declaration"):
            reason = "not valid UTF-8"
        elif (
            reason == "encoding problem: utf-8"
        ):  # what tokenize says of a BOM beside another coding
            reason = "it starts with a UTF-8 byte-order mark but declares another coding"
        return _skipped(
            path, UNREADABLE, Severity.ERROR, f"unreadable file: {reason}", "save the file as UTF-8"
        )
    try:
        text = data.decode(encoding)
    except UnicodeDecodeError as error:
        name = "UTF-8" if encoding in ("utf-8", "utf-8-sig") else encoding
        return _skipped(
            path,
            UNREADABLE,
            Severity.ERROR,
            f"unreadable file: not valid {name} (byte {error.start})",
            "save the file as UTF-8",
        )
    except (ValueError, LookupError, TypeError):
        # a codec that cannot decode source at all: 'undefined' raises UnicodeError, 'rot13' and 'hex'
        # LookupError (not text encodings)
        return _skipped(
            path,
            UNREADABLE,
            Severity.ERROR,
            f"unreadable file: its coding declaration names {encoding!r}, which cannot decode it",
            "save the file as UTF-8 and remove the coding declaration",
        )
    return SourceFile(path, text.removeprefix("\ufeff"))


def _skipped(path: str, code: str, severity: Severity, message: str, hint: str) -> SourceFile:
    return SourceFile(path, None, Finding(path, 1, 1, 1, 2, code, severity, message, hint))


def _megabytes(size: int) -> str:
    return f"{size / (1024 * 1024):.1f} MB"


def split_lines(text: str) -> list[str]:
    """Physical lines with their endings, split where Python's tokenizer splits them (\\n, \\r\\n, \\r; not
    on form feeds or Unicode line separators, which str.splitlines() would also split on)."""
    return _LINE.findall(text)
