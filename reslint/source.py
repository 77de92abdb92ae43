"""Reading a file to lint: its text, or the file-level finding that explains why there is none."""

from __future__ import annotations

import io
import os
import re
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


def read_source(path: str, max_bytes: int = DEFAULT_MAX_BYTES) -> SourceFile:
    try:
        size = os.path.getsize(path)
        if size > max_bytes:
            return _skipped(
                path,
                TOO_LARGE,
                Severity.WARNING,
                f"file skipped: {_megabytes(size)} is over the {_megabytes(max_bytes)} size limit",
                "split the file, or lint the models it contains separately",
            )
        with open(path, "rb") as handle:
            data = handle.read()
    except OSError as error:
        return _skipped(
            path, UNREADABLE, Severity.ERROR, f"cannot read file: {error.strerror or error}", ""
        )
    return decode_source(path, data)


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
        return _skipped(
            path, UNREADABLE, Severity.ERROR, f"unreadable file: {reason}", "save the file as UTF-8"
        )
    try:
        text = data.decode(encoding)
    except (UnicodeDecodeError, LookupError) as error:
        where = f" (byte {error.start})" if isinstance(error, UnicodeDecodeError) else ""
        name = "UTF-8" if encoding in ("utf-8", "utf-8-sig") else encoding
        return _skipped(
            path,
            UNREADABLE,
            Severity.ERROR,
            f"unreadable file: not valid {name}{where}",
            "save the file as UTF-8",
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
