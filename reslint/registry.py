"""Finds the rules: every module in reslint.rules defines exactly one Rule subclass."""

from __future__ import annotations

import importlib
import pkgutil
from functools import lru_cache

from reslint.rule import Rule


@lru_cache(maxsize=1)
def load_rules() -> tuple[type[Rule], ...]:
    import reslint.rules as package

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
        if len(found) != 1:
            raise RuntimeError(
                f"rule module {module.__name__} must define exactly one Rule, found {len(found)}"
            )
        rules.append(found[0])
    return tuple(sorted(rules, key=lambda rule: rule.code))


def checking_rules() -> tuple[type[Rule], ...]:
    """The rules whose check() runs on a module model."""
    return tuple(rule for rule in load_rules() if not rule.file_level)


def file_level_rules() -> tuple[type[Rule], ...]:
    """The codes the engine reports about a file as a whole (RN001 syntax error, ...)."""
    return tuple(rule for rule in load_rules() if rule.file_level)
