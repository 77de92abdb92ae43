"""Which stage (stem, layer1..layerK, head) each module belongs to, for models whose names differ too.

Pure Python: works on a table of module names, types and children, plus the order of leaf calls.
A stage is found by name when the model has the reference's stage attributes (layer1, layer2, ...);
otherwise it is a module whose children are all residual blocks (custom, non-container modules that
have children of their own), taken in call order and mapped to the reference's stages by position.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

CONTAINER_TYPES = frozenset({"Sequential", "ModuleList", "ModuleDict"})
STEM, HEAD, UNUSED = "stem", "head", "not called"


@dataclass(frozen=True)
class ModuleInfo:
    name: str
    type: str
    children: tuple[str, ...]  # qualified names

    @property
    def leaf(self) -> bool:
        return not self.children


def _is_block(info: ModuleInfo) -> bool:
    return not info.leaf and info.type not in CONTAINER_TYPES


def _qualifies(info: ModuleInfo, modules: dict[str, ModuleInfo]) -> bool:
    return bool(info.children) and all(_is_block(modules[child]) for child in info.children)


def _by_first_call(names: Iterable[str], first_call: dict[str, int]) -> list[str]:
    called = [name for name in names if name in first_call]
    return sorted(called, key=first_call.__getitem__)


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


def find_stages(
    modules: dict[str, ModuleInfo], call_names: Sequence[str], reference_stages: Sequence[str]
) -> list[str]:
    """Qualified names of the model's stage modules, in forward order."""
    first = first_calls(modules, call_names)
    if all(stage in modules for stage in reference_stages):
        return list(reference_stages)
    qualifying = {name for name, info in modules.items() if _qualifies(info, modules)}
    level = {
        name
        for name in qualifying
        if not any(child in qualifying for child in modules[name].children)
    }
    candidates = [level]
    while level:  # walk up: stages whose blocks were themselves mistaken for stages
        level = {
            name
            for name in qualifying
            if modules[name].children and set(modules[name].children) <= level
        }
        if level:
            candidates.append(level)
    for level in candidates:
        if len(_by_first_call(level, first)) == len(reference_stages):
            return _by_first_call(level, first)
    numbered = [
        n for n in modules if re.fullmatch(r"(layer|stage|res|conv)\d+(_x)?", n.split(".")[-1])
    ]
    return _by_first_call(numbered, first) or _by_first_call(candidates[0], first)


def stage_of(
    module: str, stages: Sequence[str], first: dict[str, int], order: Sequence[str] = ()
) -> str:
    """The stage a module (qualified name) belongs to: a stage name, 'stem' or 'head'.

    Modules outside every stage go by their first call; modules forward never reached (it may have
    failed first) go by where they are registered relative to the stages, else 'not called'."""
    for stage in stages:
        if module == stage or module.startswith(stage + "."):
            return stage
    if module in first:
        stage_starts = [first[s] for s in stages if s in first]
        return STEM if not stage_starts or first[module] < min(stage_starts) else HEAD
    positions = {name: index for index, name in enumerate(order)}
    stage_positions = [positions[s] for s in stages if s in positions]
    if module not in positions or not stage_positions:
        return UNUSED
    return STEM if positions[module] < min(stage_positions) else HEAD


def stage_order(stages: Sequence[str]) -> list[str]:
    return [STEM, *stages, HEAD]
