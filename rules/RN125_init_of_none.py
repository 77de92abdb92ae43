"""RN125 init-of-none."""

from __future__ import annotations

from collections.abc import Iterator

import libcst as cst

from reslint.model import ModuleModel
from reslint.model.none_tests import none_test_before
from reslint.rule import Rule, Violation
from reslint.rules_support import torch_calls

INIT = "torch.nn.init."


class InitOfNone(Rule):
    """## What it does
    Checks for a `torch.nn.init` function applied to a tensor that the test around it has just found
    to be None: `if m.bn3.weight is None: nn.init.constant_(m.bn3.weight, 0)`, or the `else` of
    `if m.bias is not None:`.

    ## Why is this bad?
    The initialisation never does what it was written for. Where the value is a tensor (a
    BatchNorm's weight, a conv's bias: the usual case) the test is false and the branch never runs,
    so the zero-init of the last BatchNorm of each block (or the bias init) is silently skipped. Where
    the value really is None (`affine=False`, `bias=False`) the call raises `AttributeError`, because
    there is no tensor to fill. The test was meant the other way round: `is not None`.

    ## Example
    ```python
    for m in self.modules():
        if isinstance(m, Bottleneck) and m.bn3.weight is None:
            nn.init.constant_(m.bn3.weight, 0)
    ```

    Use instead:
    ```python
    for m in self.modules():
        if isinstance(m, Bottleneck) and m.bn3.weight is not None:
            nn.init.constant_(m.bn3.weight, 0)
    ```
    """

    code = "RN125"
    name = "init-of-none"

    def check(self, module: ModuleModel) -> Iterator[Violation]:
        parents = module.names.parents
        for call in torch_calls(module, INIT):
            tensor = call.argument("tensor")
            statement = _statement_of(call.node, parents)
            if tensor is None or statement is None:
                continue
            test = none_test_before(
                tensor, statement, parents, module.code, lambda s: _only_inits(s, module)
            )
            if test is not None:
                yield Violation(
                    test,
                    f"`{call.shown}` (line {module.line_of(call.node)}) fills "
                    f"`{module.code(tensor)}` only where this test has found it to be None: for a "
                    "tensor it never runs, and on None it raises",
                    "write `is not None`"
                    if isinstance(test.comparisons[0].operator, (cst.Is, cst.Equal))
                    else "move the call into the branch where it is not None",
                )


def _statement_of(node: cst.CSTNode, parents: dict[int, cst.CSTNode]) -> cst.CSTNode | None:
    """The statement of a block that holds `node`."""
    current: cst.CSTNode | None = node
    while current is not None and not isinstance(
        parents.get(id(current)), (cst.IndentedBlock, cst.Module)
    ):
        current = parents.get(id(current))
    return current


def _only_inits(statement: cst.BaseStatement, module: ModuleModel) -> bool:
    """A line of `torch.nn.init` calls (or `pass`): it fills tensors and sets no attribute."""
    if not isinstance(statement, cst.SimpleStatementLine):
        return False
    for small in statement.body:
        if isinstance(small, cst.Pass):
            continue
        if not (isinstance(small, cst.Expr) and isinstance(small.value, cst.Call)):
            return False
        qualified = module.imports.qualified(small.value.func)
        if qualified is None or not qualified.startswith(INIT):
            return False
    return True


InitOfNone.INVALID = [
    """
import torch.nn as nn
def zero_init(model):
    for m in model.modules():
        if isinstance(m, Bottleneck) and m.bn3.weight is None:
            nn.init.constant_(m.bn3.weight, 0)
""",
    """
from torch.nn import init
def init_linear(m):
    init.normal_(m.weight, std=0.01)
    if m.bias is not None:
        pass
    else:
        init.zeros_(m.bias.data)
""",
]
InitOfNone.VALID = [
    """
import torch.nn as nn
def init_weights(m):
    if isinstance(m, nn.BatchNorm2d) and m.weight is not None:
        nn.init.constant_(m.weight, 1)
    if m.bias is None:
        m.bias = nn.Parameter(torch.zeros(m.out_channels))
        nn.init.zeros_(m.bias)
    if m.weight is None or m.bias is None:
        nn.init.zeros_(m.bias)
""",
]
