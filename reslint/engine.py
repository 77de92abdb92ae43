"""The static pass: find the files, read them, recover from syntax errors, run the rules, filter findings.

Nothing here imports torch or the linted code: files are only read and parsed.
"""

from __future__ import annotations

import io
import os
import re
import sys
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field

from reslint.findings import Finding, Severity
from reslint.rule import Rule, Violation
from reslint.source import DEFAULT_MAX_BYTES, read_source
from reslint.syntax import ParseResult, find_comments, parse_source

SYNTAX_ERROR = "RN001"

Place = tuple[str, int, int]  # (code, line, column) of a finding

SKIPPED_DIRECTORIES = frozenset(
    {
        "__pycache__",
        "node_modules",
        "venv",
        "env",
        "virtualenv",
        "site-packages",
        "__pypackages__",
        "build",
        "dist",
        "_build",
        "buck-out",
    }
)

# Below this much source in total, starting worker processes costs more than it saves.
PARALLEL_MIN_BYTES = 96 * 1024

_NOQA = re.compile(
    r"#\s*noqa\b(?:\s*:\s*(?P<codes>[A-Za-z]+[0-9]*(?:\s*,\s*[A-Za-z]+[0-9]*|\s+[A-Za-z]+[0-9]+)*))?",
    re.I,
)
_CODE_PREFIX = re.compile(r"[A-Z]+[0-9]*\Z")


# ----------------------------------------------------------------------------------------------------------
# The file-level codes the engine itself reports, documented like the rules so --list-rules/--explain see them.


class SyntaxErrorRule(Rule):
    """## What it does
    Reports a file that Python cannot parse: every line with a syntax error gets its own finding.

    ## Why is this bad?
    The file cannot be imported, so the model in it cannot be built. reslint blanks the broken
    statement and keeps going, so all the errors are listed at once and the other rules still run on
    the rest of the file. For a bracket that is never closed (or closed by the wrong kind), the finding
    is on the line of the opening bracket.

    ## Example
    ```python
    def __init__(self, norm_layer: Optional[Callable[.., nn.Module]] = None) -> None:
        ...
    layers.append(block(self.inplanes, planes, groups=self.groups, norm_layer))
    ```

    Use instead:
    ```python
    def __init__(self, norm_layer: Optional[Callable[..., nn.Module]] = None) -> None:
        ...
    layers.append(block(self.inplanes, planes, groups=self.groups, norm_layer=norm_layer))
    ```
    """

    code = SYNTAX_ERROR
    name = "syntax-error"

    def check(self, module) -> Iterable[Violation]:
        return ()


class UnreadableFileRule(Rule):
    """## What it does
    Reports a file that is not Python source text: binary content (NUL bytes), or bytes that are not
    valid UTF-8 (or not valid in the encoding its coding declaration names).

    ## Why is this bad?
    Python refuses to import such a file, and reslint cannot read it either, so nothing in it is checked.

    ## Example
    A model file saved as GBK or Latin-1 by an editor, with no `# -*- coding: ... -*-` line.

    Use instead:
    Save the file as UTF-8 (the default for Python source).
    """

    code = "RN002"
    name = "unreadable-file"

    def check(self, module) -> Iterable[Violation]:
        return ()


class FileTooLargeRule(Rule):
    """## What it does
    Reports a file that reslint skipped because it is larger than the size limit (5 MB).

    ## Why is this bad?
    A Python file that large is almost always generated code or data, not a model definition; parsing
    it would make the run slow without finding anything useful. Nothing in it is checked.

    ## Example
    A 40 MB `weights.py` holding a state dict as literals.

    Use instead:
    Keep data in data files (`.pt`, `.npz`, `.json`) and lint the model code.
    """

    code = "RN003"
    name = "file-too-large"
    severity = Severity.WARNING

    def check(self, module) -> Iterable[Violation]:
        return ()


FILE_RULES: tuple[type[Rule], ...] = (SyntaxErrorRule, UnreadableFileRule, FileTooLargeRule)


def all_rules() -> tuple[type[Rule], ...]:
    """Every code reslint's static pass can report: the engine's file-level codes and the rule catalogue."""
    from reslint.registry import load_rules

    return tuple(sorted(FILE_RULES + tuple(load_rules()), key=lambda rule: rule.code))


def rule_for_code(code: str) -> type[Rule] | None:
    return next((rule for rule in all_rules() if rule.code == code.strip().upper()), None)


