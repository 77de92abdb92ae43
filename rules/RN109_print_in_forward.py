"""RN109 print-in-forward."""

from __future__ import annotations

from collections.abc import Iterator

import libcst as cst

from reslint.findings import Applicability, Severity
from reslint.model import ModuleModel
from reslint.rule import Edit, Fix, Rule, Violation


class PrintInForward(Rule):
    """## What it does
    Checks for `print(...)` calls inside `forward`.

    ## Why is this bad?
    `forward` runs for every block of every batch: a shape print in a Bottleneck writes 16 lines per
    image batch for ResNet-50, floods training logs, slows training (it synchronises with the GPU to
    read values) and breaks `torch.compile` / TorchScript export.

    ## Example
    ```python
    def forward(self, x):
        print("x.shape=", x.shape)
        out = self.conv1(x)
    ```

    Use instead:
    ```python
    def forward(self, x):
        out = self.conv1(x)  # check shapes once with torchinfo.summary or a test
    ```
    """

    code = "RN109"
    name = "print-in-forward"
    fixable = Applicability.UNSAFE
    severity = Severity.WARNING

    def check(self, module: ModuleModel) -> Iterator[Violation]:
        forwards = {
            id(cls.methods["forward"]): cls
            for cls in module.module_classes
            if "forward" in cls.methods
        }
        for call, function in module.names.calls:
            if function is None or id(function) not in forwards:
                continue
            if (
                isinstance(call.func, cst.Name)
                and call.func.value == "print"
                and "print" not in module.names.module_bound
                and not module.names.raises_after(call)  # the message of an error being raised
                and not module.names.warns_of_a_failure(call)  # a diagnostic of a failing check
                and not module.names.under_debug_switch(call)  # `if self.verbose: print(...)`
            ):
                yield Violation(
                    call,
                    f"`print` in `{forwards[id(function)].name}.forward` runs on every forward pass",
                    "remove it; inspect shapes once with a hook, torchinfo.summary, or a unit test",
                    fix=_removal(call, module),
                )


def _removal(call: cst.Call, module: ModuleModel) -> Fix | None:
    """The `print(...)` statement's lines removed; `pass` instead when its block holds nothing else
    or it shares its line with other statements. None when the print is part of an expression."""
    statement = module.names.parents.get(id(call))
    if not isinstance(statement, cst.Expr):
        return None
    line = module.names.parents.get(id(statement))
    block = module.names.parents.get(id(line))
    if (
        isinstance(line, cst.SimpleStatementLine)
        and len(line.body) == 1
        and isinstance(block, cst.IndentedBlock)
        and len(block.body) > 1
    ):
        return Fix((Edit(line, "", "lines"),))
    return Fix.replace(call, "pass")


PrintInForward.INVALID = [
    """
import torch.nn as nn
class Block(nn.Module):
    def forward(self, x):
        print(x.shape)
        return x
""",
    """
import torch.nn as nn
class Block(nn.Module):
    def forward(self, x):
        # while debugging
        print(x.shape)  # remove later
        if self.training:
            print("training")
        return x
""",
]
PrintInForward.FIXED = [
    PrintInForward.INVALID[0].replace("        print(x.shape)\n", ""),
    PrintInForward.INVALID[1]
    .replace("        print(x.shape)  # remove later\n", "")
    .replace('print("training")', "pass"),
]
PrintInForward.VALID = [
    """
import torch.nn as nn
class Block(nn.Module):
    def forward(self, x):
        return x
    def describe(self):
        print(self)
""",
    """
import torch.nn as nn
class Block(nn.Module):
    def forward(self, x):
        if x.dim() != 4:
            print("expected NCHW, got", tuple(x.shape))
            raise ValueError("Block takes 4-d input")
        return x
""",
    """
import torch.nn as nn
class Block(nn.Module):
    def __init__(self, verbose=False):
        super().__init__()
        self.verbose = verbose
    def forward(self, x):
        if self.verbose:
            print("block input", tuple(x.shape))
        return x
""",
]
