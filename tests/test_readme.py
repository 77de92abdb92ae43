"""README.md stays true: its rule table is what `reslint --list-rules` lists, and its test command is the one CI runs.

Refresh the rule table after adding or renaming a rule:  python tests/test_readme.py --write
"""

from __future__ import annotations

import re
import sys
from pathlib import Path

from reslint.engine import all_rules  # the engine's file-level codes (RN001-RN003) and the rule catalogue

PROJECT = Path(__file__).resolve().parents[1]
README = PROJECT / "README.md"
CI_SCRIPT = PROJECT / ".ci" / "run"
TABLE = re.compile(r"(<!-- BEGIN RULE TABLE[^\n]*-->\n)(.*?)(<!-- END RULE TABLE -->)", re.DOTALL)
SENTENCE_END = re.compile(r"(?<=[.!?])\s+(?=[A-Z`(])")
CODE_IN_TABLE = re.compile(r"^\| (R[ND]\d{3}) \|", re.MULTILINE)


def render_rule_table() -> str:
    rows = ["| Code | Name | Severity | What it finds |", "| --- | --- | --- | --- |"]
    for rule in all_rules():
        summary = first_sentence(rule.documentation()).replace("|", "\\|")
        rows.append(f"| {rule.code} | {rule.name} | {rule.severity.value} | {summary} |")
    return "\n".join(rows) + "\n"


def first_sentence(documentation: str) -> str:
    """The first sentence of the 'What it does' paragraph, which may wrap over several lines."""
    body = documentation.split("## What it does", 1)[-1].strip()
    paragraph = " ".join(body.split("\n\n", 1)[0].split())
    return SENTENCE_END.split(paragraph, 1)[0]


def readme_table(text: str) -> str:
    match = TABLE.search(text)
    assert match, "README.md has lost its <!-- BEGIN RULE TABLE --> ... <!-- END RULE TABLE --> markers"
    return match.group(2)


def setup_commands(text: str) -> list[str]:
    section = text.split("## Set up", 1)[1].split("\n## ", 1)[0]
    return [block.strip() for block in re.findall(r"```bash\n(.*?)```", section, re.DOTALL)]


def write_rule_table() -> None:
    text = README.read_text(encoding="utf-8")
    readme_table(text)
    README.write_text(TABLE.sub(lambda m: m.group(1) + render_rule_table() + m.group(3), text, count=1), encoding="utf-8")


def test_every_registered_rule_is_in_the_readme() -> None:
    text = README.read_text(encoding="utf-8")
    missing = [rule.code for rule in all_rules() if rule.code not in text]
    assert not missing, f"README.md does not mention {missing}; run `python tests/test_readme.py --write`"


def test_readme_rule_table_is_the_registry() -> None:
    listed = CODE_IN_TABLE.findall(readme_table(README.read_text(encoding="utf-8")))
    registered = [rule.code for rule in all_rules()]
    assert listed == registered, (
        f"README lists codes with no rule: {sorted(set(listed) - set(registered))}; "
        f"rules missing from README: {sorted(set(registered) - set(listed))}; run `python tests/test_readme.py --write`"
    )
    assert readme_table(README.read_text(encoding="utf-8")) == render_rule_table(), (
        "README's rule table differs from the rules' names/severities/summaries; run `python tests/test_readme.py --write`"
    )


def test_readme_has_two_setup_commands_and_ci_runs_the_test_one() -> None:
    commands = setup_commands(README.read_text(encoding="utf-8"))
    assert len(commands) == 2, commands
    install_and_lint, run_tests = commands
    assert "pip install" in install_and_lint and "reslint fixtures/" in install_and_lint
    ci_command = re.search(r'^TEST_COMMAND="([^"]+)"', CI_SCRIPT.read_text(encoding="utf-8"), re.MULTILINE)
    assert ci_command, ".ci/run no longer defines TEST_COMMAND"
    assert run_tests == ci_command.group(1), f"README runs `{run_tests}`, CI runs `{ci_command.group(1)}`"


if __name__ == "__main__":
    if sys.argv[1:] != ["--write"]:
        sys.exit("usage: python tests/test_readme.py --write   (rewrites README.md's rule table from the registry)")
    write_rule_table()
    print(f"rewrote the rule table in {README}")
