"""RN103 misspelt-variable."""

from __future__ import annotations

from collections.abc import Iterator

import libcst as cst

from reslint.knowledge.spelling import did_you_mean
from reslint.model import ModuleModel
from reslint.model.module import BUILTIN_NAMES
from reslint.model.names import FunctionNames
from reslint.rule import Rule, Violation
from reslint.rules_support import unread_assignments


class MisspeltVariable(Rule):
    """## What it does
    Checks for a local variable that is assigned but never read, while a similarly spelled name is
    read in the same function and may be unbound there.

    ## Why is this bad?
    `indentity = x` followed by `out += identity` stores the block input under a typo; `identity`
    then only exists when the downsample branch ran, so every block without a projection shortcut
    raises `UnboundLocalError` (or adds the wrong tensor).

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

    def check(self, module: ModuleModel) -> Iterator[Violation]:
        for names in module.names.functions.values():
            read_names = {read.value: read for read in names.reads}
            for name, bindings in unread_assignments(names, module).items():
                for other, read in read_names.items():
                    if other == name or len(other) < 4 or did_you_mean(name, [other]) is None:
                        continue
                    if not _maybe_unbound(other, read, names, module):
                        continue
                    line = module.line_of(read)
                    yield Violation(
                        bindings[0],
                        f"`{name}` is assigned but never used, while `{other}` (read on line {line}) "
                        f"may be unbound there: did you mean `{other}`?",
                        f"rename `{name}` to `{other}`",
                    )
                    break


def _maybe_unbound(name: str, read: cst.Name, names: FunctionNames, module: ModuleModel) -> bool:
    """True when `name` may be unbound at `read`: a local that some path leaves unassigned, or a name
    defined nowhere else."""
    if name not in names.bound:
        return name not in module.names.module_bound and name not in BUILTIN_NAMES
    return module.flow(names.node).may_be_unbound(read)


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
"""
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
