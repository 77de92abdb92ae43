"""RN103 misspelt-variable."""

from __future__ import annotations

from collections.abc import Iterator

import libcst as cst

from reslint.findings import Applicability
from reslint.knowledge.spelling import did_you_mean
from reslint.model import ModuleModel
from reslint.model.module import BUILTIN_NAMES
from reslint.model.names import FunctionNames
from reslint.rule import Edit, Fix, Rule, Violation
from reslint.rules_support import unread_assignments


class MisspeltVariable(Rule):
    """## What it does
    Checks for a local variable that is assigned but never read, while a similarly spelled name is
    read in the same function and may be unbound there, or is read after the assignment throws away a
    layer's result.

    ## Why is this bad?
    `indentity = x` followed by `out += identity` stores the block input under a typo; `identity`
    then only exists when the downsample branch ran, so every block without a projection shortcut
    raises `UnboundLocalError` (or adds the wrong tensor). `idenitty = self.downsample(x)` followed by
    `out += identity` computes the projection for nothing and adds the unprojected input.

    ## Example
    ```python
    def forward(self, x):
        indentity = x
        out = self.bn1(self.conv1(x))
        if self.downsample is not None:
            identity = self.downsample(x)
        out += identity
    ```

    Use instead:
    ```python
    def forward(self, x):
        identity = x
        out = self.bn1(self.conv1(x))
        if self.downsample is not None:
            identity = self.downsample(x)
        out += identity
    ```
    """

    code = "RN103"
    name = "misspelt-variable"
    fixable = Applicability.SAFE

    def check(self, module: ModuleModel) -> Iterator[Violation]:
        for names in module.names.functions.values():
            read_names = {read.value: read for read in names.reads}
            for name, bindings in unread_assignments(names, module).items():
                for other, read in read_names.items():
                    if other == name or len(other) < 4 or did_you_mean(name, [other]) is None:
                        continue
                    if _another_word(name, other):
                        continue
                    line = module.line_of(read)
                    # Renaming defines a name that may be missing; it never replaces a value that
                    # flows on (that would change the network), so only then is the fix offered.
                    fix = None
                    if _maybe_unbound(other, read, names, module):
                        problem = f"while `{other}` (read on line {line}) may be unbound there"
                        fix = Fix(tuple(Edit(binding, other) for binding in bindings))
                    elif (computed := _discarded_call(bindings, read, module)) is not None:
                        problem = (
                            f"so `{module.code(computed)}` is computed for nothing, while `{other}` "
                            f"is read on line {line}"
                        )
                    else:
                        continue
                    yield Violation(
                        bindings[0],
                        f"`{name}` is assigned but never used, {problem}: did you mean `{other}`?",
                        f"rename `{name}` to `{other}`",
                        fix=fix,
                    )
                    break


def _another_word(name: str, other: str) -> bool:
    """`inp_img_small` / `inp_img_max`: the names differ in a whole word, not in its spelling (a
    left-over variable of another scale or stage, not a typo); or one is the other with whole words
    added (`trainloader_test` beside `trainloader`): another variable named after it."""
    words, other_words = name.split("_"), other.split("_")
    if _adds_words(words, other_words) or _adds_words(other_words, words):
        return True
    if len(words) != len(other_words) or len(words) < 2:
        return False
    return any(
        a != b and len(a) >= 3 and len(b) >= 3 and did_you_mean(a, [b]) is None
        for a, b in zip(words, other_words, strict=True)
    )


def _adds_words(longer: list[str], shorter: list[str]) -> bool:
    """`longer` is `shorter` with whole words of three letters or more before or after it."""
    extra = len(longer) - len(shorter)
    if extra < 1:
        return False
    for added, kept in ((longer[:extra], longer[extra:]), (longer[-extra:], longer[:-extra])):
        if kept == shorter and all(len(word) >= 3 and word.isalpha() for word in added):
            return True
    return False


def _maybe_unbound(name: str, read: cst.Name, names: FunctionNames, module: ModuleModel) -> bool:
    """True when `name` may be unbound at `read`: a local that some path leaves unassigned, or a name
    defined nowhere else."""
    if name not in names.bound:
        return name not in module.names.module_bound and name not in BUILTIN_NAMES
    return module.flow(names.node).may_be_unbound(read)


def _discarded_call(
    bindings: list[cst.CSTNode], read: cst.Name, module: ModuleModel
) -> cst.Call | None:
    """The call whose result a binding stores, when that binding comes before `read`: the result a
    typo throws away while the right name is read on."""
    for binding in bindings:
        assignment = module.names.parents.get(id(module.names.parents.get(id(binding))))
        if (
            isinstance(assignment, cst.Assign)
            and isinstance(assignment.value, cst.Call)
            and module.line_of(binding) < module.line_of(read)
        ):
            return assignment.value
    return None


MisspeltVariable.INVALID = [
    """
import torch.nn as nn
class Block(nn.Module):
    def forward(self, x):
        indentity = x
        out = self.conv(x)
        if self.downsample is not None:
            identity = self.downsample(x)
        out += identity
        return out
""",
    """
import torch.nn as nn
class Block(nn.Module):
    def forward(self, x):
        identity = x
        out = self.conv(x)
        if self.downsample is not None:
            idenitty = self.downsample(x)
        out += identity
        return out
""",
]
MisspeltVariable.FIXED = [
    MisspeltVariable.INVALID[0].replace("indentity", "identity"),
    None,  # `identity` is bound already: renaming would change which tensor flows, never safe
]
MisspeltVariable.VALID = [
    """
import torch.nn as nn
class Block(nn.Module):
    def forward(self, x):
        identity = x
        out = self.conv(x)
        if self.downsample is not None:
            identity = self.downsample(x)
        out += identity
        return out
"""
]
