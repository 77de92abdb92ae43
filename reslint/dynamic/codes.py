"""Finding codes of the dynamic pass (stable; never reuse a number). Importable without torch.

RD0xx: the model could not be compared (exit 2). RD1xx: the model differs from the reference (exit 1).
"""

from __future__ import annotations

from dataclasses import dataclass

from reslint.findings import Finding, Severity


@dataclass(frozen=True)
class Code:
    code: str
    name: str
    severity: Severity
    summary: str


_CODES = (
    Code(
        "RD001",
        "bad-target",
        Severity.ERROR,
        "TARGET or ARCH is malformed, missing, or names no model.",
    ),
    Code("RD002", "import-failed", Severity.ERROR, "Importing the target's module raised."),
    Code(
        "RD003",
        "needs-arguments",
        Severity.ERROR,
        "The model needs constructor arguments; pass them with --init.",
    ),
    Code("RD004", "init-failed", Severity.ERROR, "Building the model raised."),
    Code(
        "RD005",
        "forward-failed",
        Severity.ERROR,
        "forward raised a non-shape error on the reference's own input.",
    ),
    Code(
        "RD006",
        "timeout",
        Severity.ERROR,
        "The model did not finish within --timeout seconds; it was killed.",
    ),
    Code(
        "RD007",
        "memory-limit",
        Severity.ERROR,
        "The model exhausted the memory cap of the isolated process.",
    ),
    Code(
        "RD008",
        "worker-crashed",
        Severity.ERROR,
        "The isolated process died (signal or interpreter crash).",
    ),
    Code(
        "RD009",
        "not-a-model",
        Severity.ERROR,
        "The target is not an nn.Module class or a function returning one.",
    ),
    Code("RD099", "internal-error", Severity.ERROR, "reslint itself failed; please report it."),
    Code(
        "RD101",
        "shape-mismatch",
        Severity.ERROR,
        "A layer or block outputs a different shape than the reference.",
    ),
    Code(
        "RD102",
        "parameter-count",
        Severity.ERROR,
        "A stage (or the whole model) has a different parameter count.",
    ),
    Code(
        "RD103",
        "failing-input",
        Severity.ERROR,
        "The model fails (or works) on an input where the reference does not.",
    ),
    Code(
        "RD104",
        "output-shape",
        Severity.ERROR,
        "The model's output shape differs from the reference's.",
    ),
    Code(
        "RD105",
        "state-dict",
        Severity.WARNING,
        "The reference's pretrained state_dict would not load strictly.",
    ),
    Code(
        "RD106",
        "uncalled-module",
        Severity.WARNING,
        "A submodule is built but never called in forward.",
    ),
    Code(
        "RD107",
        "non-square-input",
        Severity.WARNING,
        "The model fails only on non-square inputs; every square size works.",
    ),
    Code(
        "RD108",
        "output-element",
        Severity.INFO,
        "forward returns a tuple or dict; says which tensor is compared (--output picks another).",
    ),
    Code(
        "RD109",
        "function-differs",
        Severity.ERROR,
        "Given the reference's weights, a block computes another function than the reference's.",
    ),
    Code(
        "RD110",
        "function-unchecked",
        Severity.INFO,
        "The reference's weights cannot be handed to the model one to one; says why.",
    ),
    Code(
        "RD111",
        "architecture",
        Severity.INFO,
        "Names the reference the model is (blocks per stage) and how it departs from the one asked for.",
    ),
)

CODES: dict[str, Code] = {code.code: code for code in _CODES}
COULD_NOT_RUN = frozenset(code for code in CODES if code.startswith("RD0"))


def severity_of(code: str) -> Severity:
    return CODES[code].severity


def finding(code: str, message: str, hint: str, where: tuple[str, int]) -> Finding:
    """A dynamic finding at the start of line `where[1]` of file `where[0]`."""
    path, line = where
    return Finding(path, line, 1, line, 1, code, severity_of(code), message, hint)
