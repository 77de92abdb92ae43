"""Lint every static fixture and demand exactly the findings its `# expect: CODE` marks announce.

A mark is a comment on the line a finding is anchored to: `# expect: RN201` or `# expect: RN301, RN302`
(any text may precede it). Marks are read with tokenize, so `# expect:` inside a string is not a mark.
Each fixture must give the multiset of (line, code) its marks describe: no more, no less.
fixtures/models/ (dynamic pass) and fixtures/reference/ are not static fixtures and are skipped.
"""

from __future__ import annotations

import io
import re
import tokenize
from collections import Counter
from pathlib import Path

import pytest

from reslint.registry import load_rules

REPO = Path(__file__).resolve().parents[1]
FIXTURES = REPO / "fixtures"
NOT_STATIC = {"models", "reference"}

# The static catalogue: every rule in the registry. RN002 (unreadable file), RN003 (file too large),
# RN004 (internal error) and RN005 (unused noqa, opt-in) are conditions that a checked-in model file
# linted with the default selection cannot show; their tests are elsewhere.
SPEC_CODES = frozenset(rule.code for rule in load_rules())
FILE_LEVEL_CODES = frozenset({"RN002", "RN003", "RN004", "RN005"})

CODE = r"[A-Z]{2}\d{3}"
MARK = re.compile(rf"#\s*expect:\s*({CODE}(?:\s*,\s*{CODE})*)\s*$")
LOOSE_MARK = re.compile(r"#\s*expect\b", re.IGNORECASE)

Mark = tuple[int, str]


def static_fixture_files() -> list[Path]:
    return sorted(
        path
        for path in FIXTURES.rglob("*.py")
        if path.relative_to(FIXTURES).parts[0] not in NOT_STATIC
    )


def marks_in_comment(comment: str, line: int, path: Path) -> list[Mark]:
    """The marks of one comment; a comment that looks like a mark but does not parse is an error."""
    found = MARK.search(comment)
    if found is None:
        if LOOSE_MARK.search(comment):
            raise ValueError(
                f"{path}:{line}: malformed mark {comment!r}; write `# expect: RN201, RN304`"
            )
        return []
    return [(line, code.strip()) for code in found.group(1).split(",")]


def comments(source: str) -> list[tuple[int, str]]:
    """(line, text) of every comment. Fixtures that do not parse (RN001) may stop the tokenizer
    early, typically at an unclosed bracket; the lines after that point are scanned as plain text."""
    result: list[tuple[int, str]] = []
    last_line = 0
    try:
        for token in tokenize.generate_tokens(io.StringIO(source).readline):
            last_line = token.end[0]
            if token.type == tokenize.COMMENT:
                result.append((token.start[0], token.string))
    except (tokenize.TokenError, SyntaxError):
        lines = source.splitlines()
        for number in range(last_line + 1, len(lines) + 1):
            text = lines[number - 1]
            if "#" in text:
                result.append((number, text[text.index("#") :]))
    return result


def expected_marks(path: Path) -> Counter[Mark]:
    source = path.read_text(encoding="utf-8")
    marks: Counter[Mark] = Counter()
    for line, comment in comments(source):
        marks.update(marks_in_comment(comment, line, path))
    return marks


def describe_difference(path: Path, expected: Counter[Mark], findings: list) -> str:
    reported = Counter((finding.line, finding.code) for finding in findings)
    lines = path.read_text(encoding="utf-8").splitlines()
    report = [f"{path.relative_to(REPO)}: findings differ from the `# expect:` marks"]
    missing = sorted((expected - reported).elements())
    if missing:
        report.append("  missing (marked, not reported):")
        for line, code in missing:
            source_line = lines[line - 1].strip() if 0 < line <= len(lines) else "<no such line>"
            report.append(f"    line {line:4d} {code}  | {source_line}")
    unexpected = sorted((reported - expected).elements())
    if unexpected:
        report.append("  unexpected (reported, not marked):")
        for line, code in unexpected:
            messages = {f.message for f in findings if (f.line, f.code) == (line, code)}
            report.append(f"    line {line:4d} {code}  {' / '.join(sorted(messages))}")
    return "\n".join(report)


FIXTURE_FILES = static_fixture_files()


@pytest.mark.parametrize(
    "path", FIXTURE_FILES, ids=[str(p.relative_to(REPO)) for p in FIXTURE_FILES]
)
def test_fixture_gives_exactly_its_marked_findings(path: Path) -> None:
    from reslint.engine import lint_file

    expected = expected_marks(path)
    findings = list(lint_file(path))
    reported = Counter((finding.line, finding.code) for finding in findings)
    assert reported == expected, describe_difference(path, expected, findings)


def test_every_catalogue_code_has_a_real_file_example() -> None:
    expected_codes = {code for path in FIXTURE_FILES for _, code in expected_marks(path)}
    missing = sorted((SPEC_CODES - FILE_LEVEL_CODES) - expected_codes)
    assert not missing, f"no fixture expects {', '.join(missing)}"


def test_marks_use_only_catalogue_codes() -> None:
    unknown = sorted(
        f"{path.relative_to(REPO)}:{line} {code}"
        for path in FIXTURE_FILES
        for line, code in expected_marks(path)
        if code not in SPEC_CODES
    )
    assert not unknown, "marks with codes outside the static catalogue: " + ", ".join(unknown)


def test_clean_fixtures_have_no_marks() -> None:
    clean = sorted((FIXTURES / "clean").glob("*.py"))
    assert clean, "fixtures/clean/ holds no model files"
    marked = [str(path.relative_to(REPO)) for path in clean if expected_marks(path)]
    assert not marked, f"clean fixtures must not carry marks: {marked}"


def test_each_bug_fixture_expects_the_code_it_is_named_after() -> None:
    bug_files = sorted((FIXTURES / "bugs").glob("RN*.py"))
    assert bug_files, "fixtures/bugs/ holds no bug files"
    wrong = [
        str(path.relative_to(REPO))
        for path in bug_files
        if path.name[:5] not in {code for _, code in expected_marks(path)}
    ]
    assert not wrong, f"bug fixtures that do not expect their own code: {wrong}"


def test_mark_reader_ignores_strings_and_reads_several_codes(tmp_path: Path) -> None:
    sample = tmp_path / "sample.py"
    sample.write_text(
        'text = "# expect: RN101"\n'
        "x = 1  # note  # expect: RN301, RN302\n"
        '"""\n# expect: RN999\n"""\n'
        "y = 2  # expect: RN203\n",
        encoding="utf-8",
    )
    assert expected_marks(sample) == Counter({(2, "RN301"): 1, (2, "RN302"): 1, (6, "RN203"): 1})


def test_mark_reader_rejects_malformed_marks(tmp_path: Path) -> None:
    sample = tmp_path / "sample.py"
    sample.write_text("x = 1  # expect RN201\n", encoding="utf-8")
    with pytest.raises(ValueError, match="malformed mark"):
        expected_marks(sample)


@pytest.mark.parametrize(
    ("fixture", "ignored", "then_reported"),
    [
        ("fixtures/bugs/RN205_inplanes_not_updated.py", "RN205", "RN202"),
        ("fixtures/seeds/seed004_restnet50_midchannel.py", "RN301", "RN302"),
    ],
)
def test_a_deferring_rule_reports_when_the_rule_it_defers_to_is_ignored(
    fixture: str, ignored: str, then_reported: str
) -> None:
    from reslint import check_paths

    before = {f.code for f in check_paths([REPO / fixture])}
    after = {f.code for f in check_paths([REPO / fixture], ignore=[ignored])}
    assert then_reported not in before and then_reported in after