# ----------------------------------------------------------------------------------------------------------
# Results.


@dataclass
class FileResult:
    """What linting one file gave. `text` is kept only when there are findings to show with source."""

    path: str
    findings: list[Finding] = field(default_factory=list)
    internal_errors: list[str] = field(default_factory=list)
    empty: bool = False
    text: str | None = None
    # finding -> the (code, line, column) of the findings that would explain it (Violation.defers_to)
    deferrals: dict[Finding, tuple[Place, ...]] = field(default_factory=dict)


@dataclass
class LintRun:
    findings: list[Finding]
    files: list[str]
    empty_files: list[str]
    internal_errors: list[str]
    missing: list[str]
    sources: dict[str, str]  # path -> text, for the files with findings


# ----------------------------------------------------------------------------------------------------------
# Public entry points.


def lint_file(
    path: str | os.PathLike[str], rules: Sequence[type[Rule]] | None = None
) -> list[Finding]:
    """Findings for one file, every rule enabled (internal errors of rules are logged to stderr)."""
    result = check_file(os.fspath(path), _rules_or_catalogue(rules))
    _log(result.internal_errors)
    return sorted(without_deferred(result.findings, result.deferrals), key=_order)


def lint_paths(
    paths: Sequence[str | os.PathLike[str]],
    select: Sequence[str] = (),
    ignore: Sequence[str] = (),
    jobs: int | None = None,
    rules: Sequence[type[Rule]] | None = None,
) -> list[Finding]:
    """Findings for files and folders (recursing into *.py); missing paths and internal errors go to stderr."""
    result = run(paths, select=select, ignore=ignore, jobs=jobs, rules=rules)
    _log(f"no such file or directory: {path}" for path in result.missing)
    _log(result.internal_errors)
    return result.findings


def run(
    paths: Sequence[str | os.PathLike[str]],
    select: Sequence[str] = (),
    ignore: Sequence[str] = (),
    jobs: int | None = None,
    rules: Sequence[type[Rule]] | None = None,
) -> LintRun:
    """Lint `paths` and say everything about it: findings, files seen, empty and missing ones, errors."""
    enabled = make_selector(select, ignore)
    active = tuple(rule for rule in _rules_or_catalogue(rules) if enabled(rule.code))
    files, missing = discover(paths)
    results = _check_all(files, active, jobs)
    deferrals = {f: places for result in results for f, places in result.deferrals.items()}
    findings = sorted(
        without_deferred(
            [f for result in results for f in result.findings if enabled(f.code)], deferrals
        ),
        key=_order,
    )
    return LintRun(
        findings=findings,
        files=files,
        empty_files=[result.path for result in results if result.empty],
        internal_errors=[error for result in results for error in result.internal_errors],
        missing=missing,
        sources={result.path: result.text for result in results if result.text is not None},
    )


def discover(paths: Iterable[str | os.PathLike[str]]) -> tuple[list[str], list[str]]:
    """(files to lint, paths that do not exist). Folders are searched for *.py, skipping hidden folders,
    virtual environments, caches and build output; files named explicitly are linted whatever their name."""
    files: list[str] = []
    missing: list[str] = []
    seen: set[str] = set()

    def add(path: str) -> None:
        key = os.path.realpath(path)
        if key not in seen:
            seen.add(key)
            files.append(path)

    for path in map(os.fspath, paths):
        if os.path.isdir(path):
            for root, directories, names in os.walk(path):
                directories[:] = sorted(d for d in directories if not _skipped_directory(root, d))
                for name in sorted(names):
                    if name.endswith(".py"):
                        add(os.path.join(root, name))
        elif os.path.exists(path):
            add(path)
        else:
            missing.append(path)
    return files, missing


def make_selector(select: Sequence[str] = (), ignore: Sequence[str] = ()) -> Callable[[str], bool]:
    """Is a code enabled? Codes and prefixes as in ruff: the most specific matching selector wins, and
    between equally specific ones --ignore wins. No --select means everything."""
    chosen = [_normal_selector(code) for code in select] or [""]
    dropped = [_normal_selector(code) for code in ignore]

    def enabled(code: str) -> bool:
        best_select = max((len(prefix) for prefix in chosen if code.startswith(prefix)), default=-1)
        best_ignore = max(
            (len(prefix) for prefix in dropped if code.startswith(prefix)), default=-1
        )
        return best_select > best_ignore

    return enabled


