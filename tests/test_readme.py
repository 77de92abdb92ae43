"""README.md stays true: its code tables come from the code, and its test command is the one CI runs.

Refresh the tables after adding or changing a rule or code:  python tests/test_readme.py --write
"""

from __future__ import annotations

import re
import sys
from pathlib import Path

import pytest

from reslint.dynamic.codes import CODES as DYNAMIC_CODES
from reslint.registry import load_rules as all_rules  # every static code, RN001 included

PROJECT = Path(__file__).resolve().parents[1]
README = PROJECT / "README.md"
CI_SCRIPT = PROJECT / ".ci" / "run"
SENTENCE_END = re.compile(r"(?<=[.!?])\s+(?=[A-Z`(])")
CODE_IN_TABLE = re.compile(r"^\| (R[ND]\d{3}) \|", re.MULTILINE)
HEADER = "| Code | Name | Severity | What it finds |\n| --- | --- | --- | --- |\n"
RULE_HEADER = "| Code | Name | Severity | Fix | What it finds |\n| --- | --- | --- | --- | --- |\n"


def render_rule_table() -> str:
    """What `reslint --list-rules` knows: the engine's file-level codes and every rule module."""
    rules = all_rules()
    return RULE_HEADER + "".join(
        _row(r.code, r.name, r.severity.value, _fix(r), first_sentence(r.documentation()))
        for r in rules
    )


def _fix(rule) -> str:
    """What `reslint --fix` does for the rule: `safe`, `unsafe` (with --unsafe-fixes) or nothing."""
    return rule.fixable.value if rule.fixable is not None else ""


def render_dynamic_codes() -> str:
    return HEADER + "".join(
        _row(c.code, c.name, c.severity.value, c.summary) for c in DYNAMIC_CODES.values()
    )


GENERATED_BLOCKS = {"RULE TABLE": render_rule_table, "DYNAMIC CODES": render_dynamic_codes}


def _row(*cells: str) -> str:
    return "| " + " | ".join(cell.replace("|", "\\|") for cell in cells) + " |\n"


def first_sentence(documentation: str) -> str:
    """The first sentence of the 'What it does' paragraph, which may wrap over several lines."""
    body = documentation.split("## What it does", 1)[-1].strip()
    paragraph = " ".join(body.split("\n\n", 1)[0].split())
    return SENTENCE_END.split(paragraph, 1)[0]


def _block_pattern(name: str) -> re.Pattern[str]:
    return re.compile(rf"(<!-- BEGIN {name}[^\n]*-->\n)(.*?)(<!-- END {name} -->)", re.DOTALL)


def readme_block(text: str, name: str) -> str:
    match = _block_pattern(name).search(text)
    assert match, f"README.md has lost its <!-- BEGIN {name} --> ... <!-- END {name} --> markers"
    return match.group(2)


def setup_commands(text: str) -> list[str]:
    section = text.split("## Set up", 1)[1].split("\n## ", 1)[0]
    return [block.strip() for block in re.findall(r"```bash\n(.*?)```", section, re.DOTALL)]


def write_generated_blocks() -> None:
    text = README.read_text(encoding="utf-8")
    for name, render in GENERATED_BLOCKS.items():
        readme_block(text, name)
        table = render()
        text = _block_pattern(name).sub(
            lambda m, table=table: m.group(1) + table + m.group(3), text, count=1
        )
    README.write_text(text, encoding="utf-8")


def test_every_code_is_in_the_readme() -> None:
    text = README.read_text(encoding="utf-8")
    missing = [
        code
        for code in [rule.code for rule in all_rules()] + list(DYNAMIC_CODES)
        if code not in text
    ]
    assert not missing, (
        f"README.md does not mention {missing}; run `python tests/test_readme.py --write`"
    )


@pytest.mark.parametrize(
    ("name", "codes"), [("RULE TABLE", all_rules), ("DYNAMIC CODES", lambda: DYNAMIC_CODES)]
)
def test_readme_tables_are_generated_from_the_code(name: str, codes) -> None:
    block = readme_block(README.read_text(encoding="utf-8"), name)
    listed = CODE_IN_TABLE.findall(block)
    known = [getattr(item, "code", item) for item in codes()]
    assert listed == known, (
        f"README lists codes that do not exist: {sorted(set(listed) - set(known))}; "
        f"codes missing from README: {sorted(set(known) - set(listed))}; run `python tests/test_readme.py --write`"
    )
    assert block == GENERATED_BLOCKS[name](), (
        f"README's {name.lower()} differs from the names, severities or summaries in the code; "
        "run `python tests/test_readme.py --write`"
    )


def test_readme_has_two_setup_commands_and_ci_runs_the_test_one() -> None:
    commands = setup_commands(README.read_text(encoding="utf-8"))
    assert len(commands) == 2, commands
    install_and_lint, run_tests = commands
    assert "pip install" in install_and_lint and "reslint fixtures/" in install_and_lint
    ci_command = re.search(
        r'^TEST_COMMAND="([^"]+)"', CI_SCRIPT.read_text(encoding="utf-8"), re.MULTILINE
    )
    assert ci_command, ".ci/run no longer defines TEST_COMMAND"
    assert run_tests == ci_command.group(1), (
        f"README runs `{run_tests}`, CI runs `{ci_command.group(1)}`"
    )


if __name__ == "__main__":
    if sys.argv[1:] != ["--write"]:
        sys.exit(
            "usage: python tests/test_readme.py --write   (rewrites README.md's code tables from the code)"
        )
    write_generated_blocks()
    print(f"rewrote the generated tables in {README}")
