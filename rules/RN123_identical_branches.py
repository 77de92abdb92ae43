"""RN123 identical-branches."""

from __future__ import annotations

import ast
from collections.abc import Iterator

import libcst as cst

from reslint.findings import Severity
from reslint.model import ModuleModel
from reslint.model.walk import descendants
from reslint.rule import Rule, Violation


class IdenticalBranches(Rule):
    """## What it does
    Checks model files for an `if` / `else` (or an `if` / `elif` / `else` chain) whose branches all
    do exactly the same thing while building something (a layer, a block, a call), comments and
    layout aside.

    ## Why is this bad?
    The condition decides nothing, so the case it was written for is not handled: a block meant to
    get an identity shortcut when `stride == 1` gets the same projection as every other block. It is
    almost always a copy-paste whose second half was never edited.

    ## Example
    ```python
    if stride == 1:
        downsample = nn.Sequential(nn.Conv2d(inchannel, outchannel, 1, stride), nn.BatchNorm2d(outchannel))
    else:
        downsample = nn.Sequential(nn.Conv2d(inchannel, outchannel, 1, stride), nn.BatchNorm2d(outchannel))
    ```

    Use instead:
    ```python
    if stride == 1 and inchannel == outchannel:
        downsample = None
    else:
        downsample = nn.Sequential(nn.Conv2d(inchannel, outchannel, 1, stride), nn.BatchNorm2d(outchannel))
    ```
    """

    code = "RN123"
    name = "identical-branches"
    severity = Severity.WARNING

    def check(self, module: ModuleModel) -> Iterator[Violation]:
        if not module.defines_networks:
            return
        for node, _ in module.names.ifs:
            parent = module.names.parents.get(id(node))
            if isinstance(parent, cst.If) and parent.orelse is node:
                continue  # an `elif`: judged with the chain it belongs to
            branches = _branches(node)
            if branches is None or not _builds_something(branches[0]):
                continue
            shapes = {_shape(branch, module) for branch in branches}
            if len(shapes) == 1 and None not in shapes:
                yield Violation(
                    node.test,
                    f"every branch of `if {module.code(node.test)}:` does the same thing: "
                    "the condition changes nothing",
                    "make the branches differ as intended (often an identity shortcut in one "
                    "of them), or drop the `if`",
                )


def _branches(node: cst.If) -> list[cst.BaseSuite] | None:
    """The bodies of an if / elif / else chain, or None when it has no final `else`."""
    branches: list[cst.BaseSuite] = [node.body]
    current: cst.If | cst.Else | None = node.orelse
    while isinstance(current, cst.If):
        branches.append(current.body)
        current = current.orelse
    if current is None:
        return None
    branches.append(current.body)
    return branches


def _builds_something(body: cst.BaseSuite) -> bool:
    return any(isinstance(node, cst.Call) for node in descendants(body))


def _shape(body: cst.BaseSuite, module: ModuleModel) -> str | None:
    """The branch's code as Python sees it (comments, layout and parentheses aside)."""
    statements = body.body if isinstance(body, cst.IndentedBlock) else [body]
    # Each statement is generated on its own, at indentation zero (the block's header comment and
    # indentation are left out).
    code = "\n".join(module.tree.code_for_node(statement).strip() for statement in statements)
    try:
        return ast.dump(ast.parse(code))
    except SyntaxError:
        return None


IdenticalBranches.INVALID = [
    """
import torch.nn as nn
class Net(nn.Module):
    def make(self, inchannel, outchannel, stride):
        if (stride == 1):
            downsample = nn.Sequential(
                nn.Conv2d(inchannel, outchannel, kernel_size=1, stride=stride),
                nn.BatchNorm2d(outchannel),
            )
        else:
            downsample = nn.Sequential(
                nn.Conv2d(inchannel, outchannel, kernel_size=1, stride=stride),  # projection
                nn.BatchNorm2d(outchannel)
            )
        return downsample
"""
]
IdenticalBranches.VALID = [
    """
import torch.nn as nn
class Net(nn.Module):
    def make(self, inchannel, outchannel, stride):
        if stride == 1 and inchannel == outchannel:
            downsample = None
        else:
            downsample = nn.Conv2d(inchannel, outchannel, kernel_size=1, stride=stride)
        if stride == 1:
            pass
        else:
            pass
        if self.pre:
            out = self.bn(x)
        elif self.post:
            out = self.bn(x)
        return downsample
"""
]
