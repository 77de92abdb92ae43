"""RN103 misspelt-variable."""

from __future__ import annotations

from collections.abc import Iterator

import libcst as cst

from reslint.knowledge.spelling import did_you_mean
from reslint.model import ModuleModel
from reslint.model.module import BUILTIN_NAMES
from reslint.rule import Rule, Violation


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
            for name, bindings in names.bound.items():
                if name in read_names or name.startswith("_") or len(name) < 4:
                    continue
                if not all(
                    isinstance(b, cst.Name) and _plain_assignment(b, module) for b in bindings
                ):
                    continue  # parameters, loop variables, imports, defs are not typos of a local
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


def _plain_assignment(target: cst.Name, module: ModuleModel) -> bool:
    parent = module.names.parents.get(id(target))
    while parent is not None and isinstance(
        parent, (cst.AssignTarget, cst.Tuple, cst.List, cst.Element, cst.StarredElement)
    ):
        parent = module.names.parents.get(id(parent))
    return isinstance(parent, (cst.Assign, cst.AnnAssign))


def _maybe_unbound(name: str, read: cst.Name, names, module: ModuleModel) -> bool:
    """True when no assignment of `name` is sure to have run before `read`."""
    if name not in names.bound:
        return name not in module.names.module_bound and name not in BUILTIN_NAMES
    return not any(_runs_before(binding, read, module) for binding in names.bound[name])


def _runs_before(binding: cst.CSTNode, read: cst.CSTNode, module: ModuleModel) -> bool:
    parents = module.names.parents
    statement = binding
    while statement is not None and not isinstance(
        parents.get(id(statement)), (cst.IndentedBlock, cst.Module)
    ):
        statement = parents.get(id(statement))
        if isinstance(statement, (cst.For, cst.With)) and module.names.contains(
            statement.body, read
        ):
            return True  # a loop or with target, read in its own body
        if isinstance(statement, (cst.FunctionDef, cst.Param)):
            return True  # a parameter
    if statement is None:
        return False
    suite = parents[id(statement)]
    ancestor = read
    while ancestor is not None and parents.get(id(ancestor)) is not suite:
        ancestor = parents.get(id(ancestor))
    if ancestor is None:
        return False
    body = list(suite.body)
    index = {id(item): position for position, item in enumerate(body)}
    return index.get(id(statement), len(body)) < index.get(id(ancestor), -1)


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
