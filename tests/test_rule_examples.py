"""Every rule carries its own examples (as Fixit rules do): INVALID ones must trigger it, VALID ones must not."""

from __future__ import annotations

import textwrap

import pytest

from reslint.engine import Checks, lint_read_source
from reslint.fixer import fix_text
from reslint.registry import load_rules
from reslint.rule import Rule
from reslint.source import decode_source

RULES = load_rules()


def findings_of(rule: type[Rule], source: str) -> list[str]:
    """The rule's findings on the example, through the whole pipeline (file-level rules included)."""
    return [finding.message for finding in _findings(rule, source)]


def _findings(rule: type[Rule], source: str) -> list:
    text = textwrap.dedent(source)
    result = lint_read_source(decode_source("example.py", text.encode("utf-8")), _checks(rule))
    return result.findings


def _checks(rule: type[Rule]) -> Checks:
    return Checks(() if rule.file_level else (rule,), frozenset({rule.code}))


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


def _fix_cases() -> list:
    return [
        pytest.param(rule, example, fixed, id=f"{rule.code}-{index}")
        for rule in RULES
        for index, (example, fixed) in enumerate(
            zip(rule.INVALID, rule.FIXED or [None] * len(rule.INVALID), strict=False)
        )
    ]


@pytest.mark.parametrize("rule", RULES, ids=lambda rule: rule.code)
def test_fixed_examples_match_invalid_ones(rule: type[Rule]) -> None:
    """FIXED has one entry an INVALID example; a rule declares its fixes' safety exactly when it
    fixes, and its examples' fixes have that safety."""
    assert not rule.FIXED or len(rule.FIXED) == len(rule.INVALID)
    assert (rule.fixable is not None) == any(rule.FIXED)
    fixes = [f.fix for example in rule.INVALID for f in _findings(rule, example) if f.fix]
    assert all(fix.applicability == rule.fixable for fix in fixes)


@pytest.mark.parametrize(("rule", "source", "fixed"), _fix_cases())
def test_invalid_example_is_fixed_as_declared(
    rule: type[Rule], source: str, fixed: str | None
) -> None:
    """Fixit's expected_replacement: the rule's fix turns its INVALID example into FIXED; an example
    with no FIXED source gets no fix at all."""
    text = textwrap.dedent(source)
    if fixed is None:
        assert all(finding.fix is None for finding in _findings(rule, source))
        return
    outcome = fix_text(text, "example.py", _checks(rule), unsafe=True)
    assert outcome.text == textwrap.dedent(fixed)
    assert not any(finding.code == rule.code for finding in outcome.findings)


@pytest.mark.parametrize("rule", RULES, ids=lambda rule: rule.code)
def test_rule_is_documented_like_ruff(rule: type[Rule]) -> None:
    doc = rule.documentation()
    for heading in ("## What it does", "## Why is this bad?", "## Example", "Use instead:"):
        assert heading in doc, f"{rule.code} documentation lacks {heading!r}"
    # A file-level rule may have no example file (RN003's would be 5 MB); its docstring says why.
    assert (rule.INVALID and rule.VALID) or rule.file_level, f"{rule.code} needs examples"
    assert rule.code.startswith("RN") and len(rule.code) == 5


def test_codes_are_unique() -> None:
    codes = [rule.code for rule in RULES]
    assert len(codes) == len(set(codes))
