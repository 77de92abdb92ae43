"""The static pass on one file: source -> parse -> module model -> rules -> findings -> suppression.

This is the one place the rules are called. `lint_source` is a pure function of the text, so it can be
run again on modified text (reslint.fixer re-lints what it changed). Nothing here imports torch or the
linted code: files are only read and parsed. Nothing here raises either: an internal error becomes an
RN004 finding on the file, and one broken rule does not hide the others' findings.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING

import libcst as cst

from reslint.collections_budget import fewer_collections
from reslint.deep_stack import on_deep_stack
from reslint.findings import (
    Applicability,
    FileResult,
    Finding,
    FindingFix,
    TextEdit,
    finding_order,
)
from reslint.notebook import NotANotebook, is_notebook, parse_notebook
from reslint.processes import can_fork, pooled_map
from reslint.project_files import normal_path
from reslint.rule import Fix, Rule
from reslint.rules.RN001_syntax_error import SyntaxErrorRule
from reslint.rules.RN002_unreadable_file import UnreadableFileRule
from reslint.rules.RN004_internal_error import InternalErrorRule
from reslint.rules.RN005_unused_noqa import UnusedNoqaRule
from reslint.segments import Segment, plan_segments
from reslint.source import DEFAULT_MAX_BYTES, SourceFile, read_source, split_lines
from reslint.syntax import ParseResult, parse_source

if TYPE_CHECKING:
    from reslint.model import ModuleModel
    from reslint.suppression import Noqa, Suppressions

Place = tuple[str, int, int]  # (code, line, column) of a finding
# finding -> the places of the findings that would explain it (Violation.defers_to)
Deferrals = dict[Finding, tuple[Place, ...]]


@dataclass(frozen=True)
class Checks:
    """What to check in one file: the rules whose check() runs, and every code that may be reported
    (those rules and the engine's own file-level codes that are enabled)."""

    rules: tuple[type[Rule], ...]
    codes: frozenset[str]
    max_bytes: int = DEFAULT_MAX_BYTES

    @classmethod
    def every(cls, rules: Sequence[type[Rule]] | None = None) -> Checks:
        """`rules` (default: the catalogue) and every file-level code that is on by default."""
        from reslint.registry import checking_rules

        chosen = tuple(checking_rules() if rules is None else rules)
        return cls(chosen, frozenset(rule.code for rule in chosen + default_file_rules()))


def default_file_rules() -> tuple[type[Rule], ...]:
    from reslint.registry import file_level_rules

    return tuple(rule for rule in file_level_rules() if not rule.opt_in)


# ----------------------------------------------------------------------------------------------------------
# Entry points.


def lint_file(
    path: str | os.PathLike[str], rules: Sequence[type[Rule]] | None = None
) -> list[Finding]:
    """Findings for one file with `rules` (default: the whole catalogue), sorted by position."""
    return sorted(check_file(os.fspath(path), Checks.every(rules)).findings, key=finding_order)


def check_file(path: str, checks: Checks, group: FileGroup | None = None) -> FileResult:
    """Read and lint one file (of `group`, the files linted together with it)."""
    try:
        source = group.read(path) if group is not None else read_source(path, checks.max_bytes)
    except Exception as error:  # reading must not stop the run either
        return FileResult(path, [internal_error(path, "while reading the file", error)])
    return lint_read_source(source, checks, group)


def lint_read_source(
    source: SourceFile, checks: Checks, group: FileGroup | None = None
) -> FileResult:
    """Lint what `read_source`/`decode_source` gave: its file-level finding, or its text (a notebook's
    JSON for *.ipynb)."""
    if source.finding is not None:
        return FileResult(source.path, _kept([source.finding], checks))
    if group is None:
        with FileGroup([source.path]) as own:
            return lint_read_source(source, checks, own)
    if is_notebook(source.path):
        return _lint_notebook(source.text or "", source.path, checks, group)
    if source.empty:
        return FileResult(source.path, empty=True)
    return FileResult(source.path, lint_source(source.text or "", source.path, checks, group))


def lint_source(
    text: str, path: str, checks: Checks, group: FileGroup | None = None
) -> list[Finding]:
    """The findings of `text` as the file `path`: syntax errors, rule findings, `# noqa` applied."""
    return on_deep_stack(lambda: _checked_source(text, path, checks, group))


def _checked_source(text: str, path: str, checks: Checks, group: FileGroup | None) -> list[Finding]:
    try:
        if group is None:
            with FileGroup([path]) as own:
                return _checked_source(text, path, checks, own)
        with fewer_collections():
            findings, deferrals = _whole_or_segmented(path, text, checks, group)
        reported = _kept(_apply_noqa(findings, text, path, checks), checks)
        return without_deferred(reported, deferrals)
    except Exception as error:  # a bug in the engine or the model must not stop the other files
        return _kept([internal_error(path, "while checking the file", error)], checks)


def _lint_notebook(text: str, path: str, checks: Checks, group: FileGroup) -> FileResult:
    try:
        notebook = parse_notebook(text)
    except NotANotebook as error:
        finding = UnreadableFileRule.finding(path, (1, 1, 1, 2), f"not a valid notebook: {error}")
        return FileResult(path, _kept([finding], checks))
    if not notebook.text.strip():
        return FileResult(path, empty=True)
    found = lint_source(notebook.text, path, checks, group)
    from reslint.notebook_fix import in_its_cell

    return FileResult(path, [in_its_cell(finding, notebook) for finding in found])


# ----------------------------------------------------------------------------------------------------------
# The files of one group: parsed and modelled once, their imports of one another resolved.


@dataclass
class Prepared:
    """One file's text, its parse, and its model (or why the model could not be built)."""

    text: str
    parsed: ParseResult
    model: ModuleModel | None = None
    failure: BaseException | None = None


class FileGroup:
    """Files linted together (reslint.runner decides which): one Project, so that a file importing
    another sees that file's classes, and each file read, parsed and modelled once."""

    def __init__(
        self, paths: Sequence[str], max_bytes: int = DEFAULT_MAX_BYTES, workers: int = 1
    ) -> None:
        from reslint.model.project import Project

        self.project = Project(paths, loader=self._load)
        self._prepared: dict[str, Prepared] = {}
        self._sources: dict[str, SourceFile] = {}
        self._max_bytes = max_bytes
        self.workers = workers  # processes a huge file's segments may be checked on

    def __enter__(self) -> FileGroup:
        return self

    def __exit__(self, *exc_info: object) -> None:
        """The group's files are done: its models are dropped (Project.release)."""
        self.project.release()
        self._prepared.clear()

    def read(self, path: str) -> SourceFile:
        """The file as `read_source` gives it, read once for the group (a file both imported and
        linted is not read twice)."""
        key = normal_path(path)
        known = self._sources.get(key)
        if known is None or (known.path != path and known.text is None):
            known = self._sources[key] = read_source(
                path, self._max_bytes
            )  # findings name the path
        return known if known.path == path else SourceFile(path, known.text)

    def prepare(self, path: str, text: str) -> Prepared:
        """`text` as the file `path`, parsed and modelled (once for the same text)."""
        key = normal_path(path)
        known = self._prepared.get(key)
        if known is not None and known.text == text:
            return known
        prepared = self._prepared[key] = self._parsed_and_modelled(path, text)
        return prepared

    def prepare_segment(self, path: str, segment: Segment) -> Prepared:
        """A segment of the file `path`, parsed and modelled; its model is the file's in the project
        until `forget_segment` (a file importing it sees the whole file's model again after that)."""
        return self._parsed_and_modelled(path, segment.text, segment)

    def forget_segment(self, prepared: Prepared) -> None:
        if prepared.model is not None:
            self.project.forget(prepared.model)

    def _parsed_and_modelled(
        self, path: str, text: str, segment: Segment | None = None
    ) -> Prepared:
        from reslint.model import build_module_model

        prepared = Prepared(text, parse_source(text, path))
        parsed = prepared.parsed
        if parsed.module is not None and parsed.recovered is not None:
            try:
                prepared.model = build_module_model(
                    parsed.module, parsed.recovered, path, self.project, text, segment
                )
            except Exception as error:
                prepared.failure = error
        return prepared

    def _load(self, path: str) -> ModuleModel | None:
        """The model of a file another file imports (None when it cannot be read or parsed)."""
        if is_notebook(path):
            return None
        source = self.read(path)
        if source.text is None:
            return None
        return self.prepare(path, source.text).model


# ----------------------------------------------------------------------------------------------------------
# The pipeline.


def _whole_or_segmented(
    path: str, text: str, checks: Checks, group: FileGroup
) -> tuple[list[Finding], Deferrals]:
    """The findings of the file, checked whole, or a segment at a time when it is huge
    (reslint.segments: same findings, one segment's memory). A finding on the shared context (the
    imports every segment repeats) is reported once, as the first segment found it (its message may
    name a use in that segment)."""
    segments = plan_segments(text)
    if segments is None:
        return _findings(path, group.prepare(path, text), checks)
    checked = list(zip(segments, _checked_segments(path, segments, checks, group)))
    # Rules that only speak about model files ask whether the file defines a network: a segment of
    # helper functions only is checked again once another segment is known to (rare, and small).
    in_network_file = any(networks for _, (*_, networks) in checked)
    findings: dict[tuple[object, ...], Finding] = {}
    deferrals: Deferrals = {}
    for segment, (found, deferred, networks) in checked:
        if in_network_file and not networks:
            again = replace(segment, in_network_file=True)
            found, deferred, _ = _segment_findings(path, again, checks, group)
        for finding in found:
            place = (
                finding.code,
                finding.line,
                finding.column,
                finding.end_line,
                finding.end_column,
            )
            findings.setdefault(place, finding)
        deferrals.update(deferred)
    return list(findings.values()), deferrals


SegmentFindings = tuple[list[Finding], Deferrals, bool]


def _checked_segments(
    path: str, segments: Sequence[Segment], checks: Checks, group: FileGroup
) -> list[SegmentFindings]:
    """Each segment's findings, on the group's worker processes when it may use more than one (the
    segments are independent: each is parsed, modelled and checked alone)."""

    def check(segment: Segment) -> SegmentFindings:
        return on_deep_stack(lambda: _segment_findings(path, segment, checks, group))

    workers = min(group.workers, len(segments))
    pooled = pooled_map(check, segments, workers) if workers > 1 and can_fork() else None
    return pooled if pooled is not None else [check(segment) for segment in segments]


def _segment_findings(
    path: str, segment: Segment, checks: Checks, group: FileGroup
) -> SegmentFindings:
    """A segment's findings, and whether it defines an nn.Module class."""
    prepared = group.prepare_segment(path, segment)
    try:
        found, deferred = _findings(path, prepared, checks)
        return found, deferred, prepared.model is not None and bool(prepared.model.module_classes)
    finally:
        group.forget_segment(prepared)


def _findings(path: str, prepared: Prepared, checks: Checks) -> tuple[list[Finding], Deferrals]:
    """The findings of the file as the run names it (`path`: it may have been modelled first under
    another spelling, as a file another file imports)."""
    parsed = prepared.parsed
    findings = [
        SyntaxErrorRule.finding(
            path,
            (issue.line, issue.column, issue.end_line, issue.end_column),
            issue.message,
            issue.hint,
        )
        for issue in parsed.issues
    ]
    deferrals: Deferrals = {}
    if prepared.failure is not None:
        findings.append(
            internal_error(path, "while building the model of the file", prepared.failure)
        )
    elif prepared.model is not None and checks.rules:
        model = prepared.model
        found, deferrals = _rule_findings(path, model, parsed, checks.rules)
        if parsed.recovered != prepared.text:
            found = _without_fixes_on_repairs(
                found, prepared.text, parsed.recovered or "", model.file_line
            )
        findings.extend(found)
    return findings, deferrals


def _rule_findings(
    path: str, model: ModuleModel, parsed: ParseResult, rules: Sequence[type[Rule]]
) -> tuple[list[Finding], Deferrals]:
    findings: list[Finding] = []
    deferrals: Deferrals = {}

    def place(node: cst.CSTNode) -> tuple[int, int, int, int]:
        line, column, end_line, end_column = model.position(node)
        if parsed.shifts:  # a syntax repair moved text on some lines
            column = parsed.original_column(line, column)
            end_column = parsed.original_column(end_line, end_column)
        return line, column, end_line, end_column

    for rule in rules:
        try:
            for violation in rule().check(model):
                if model.project.in_other_file(model, violation.node):
                    continue  # about a block of another file: that file's own run reports it
                fix = _text_fix(rule, violation.fix, model, place) if violation.fix else None
                finding = rule.finding(
                    path, place(violation.node), violation.message, violation.hint, fix
                )
                findings.append(finding)
                if violation.defers_to:
                    deferrals[finding] = tuple(
                        (code, *place(node)[:2])
                        for code, node in violation.defers_to
                        if model.owns(node)
                    )
        except Exception as error:  # one broken rule must not hide the other rules' findings
            findings.append(internal_error(path, f"in rule {rule.code}", error))
    return findings, deferrals


def _text_fix(
    rule: type[Rule],
    fix: Fix,
    model: ModuleModel,
    place: Callable[[cst.CSTNode], tuple[int, int, int, int]],
) -> FindingFix | None:
    """The rule's edits as spans of the file's text (None when an edit is about another file)."""
    edits = []
    for edit in fix.edits:
        if not model.owns(edit.node):
            return None
        line, column, end_line, end_column = place(edit.node)
        if edit.until is not None:
            if not model.owns(edit.until):
                return None
            end_line, end_column = place(edit.until)[2:]
        if edit.where == "before":
            end_line, end_column = line, column
        elif edit.where == "after":
            line, column = end_line, end_column
        elif edit.where == "lines":
            column, end_line, end_column = 1, end_line + 1, 1
        elif edit.where == "below":
            line, column, end_line, end_column = end_line + 1, 1, end_line + 1, 1
        edits.append(TextEdit(line, column, end_line, end_column, edit.text))
    # A rule that forgot to say is taken at its least safe.
    return FindingFix(rule.fixable or Applicability.UNSAFE, tuple(edits))


def _without_fixes_on_repairs(
    findings: list[Finding], text: str, recovered: str, file_line: Callable[[int], int]
) -> list[Finding]:
    """The rules saw the text with its syntax errors repaired: a fix may only edit lines the repair
    left as they were (the user's own text, at the same positions; `file_line`: a line of `text` as
    the file's, for a segment)."""
    lines, seen = split_lines(text), split_lines(recovered)
    if len(lines) != len(seen):
        return [replace(finding, fix=None) for finding in findings]
    repaired = {
        file_line(number) for number, (mine, its) in enumerate(zip(lines, seen), 1) if mine != its
    }

    def touches_repair(fix: FindingFix) -> bool:
        return any(
            line in repaired for edit in fix.edits for line in range(edit.line, edit.end_line + 1)
        )

    return [
        replace(finding, fix=None) if finding.fix and touches_repair(finding.fix) else finding
        for finding in findings
    ]


def without_deferred(findings: list[Finding], deferrals: Deferrals) -> list[Finding]:
    """Drop each finding that defers to another finding still reported (after --select, --ignore and
    noqa). A chain is followed: if the explaining finding itself gives way, the first one stays."""
    at: dict[Place, list[Finding]] = {}
    for finding in findings:
        at.setdefault((finding.code, finding.line, finding.column), []).append(finding)
    kept: dict[Finding, bool] = {}

    def keeps(finding: Finding) -> bool:
        if finding not in kept:
            kept[finding] = True  # a cycle of deferrals keeps everything in it
            kept[finding] = not any(
                keeps(other) for place in deferrals.get(finding, ()) for other in at.get(place, ())
            )
        return kept[finding]

    return [finding for finding in findings if keeps(finding)]


def _apply_noqa(findings: list[Finding], text: str, path: str, checks: Checks) -> list[Finding]:
    """The findings no noqa comment silences, and (RN005) the noqa codes that silence nothing."""
    from reslint.suppression import Suppressions

    suppressions = Suppressions.of(text)
    if not suppressions.comments():
        return findings
    kept: list[Finding] = []
    silenced: list[tuple[Noqa, Finding]] = []
    for finding in findings:
        noqa = suppressions.noqa_for(finding)
        if noqa is None:
            kept.append(finding)
        else:
            silenced.append((noqa, finding))
    # After a syntax error (statements blanked) or an internal error, a silent rule proves nothing.
    undecided = any(f.code in (SyntaxErrorRule.code, InternalErrorRule.code) for f in findings)
    if UnusedNoqaRule.code in checks.codes and not undecided:
        kept.extend(_unused_noqa(path, suppressions, silenced, checks))
    return kept


def _unused_noqa(
    path: str, suppressions: Suppressions, silenced: list[tuple[Noqa, Finding]], checks: Checks
) -> list[Finding]:
    from reslint.suppression import unused_codes
    from reslint.vocabulary import known_codes

    known = [*known_codes(), *(rule.code for rule in checks.rules)]  # custom rules count too
    findings = []
    for unused in unused_codes(suppressions, silenced, known, checks.codes):
        noqa = unused.noqa
        span = (noqa.line, noqa.column, noqa.line, noqa.column + noqa.width)
        where = "in this file" if noqa is suppressions.file else "on this line"
        if unused.known:
            message = f"`{unused.code}` in this noqa comment silences nothing {where}"
            hint = f"remove `{unused.code}` from the comment"
        else:
            message = f"`{unused.code}` in this noqa comment is not a reslint code"
            hint = "write the code you meant (see reslint --list-rules), or remove it"
        findings.append(UnusedNoqaRule.finding(path, span, message, hint))
    return findings


def _kept(findings: Iterable[Finding], checks: Checks) -> list[Finding]:
    return [finding for finding in findings if finding.code in checks.codes]


# ----------------------------------------------------------------------------------------------------------
# Helpers.


def internal_error(path: str, context: str, error: BaseException) -> Finding:
    """An RN004 finding: reslint failed on this file; where in reslint, and with what."""
    import traceback

    frames = traceback.extract_tb(error.__traceback__)
    where = f" (raised at {_short_path(frames[-1].filename)}:{frames[-1].lineno})" if frames else ""
    if os.environ.get("RESLINT_DEBUG"):
        print(f"reslint: internal error on {path}:", file=sys.stderr)
        traceback.print_exception(error, file=sys.stderr)
    return InternalErrorRule.finding(
        path,
        (1, 1, 1, 2),
        f"internal error {context}: {type(error).__name__}: {error}{where}",
        "this is reslint's bug, the file was not fully checked: please report it "
        "(RESLINT_DEBUG=1 prints the traceback)",
    )


def _short_path(filename: str) -> str:
    parts = filename.replace("\\", "/").split("/")
    for anchor in ("reslint", "rules", "site-packages"):
        if anchor in parts:
            index = len(parts) - 1 - parts[::-1].index(anchor)
            return "/".join(parts[index:])
    return filename
