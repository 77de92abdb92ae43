"""Would the reference's pretrained weights load into the user's model with load_state_dict(strict=True)?

Pure Python: compares {key: shape} layouts, exactly what strict loading checks.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


@dataclass
class StateDictReport:
    missing: list[str] = field(default_factory=list)  # in the user's model, not in the checkpoint
    unexpected: list[str] = field(
        default_factory=list
    )  # in the checkpoint, not in the user's model
    mismatched: list[dict[str, Any]] = field(default_factory=list)  # same key, other shape

    @property
    def loads(self) -> bool:
        return not (self.missing or self.unexpected or self.mismatched)

    def to_dict(self) -> dict[str, object]:
        return {
            "loads": self.loads,
            "missing": self.missing,
            "unexpected": self.unexpected,
            "mismatched": self.mismatched,
        }


def compare_layouts(
    model: dict[str, list[int]], checkpoint: dict[str, list[int]]
) -> StateDictReport:
    """Keys in model order; missing/unexpected are named as torch's load_state_dict names them."""
    report = StateDictReport()
    for key, shape in model.items():
        if key not in checkpoint:
            report.missing.append(key)
        elif list(checkpoint[key]) != list(shape):
            report.mismatched.append(
                {"key": key, "model": list(shape), "reference": list(checkpoint[key])}
            )
    report.unexpected = [key for key in checkpoint if key not in model]
    return report


def parse_layout(text: str) -> dict[str, list[int]]:
    """Read a `key shape` per line layout file, e.g. `layer1.0.conv1.weight [64, 64, 1, 1]`."""
    layout: dict[str, list[int]] = {}
    for line in text.splitlines():
        if line.strip() and not line.startswith("#"):
            key, _, shape = line.partition(" ")
            inner = shape.strip().strip("[]").strip()
            layout[key] = [int(part) for part in inner.split(",")] if inner else []
    return layout


def format_layout(layout: dict[str, list[int]]) -> str:
    return "".join(f"{key} [{', '.join(map(str, shape))}]\n" for key, shape in layout.items())
