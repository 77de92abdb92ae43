"""The reference's stages (stem, layer1..layerK, head) by name, and a table of module names, types and
children that the user's model is described by. Pure Python.

A user's model gets its stages from the alignment with the reference (reslint.dynamic.matching), never
from its own module names.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

STEM, HEAD, UNUSED = "stem", "head", "not called"


@dataclass(frozen=True)
class ModuleInfo:
    name: str
    type: str
    children: tuple[str, ...]  # qualified names

    @property
    def leaf(self) -> bool:
        return not self.children


def first_calls(modules: dict[str, ModuleInfo], call_names: Sequence[str]) -> dict[str, int]:
    """Index of the first leaf call inside each module (a module is called when one of its leaves is)."""
    first: dict[str, int] = {}
    for index, name in enumerate(call_names):
        for prefix in _prefixes(name):
            first.setdefault(prefix, index)
    return {name: index for name, index in first.items() if name in modules}


def _prefixes(name: str) -> list[str]:
    parts = name.split(".") if name else []
    return [""] + [".".join(parts[: i + 1]) for i in range(len(parts))]


def stage_of(module: str, stages: Sequence[str], first: dict[str, int]) -> str:
    """The stage a called module (qualified name) belongs to: a stage name, 'stem' or 'head'; modules
    outside every stage go by their first call."""
    for stage in stages:
        if module == stage or module.startswith(stage + "."):
            return stage
    if module not in first:
        return UNUSED
    stage_starts = [first[s] for s in stages if s in first]
    return STEM if not stage_starts or first[module] < min(stage_starts) else HEAD


def stage_order(stages: Sequence[str]) -> list[str]:
    return [STEM, *stages, HEAD]
