"""Every rule carries its own examples (as Fixit rules do): INVALID ones must trigger it, VALID ones must not."""

from __future__ import annotations

import textwrap

import libcst as cst
import pytest

from reslint.model import build_module_model
from reslint.registry import load_rules
from reslint.rule import Rule

RULES = load_rules()


def findings_of(rule: type[Rule], source: str) -> list[str]:
    """The messages of the rule's findings, each placed in the source as the engine would place it."""
    source = textwrap.dedent(source)
    model = build_module_model(cst.parse_module(source), source, "example.py")
    violations = list(rule().check(model))
    for violation in violations:
        model.position(violation.node)  # raises when the node is not part of the file's tree
    return [violation.message for violation in violations]


def _cases(attribute: str) -> list:
    return [
        pytest.param(rule, example, id=f"{rule.code}-{index}")
        for rule in RULES
        for index, example in enumerate(getattr(rule, attribute))
    ]


@pytest.mark.parametrize(("rule", "source"), _cases("INVALID"))
def test_invalid_example_triggers_rule(rule: type[Rule], source: str) -> None:
    assert findings_of(rule, source), f"{rule.code} did not fire on its INVALID example"


@pytest.mark.parametrize(("rule", "source"), _cases("VALID"))
def test_valid_example_is_silent(rule: type[Rule], source: str) -> None:
    assert findings_of(rule, source) == []


@pytest.mark.parametrize("rule", RULES, ids=lambda rule: rule.code)
def test_rule_is_documented_like_ruff(rule: type[Rule]) -> None:
    doc = rule.documentation()
    for heading in ("## What it does", "## Why is this bad?", "## Example", "Use instead:"):
        assert heading in doc, f"{rule.code} documentation lacks {heading!r}"
    assert rule.INVALID and rule.VALID, f"{rule.code} needs INVALID and VALID examples"
    assert rule.code.startswith("RN") and len(rule.code) == 5


def test_codes_are_unique() -> None:
    codes = [rule.code for rule in RULES]
    assert len(codes) == len(set(codes))