def unknown_selectors(selectors: Iterable[str], codes: Iterable[str]) -> list[str]:
    """The selectors that are not a code or a prefix of one (for a clear usage error)."""
    known = list(codes)
    return [
        selector
        for selector in selectors
        if not _CODE_PREFIX.match(_normal_selector(selector) or "ALL")
        or not any(code.startswith(_normal_selector(selector)) for code in known)
    ]


def check_file(
    path: str, rules: Sequence[type[Rule]], max_bytes: int = DEFAULT_MAX_BYTES
) -> FileResult:
    """Lint one file with the given rules. Never raises: failures become internal-error messages."""
    try:
        return _check_file(path, rules, max_bytes)
    except Exception as error:  # a bug in the engine or the model must not stop the other files
        return FileResult(path, internal_errors=[_internal_error(f"while checking {path}", error)])


# ----------------------------------------------------------------------------------------------------------
# One file.


def _check_file(path: str, rules: Sequence[type[Rule]], max_bytes: int) -> FileResult:
    source = read_source(path, max_bytes)
    if source.finding is not None:
        return FileResult(path, findings=[source.finding])
    text = source.text or ""
    if source.empty:
        return FileResult(path, empty=True)
    parsed = parse_source(text, path)
    findings = [
        Finding(
            path,
            issue.line,
            issue.column,
            issue.end_line,
            issue.end_column,
            SYNTAX_ERROR,
            Severity.ERROR,
            issue.message,
            issue.hint,
        )
        for issue in parsed.issues
    ]
    errors: list[str] = []
    deferrals: dict[Finding, tuple[Place, ...]] = {}
    if parsed.module is not None and rules:
        found, errors, deferrals = _run_rules(path, text, parsed, rules)
        findings.extend(found)
    findings = _without_suppressed(findings, text)
    return FileResult(
        path,
        findings=findings,
        internal_errors=errors,
        text=text if findings else None,
        deferrals={f: deferrals[f] for f in findings if f in deferrals},
    )


def _run_rules(
    path: str, text: str, parsed: ParseResult, rules: Sequence[type[Rule]]
) -> tuple[list[Finding], list[str], dict[Finding, tuple[Place, ...]]]:
    from reslint.model import build_module_model

    try:
        model = build_module_model(parsed.module, parsed.recovered, path, original=text)
    except Exception as error:
        return [], [_internal_error(f"while building the model of {path}", error)], {}
    findings: list[Finding] = []
    errors: list[str] = []
    deferrals: dict[Finding, tuple[Place, ...]] = {}

    def place(node) -> tuple[int, int, int, int]:
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
                finding = Finding(
                    path,
                    *place(violation.node),
                    rule.code,
                    Severity(rule.severity),
                    violation.message,
                    violation.hint,
                )
                findings.append(finding)
                if violation.defers_to:
                    deferrals[finding] = tuple(
                        (code, *place(node)[:2])
                        for code, node in violation.defers_to
                        if model.owns(node)
                    )
        except Exception as error:  # one broken rule must not hide the other rules' findings
            errors.append(_internal_error(f"in rule {rule.code} on {path}", error))
    return findings, errors, deferrals


def without_deferred(
    findings: list[Finding], deferrals: dict[Finding, tuple[Place, ...]]
) -> list[Finding]:
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


def _without_suppressed(findings: list[Finding], text: str) -> list[Finding]:
    """Drop findings silenced by `# noqa` (all codes) or `# noqa: CODE, PREFIX` on their line."""
    if not findings or "noqa" not in text.lower():
        return findings
    suppressions = noqa_by_line(text)
    return [finding for finding in findings if not _suppressed(finding, suppressions)]


def noqa_by_line(text: str) -> dict[int, frozenset[str] | None]:
    """`# noqa` comments by line: None suppresses every code, else the set of codes/prefixes it names."""
    suppressions: dict[int, frozenset[str] | None] = {}
    for line, comment in _comments(text).items():
        found = _NOQA.search(comment)
        if found is None:
            continue
        codes = found.group("codes")
        suppressions[line] = (
            frozenset(re.findall(r"[A-Z]+[0-9]*", codes.upper())) if codes else None
        )
    return suppressions


def _suppressed(finding: Finding, suppressions: dict[int, frozenset[str] | None]) -> bool:
    if finding.line not in suppressions:
        return False
    codes = suppressions[finding.line]
    return codes is None or any(finding.code.startswith(code) for code in codes)


