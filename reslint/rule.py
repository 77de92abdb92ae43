"""What a rule is: a code, a documentation in the ruff form, examples, and a check over the module model."""

from __future__ import annotations

import inspect
import re
from collections.abc import Iterable
from dataclasses import dataclass
from typing import TYPE_CHECKING, ClassVar, Literal

import libcst as cst

from reslint.findings import Applicability, Finding, FindingFix, Severity

# A period that ends a sentence, not one inside `nn.Conv2d` or "e.g.".
SENTENCE_END = re.compile(r"(?<=[a-z)`\]])\.(?=\s|$)")

if TYPE_CHECKING:
    from reslint.model import ModuleModel


@dataclass(frozen=True)
class Edit:
    """Part of a fix, in the rule's terms: write `text` in place of `node`, just before or after it, in
    place of the whole lines it is on ("lines": for a statement or an argument alone on its lines,
    removed with its indentation, line end and comments), or as lines of their own below its last
    line ("below"). The engine turns it into a TextEdit on the file's text, so everything outside
    stays byte for byte."""

    node: cst.CSTNode
    text: str
    where: Literal["replace", "before", "after", "lines", "below"] = "replace"
    # With "replace": the span runs on to the end of this later node (`relu, shortcut` at once).
    until: cst.CSTNode | None = None


@dataclass(frozen=True)
class Fix:
    """How to mend a violation: edits applied all together or not at all. Whether it is safe is the
    rule's `fixable`."""

    edits: tuple[Edit, ...]

    @classmethod
    def replace(cls, node: cst.CSTNode, text: str) -> Fix:
        return cls((Edit(node, text),))


@dataclass(frozen=True)
class Violation:
    """What a rule reports: the node it is about, one sentence in the user's words, what to write instead."""

    node: cst.CSTNode
    message: str
    hint: str = ""
    # Findings of other rules that explain this one: (code, node). The engine drops this violation only
    # when one of them is really reported (after --select/--ignore/noqa), never on a rule's say-so.
    defers_to: tuple[tuple[str, cst.CSTNode], ...] = ()
    # How to mend it, when the rule knows for sure (see reslint.fixer). None: not fixable.
    fix: Fix | None = None


class Rule:
    """Base class. Subclasses set `code`, `name`, a docstring with What it does / Why is this bad /
    Example / Use instead, and `INVALID` / `VALID` example sources (each INVALID example must give at
    least one finding of this rule, each VALID example none)."""

    code: ClassVar[str]
    name: ClassVar[str]
    severity: ClassVar[Severity] = Severity.ERROR
    # The codes this rule's violations may defer to (see Violation.defers_to).
    defers_to: ClassVar[tuple[str, ...]] = ()
    INVALID: ClassVar[list[str]] = []
    VALID: ClassVar[list[str]] = []
    # A fixable rule's INVALID examples as its fix leaves them (Fixit's expected_replacement): one per
    # INVALID example, in order; None for an example the rule finds but cannot fix.
    FIXED: ClassVar[list[str | None]] = []
    # Whether its fixes are safe or unsafe, for a rule whose violations carry fixes.
    fixable: ClassVar[Applicability | None] = None
    # About the file as a whole (it does not parse, cannot be read, ...): the engine reports it, check()
    # is never called. Its examples run through the whole pipeline instead of check().
    file_level: ClassVar[bool] = False
    # Off unless a --select/select names it (as ruff's RUF100): useful, but not what everyone wants.
    opt_in: ClassVar[bool] = False

    def check(self, module: ModuleModel) -> Iterable[Violation]:
        raise NotImplementedError

    @classmethod
    def finding(
        cls,
        path: str,
        span: tuple[int, int, int, int],
        message: str,
        hint: str = "",
        fix: FindingFix | None = None,
    ) -> Finding:
        """A finding of this rule at `span` = (line, column, end_line, end_column), 1-based."""
        line, column, end_line, end_column = span
        return Finding(
            path, line, column, end_line, end_column, cls.code, cls.severity, message, hint, fix=fix
        )

    @classmethod
    def documentation(cls) -> str:
        return inspect.cleandoc(cls.__doc__ or "")

    @classmethod
    def summary(cls) -> str:
        """The first sentence of the 'What it does' paragraph (which may wrap over several lines)."""
        body = cls.documentation().split("## What it does", 1)[-1].strip()
        paragraph = " ".join(body.split("\n\n", 1)[0].split())
        return SENTENCE_END.split(paragraph, 1)[0] if paragraph else cls.name
