"""RN006 hierarchy-too-deep."""

from __future__ import annotations

from collections.abc import Iterator

from reslint.findings import Severity
from reslint.model import ModuleModel
from reslint.model.classes import MAX_ANCESTORS
from reslint.rule import Rule, Violation

NAMES_SHOWN = 3


class HierarchyTooDeep(Rule):
    """## What it does
    Reports the classes of a file that reslint did not fully analyse because they have more than 100
    ancestors in the linted code: reslint stops looking up their hierarchy there, and checks them as
    if they were built on a base it cannot see.

    ## Why is this bad?
    Much of the analysis asks each class about its ancestors, so a chain of n classes costs n * n:
    without a limit, a generated file 3,000 classes deep would take minutes. Past the limit, findings
    that need the whole hierarchy (is it an `nn.Module`? which submodules does a subclass use?) are
    not given for these classes: a clean result for them is not a proof.

    ## Example
    A generated file where each class derives from the one before, hundreds of levels deep.

    Use instead:
    Keep hierarchies shallow (a ResNet needs two or three levels); build variants by composition or
    arguments, not by one more subclass each.
    """

    code = "RN006"
    name = "hierarchy-too-deep"
    severity = Severity.WARNING

    def check(self, module: ModuleModel) -> Iterator[Violation]:
        cut = [cls for cls in module.class_defs if cls.hierarchy_cut]
        if not cut:
            return
        yield Violation(
            cut[0].node.name,
            _message([cls.name for cls in cut]),
            "keep the hierarchy shallow: build variants by composition or arguments",
        )


def _message(names: list[str]) -> str:
    if len(names) == 1:
        return (
            f"`{names[0]}` has more than {MAX_ANCESTORS} ancestors and was not fully analysed: it is "
            "checked as if built on an unknown base"
        )
    shown = ", ".join(f"`{name}`" for name in names[:NAMES_SHOWN])
    more = f" and {len(names) - NAMES_SHOWN} more" if len(names) > NAMES_SHOWN else ""
    return (
        f"{len(names)} classes have more than {MAX_ANCESTORS} ancestors and were not fully "
        f"analysed ({shown}{more}): they are checked as if built on an unknown base"
    )


def _chain(depth: int) -> str:
    """A file of `depth` classes, each deriving from the one before."""
    first = "import torch.nn as nn\nclass Level0(nn.Module):\n    pass\n"
    return first + "".join(f"class Level{i}(Level{i - 1}):\n    pass\n" for i in range(1, depth))


HierarchyTooDeep.INVALID = [_chain(MAX_ANCESTORS + 2)]
HierarchyTooDeep.VALID = [_chain(MAX_ANCESTORS + 1)]
