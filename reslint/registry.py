"""Finds the rules: every module in reslint.rules defines exactly one Rule subclass, and is named
after its code (RN203_conv_bias_before_norm.py)."""

from __future__ import annotations

import importlib
import pkgutil
from functools import lru_cache
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from reslint.rule import Rule


@lru_cache(maxsize=1)
def load_rules() -> tuple[type[Rule], ...]:
    import reslint.rules as package
    from reslint.rule import Rule

    rules: list[type[Rule]] = []
    for info in pkgutil.iter_modules(package.__path__):
        if info.name.startswith("_"):
            continue
        module = importlib.import_module(f"{package.__name__}.{info.name}")
        found = [
            obj
            for obj in vars(module).values()
            if isinstance(obj, type)
            and issubclass(obj, Rule)
            and obj is not Rule
            and obj.__module__ == module.__name__
        ]
        if len(found) != 1 or not info.name.startswith(f"{found[0].code}_"):
            raise RuntimeError(
                f"rule module {module.__name__} must define exactly one Rule, named after its "
                f"code: found {[rule.code for rule in found]}"
            )
        rules.append(found[0])
    return tuple(sorted(rules, key=lambda rule: rule.code))


def rule_codes() -> list[str]:
    """The catalogue's codes, read from the module names (RN203_conv_bias_before_norm.py) without
    importing the rules: checking a --select needs no libcst."""
    import reslint.rules as package

    return sorted(
        info.name.split("_", 1)[0]
        for info in pkgutil.iter_modules(package.__path__)
        if not info.name.startswith("_")
    )


def checking_rules() -> tuple[type[Rule], ...]:
    """The rules whose check() runs on a module model."""
    return tuple(rule for rule in load_rules() if not rule.file_level)


def file_level_rules() -> tuple[type[Rule], ...]:
    """The codes the engine reports about a file as a whole (RN001 syntax error, ...)."""
    return tuple(rule for rule in load_rules() if rule.file_level)
