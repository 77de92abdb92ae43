"""RN106 misspelt-builtin."""

from __future__ import annotations

import builtins
from collections.abc import Iterator

import libcst as cst

from reslint.findings import Applicability
from reslint.knowledge.spelling import did_you_mean, sole_guess
from reslint.model import ModuleModel
from reslint.rule import Fix, Rule, Violation

BUILTINS = sorted(name for name in dir(builtins) if not name.startswith("_"))
EXCEPTIONS = [
    name
    for name in BUILTINS
    if isinstance(getattr(builtins, name), type)
    and issubclass(getattr(builtins, name), BaseException)
]


class MisspeltBuiltin(Rule):
    """## What it does
    Checks for names that are defined nowhere in the file but are one typo away from a Python
    builtin, such as `NotImplementError` for `NotImplementedError`.

    ## Why is this bad?
    The name only fails when that line runs: a `raise NotImplementError(...)` guarding an
    unsupported option turns a clear message into `NameError` exactly when a user needs it.

    ## Example
    ```python
    if dilation > 1:
        raise NotImplementError("Dilation > 1 not supported in BasicBlock")
    ```

    Use instead:
    ```python
    if dilation > 1:
        raise NotImplementedError("Dilation > 1 not supported in BasicBlock")
    ```
    """

    code = "RN106"
    name = "misspelt-builtin"
    fixable = Applicability.SAFE

    def check(self, module: ModuleModel) -> Iterator[Violation]:
        for use in module.names.undefined_reads():
            name = use.node.value
            if len(name) < 4:
                continue
            builtin = did_you_mean(name, BUILTINS, cutoff=0.85, fold=False)
            if builtin is None or not _has_attribute_read(use.node, builtin, module):
                continue
            yield Violation(
                use.node,
                f"`{name}` is not defined anywhere: did you mean the builtin `{builtin}`?",
                f"write `{builtin}`",
                fix=_fix(use.node, name, builtin),
            )


def _has_attribute_read(node: cst.Name, builtin: str, module: ModuleModel) -> bool:
    """`init.xavier_uniform(...)` is a module that was never imported (`torch.nn.init`), not a
    misspelt `int`: the builtin has no such attribute."""
    parent = module.names.parents.get(id(node))
    if isinstance(parent, cst.Attribute) and parent.value is node:
        return hasattr(getattr(builtins, builtin), parent.attr.value)
    return True


MisspeltBuiltin.INVALID = [
    """
def check(dilation):
    if dilation > 1:
        raise NotImplementError("no dilation")
"""
]


def _fix(node: cst.Name, name: str, builtin: str) -> Fix | None:
    """Only when no other builtin of its kind is as plausible (NotImplementError is one typo from
    NotImplemented too, but only NotImplementedError is an exception)."""
    kind = EXCEPTIONS if builtin in EXCEPTIONS else BUILTINS
    return (
        Fix.replace(node, builtin) if sole_guess(name, kind, 0.85, fold=False) == builtin else None
    )


MisspeltBuiltin.FIXED = [
    MisspeltBuiltin.INVALID[0].replace("NotImplementError", "NotImplementedError")
]
MisspeltBuiltin.VALID = [
    """
class NotImplementError(Exception):
    pass
def check(dilation):
    if dilation > 1:
        raise NotImplementError("no dilation")
"""
]
