"""Every code reslint reports, static (RN, the rule catalogue) and dynamic (RD, reslint/dynamic/codes.py),
in one table: what --list-rules lists, --explain documents, and --select/--ignore/noqa accept.

Nothing here imports torch: the dynamic codes and their documentation live in a torch-free module.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

from reslint.findings import Severity


@dataclass(frozen=True)
class CodeInfo:
    code: str
    name: str
    severity: Severity
    summary: str
    documentation: str
    origin: str  # "static" or "dynamic"
    opt_in: bool = False


@lru_cache(maxsize=1)
def all_codes() -> tuple[CodeInfo, ...]:
    from reslint.dynamic.codes import CODES, documentation
    from reslint.registry import load_rules

    static = [
        CodeInfo(
            rule.code,
            rule.name,
            Severity(rule.severity),
            rule.summary(),
            rule.documentation(),
            "static",
            rule.opt_in,
        )
        for rule in load_rules()
    ]
    dynamic = [
        CodeInfo(
            code.code, code.name, code.severity, code.summary, documentation(code.code), "dynamic"
        )
        for code in CODES.values()
    ]
    return tuple(static + dynamic)


def lookup(code: str) -> CodeInfo | None:
    wanted = code.strip().upper()
    return next((info for info in all_codes() if info.code == wanted), None)


def known_codes() -> list[str]:
    """Every code, without loading the rule catalogue (see registry.rule_codes)."""
    from reslint.dynamic.codes import CODES
    from reslint.registry import rule_codes

    return [*rule_codes(), *CODES]
