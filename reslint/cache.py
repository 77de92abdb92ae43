"""Results of earlier runs, so that a re-run on unchanged files costs little more than start-up.

A file's entry is keyed by its content, by reslint itself (its version and the size and time of every
one of its modules, so an edited rule counts as a new reslint) and by the settings that decide what is checked in it (the
selection, its per-file-ignores, the rule set). Entries live in one JSON file per reslint in `.reslint_cache/` at the
project root (the folder of the configuration file, or the working directory), or in
$RESLINT_CACHE_DIR. The folder holds a `.gitignore` of `*`, so it is never committed. A cache that
cannot be read or written is simply not used.
"""

from __future__ import annotations

import hashlib
import json
import os
import tempfile
from functools import lru_cache
from typing import TYPE_CHECKING, Any

from reslint.findings import FileResult, Finding
from reslint.source import read_regular_file

if TYPE_CHECKING:
    from reslint.settings import Settings

INTERNAL_ERROR = "RN004"  # rules/RN004_internal_error.py (not imported: it would load libcst)

DIRECTORY_NAME = ".reslint_cache"
MAX_CACHE_BYTES = 2**28  # far above any real project's; the file may be a link to a device


class Cache:
    def __init__(self, directory: str) -> None:
        self.directory = directory
        self.file = os.path.join(directory, f"results-{reslint_fingerprint()[:16]}.json")
        self.entries: dict[str, dict[str, Any]] = _load(self.file)
        self.changed = False

    def key(self, path: str, settings: Settings) -> str | None:
        """What the result of `path` depends on; None when the file cannot be read (nothing cached)."""
        try:
            content = read_regular_file(path, settings.max_bytes)
        except (
            OSError
        ):  # also a FIFO (it would block), a device (it would never end), a file too large
            return None
        digest = hashlib.sha256(settings.fingerprint_for(path).encode())
        digest.update(b"\0" + os.path.splitext(path)[1].encode() + b"\0" + content)
        return digest.hexdigest()

    def get(self, path: str, key: str | None) -> FileResult | None:
        entry = self.entries.get(os.path.abspath(path))
        if key is None or entry is None or entry.get("key") != key:
            return None
        try:
            findings = [_finding(path, data) for data in entry["findings"]]
            return FileResult(path, findings, empty=bool(entry["empty"]))
        except (KeyError, TypeError, ValueError):  # an entry from an older layout: lint again
            return None

    def put(self, key: str | None, result: FileResult) -> None:
        # An internal error may be passing (memory, a killed worker): never keep it.
        if key is None or any(f.code == INTERNAL_ERROR for f in result.findings):
            return
        self.entries[os.path.abspath(result.path)] = {
            "key": key,
            "empty": result.empty,
            "findings": [_finding_data(finding) for finding in result.findings],
        }
        self.changed = True

    def save(self) -> None:
        if not self.changed:
            return
        try:
            _prepare(self.directory)
            handle, temporary = tempfile.mkstemp(dir=self.directory, suffix=".tmp")
            with os.fdopen(handle, "w", encoding="utf-8") as out:
                json.dump(self.entries, out, separators=(",", ":"))
            os.replace(temporary, self.file)
            _remove_older(self.directory, keep=self.file)
        except OSError:
            pass  # a read-only project: run without a cache
        self.changed = False


def default_directory(project_root: str) -> str:
    return os.environ.get("RESLINT_CACHE_DIR") or os.path.join(project_root, DIRECTORY_NAME)


@lru_cache(maxsize=1)
def reslint_fingerprint() -> str:
    """reslint's version and the size and modification time of each of its modules (rules and
    framework stubs included)."""
    import reslint
    import reslint.rules

    digest = hashlib.sha256(reslint.__version__.encode())
    for folder in sorted({*reslint.__path__, *reslint.rules.__path__}):
        for root, _, names in sorted(os.walk(folder)):
            for name in sorted(names):
                if name.endswith((".py", ".pystub")):  # stubs: reslint.knowledge.stubs
                    status = os.stat(os.path.join(root, name))
                    digest.update(f"{root}/{name}:{status.st_size}:{status.st_mtime_ns}\n".encode())
    return digest.hexdigest()


def _finding_data(finding: Finding) -> dict[str, Any]:
    data = finding.to_dict()
    del data["path"]  # the path as shown depends on how the run named the file
    return data


def _finding(path: str, data: dict[str, Any]) -> Finding:
    return Finding.from_dict({**data, "path": path})


def _load(file: str) -> dict[str, dict[str, Any]]:
    try:
        entries = json.loads(read_regular_file(file, MAX_CACHE_BYTES))
    except (OSError, ValueError):
        return {}
    return entries if isinstance(entries, dict) else {}


def _prepare(directory: str) -> None:
    os.makedirs(directory, exist_ok=True)
    ignore = os.path.join(directory, ".gitignore")
    if not os.path.exists(ignore):
        with open(ignore, "w", encoding="utf-8") as handle:
            handle.write("# Created by reslint: its cache is never committed.\n*\n")


def _remove_older(directory: str, keep: str) -> None:
    for name in os.listdir(directory):
        path = os.path.join(directory, name)
        if name.startswith("results-") and name.endswith(".json") and path != keep:
            os.remove(path)
