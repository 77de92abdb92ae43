"""reslint: a fault-finding linter for residual-network code written in PyTorch.

`reslint.check_source(text, path="model.py")` and `reslint.check_paths([...])` lint and return the
findings; `reslint.fix_source(text)` returns what `reslint --fix` would write. They are imported on
first use, so `import reslint` stays cheap (no libcst, no torch).
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

__version__ = "0.1.0"

if TYPE_CHECKING:
    from reslint.api import check_paths, check_source, fix_source
    from reslint.dynamic.api import compare
    from reslint.findings import Finding, Severity
    from reslint.settings import ConfigError

__all__ = [
    "ConfigError",
    "Finding",
    "Severity",
    "__version__",
    "check_paths",
    "check_source",
    "compare",
    "fix_source",
]

_LAZY = {
    "check_paths": "reslint.api",
    "check_source": "reslint.api",
    "compare": "reslint.dynamic.api",  # imports torch only when used
    "fix_source": "reslint.api",
    "ConfigError": "reslint.settings",
    "Finding": "reslint.findings",
    "Severity": "reslint.findings",
}


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        return getattr(importlib.import_module(_LAZY[name]), name)
    raise AttributeError(f"module 'reslint' has no attribute {name!r}")