def _comments(text: str) -> dict[int, str]:
    """Comments by line from the tokenizer, so '# noqa' inside a string does not count. tokenize stops at
    the first error of a broken file; the tolerant scanner of reslint.syntax takes over then."""
    import tokenize

    comments: dict[int, str] = {}
    try:
        for token in tokenize.generate_tokens(io.StringIO(text).readline):
            if token.type == tokenize.COMMENT:
                comments[token.start[0]] = token.string
    except (tokenize.TokenError, SyntaxError):
        return find_comments(text)
    return comments


# ----------------------------------------------------------------------------------------------------------
# Many files.


_WORKER_RULES: tuple[type[Rule], ...] = ()


def _check_all(
    files: list[str], rules: tuple[type[Rule], ...], jobs: int | None
) -> list[FileResult]:
    workers = _worker_count(files, jobs)
    if workers <= 1:
        return [check_file(path, rules) for path in files]
    from concurrent.futures.process import BrokenProcessPool

    try:
        return _check_in_pool(files, rules, workers)
    except (BrokenProcessPool, OSError):
        # A worker died (out of memory, killed) or processes cannot be started here: do it in-process.
        return [check_file(path, rules) for path in files]


def _check_in_pool(
    files: list[str], rules: tuple[type[Rule], ...], workers: int
) -> list[FileResult]:
    import multiprocessing
    from concurrent.futures import ProcessPoolExecutor

    # fork: the workers inherit the imported libcst and rules instead of importing them again.
    context = (
        multiprocessing.get_context("fork")
        if "fork" in multiprocessing.get_all_start_methods()
        else None
    )
    pool = ProcessPoolExecutor(
        max_workers=workers, mp_context=context, initializer=_init_worker, initargs=(rules,)
    )
    try:
        chunk = max(1, len(files) // (workers * 4))
        results = list(pool.map(_check_in_worker, files, chunksize=chunk))
    except KeyboardInterrupt:
        pool.shutdown(wait=False, cancel_futures=True)
        raise
    pool.shutdown()
    return results


def _init_worker(rules: tuple[type[Rule], ...]) -> None:
    global _WORKER_RULES
    _WORKER_RULES = rules


def _check_in_worker(path: str) -> FileResult:
    return check_file(path, _WORKER_RULES)


def _worker_count(files: list[str], jobs: int | None) -> int:
    if jobs is not None:
        return max(1, min(jobs, len(files)))
    if len(files) < 2 or _total_size(files) < PARALLEL_MIN_BYTES:
        return 1
    return max(1, min(_cpu_count(), len(files)))


def _cpu_count() -> int:
    if hasattr(os, "sched_getaffinity"):
        return len(os.sched_getaffinity(0))
    return os.cpu_count() or 1


def _total_size(files: list[str]) -> int:
    total = 0
    for path in files:
        try:
            total += os.path.getsize(path)
        except OSError:
            pass
    return total


# ----------------------------------------------------------------------------------------------------------
# Helpers.


def _rules_or_catalogue(rules: Sequence[type[Rule]] | None) -> tuple[type[Rule], ...]:
    if rules is not None:
        return tuple(rules)
    from reslint.registry import load_rules

    return tuple(load_rules())


def _skipped_directory(root: str, name: str) -> bool:
    return (
        name.startswith(".")
        or name in SKIPPED_DIRECTORIES
        or os.path.exists(os.path.join(root, name, "pyvenv.cfg"))
    )


def _normal_selector(selector: str) -> str:
    selector = selector.strip().upper()
    return "" if selector == "ALL" else selector


def _order(finding: Finding) -> tuple:
    return finding.path, finding.line, finding.column, finding.code


def _internal_error(context: str, error: BaseException) -> str:
    import traceback

    frames = traceback.extract_tb(error.__traceback__)
    where = f" (raised at {_short_path(frames[-1].filename)}:{frames[-1].lineno})" if frames else ""
    message = f"internal error {context}: {type(error).__name__}: {error}{where}"
    if os.environ.get("RESLINT_DEBUG"):
        message += "\n" + "".join(traceback.format_exception(error)).rstrip()
    return message


def _short_path(filename: str) -> str:
    parts = filename.replace("\\", "/").split("/")
    for anchor in ("reslint", "rules", "site-packages"):
        if anchor in parts:
            index = len(parts) - 1 - parts[::-1].index(anchor)
            return "/".join(parts[index:])
    return filename


def _log(messages: Iterable[str]) -> None:
    for message in messages:
        print(f"reslint: {message}", file=sys.stderr)
