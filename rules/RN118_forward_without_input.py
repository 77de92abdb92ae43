"""RN118 forward-without-input."""

from __future__ import annotations

from collections.abc import Iterator

import libcst as cst

from reslint.model import ModuleModel
from reslint.rule import Rule, Violation


class ForwardWithoutInput(Rule):
    """## What it does
    Checks for a `forward(self)` of an `nn.Module` that takes no input yet reads one: a name
    defined nowhere it can see (`x`), a local read before anything can assign it
    (`x = self.conv1(x)`), or the builtin `input` used as a tensor.

    ## Why is this bad?
    `model(x)` raises `TypeError: forward() takes 1 positional argument but 2 were given`. Some
    modules rightly take no input (a learned position bias returns a parameter), which is why the
    rule asks for a read of the missing input.

    ## Example
    ```python
    def forward(self):
        out = self.bn1(self.conv1(x))
        return self.relu(out)
    ```

    Use instead:
    ```python
    def forward(self, x):
        out = self.bn1(self.conv1(x))
        return self.relu(out)
    ```
    """

    code = "RN118"
    name = "forward-without-input"

    def check(self, module: ModuleModel) -> Iterator[Violation]:
        # A class built on a base reslint cannot see (another file's block) counts too: whatever the
        # base, a forward that reads a name bound nowhere cannot run.
        for cls in module.analysed_classes:
            forward = cls.methods.get("forward")
            if forward is None or not _takes_only_self(forward):
                continue
            undefined = {id(use.node) for use in module.undefined_names}
            names = module.names.functions[id(forward)]
            for read in names.reads:
                if (
                    id(read) in undefined
                    or _builtin_input(read, names.bound, module)
                    or module.surely_unbound(read, forward)
                ):
                    yield Violation(
                        read,
                        f"`{cls.name}.forward` takes no input but reads `{read.value}`: "
                        "calling the model raises TypeError",
                        f"write `def forward(self, {read.value}):`",
                    )
                    break


def _takes_only_self(function: cst.FunctionDef) -> bool:
    params = function.params
    return (
        len(params.params) == 1
        and not params.posonly_params
        and not params.kwonly_params
        and not isinstance(params.star_arg, cst.Param)
        and params.star_kwarg is None
        and not function.decorators  # a staticmethod forward belongs to an autograd.Function
    )


def _builtin_input(read: cst.Name, bound: dict, module: ModuleModel) -> bool:
    """`input` read as a value (not called), where neither the function nor the file rebinds it."""
    if read.value != "input" or "input" in bound or "input" in module.names.module_bound:
        return False
    parent = module.names.parents.get(id(read))
    return not (isinstance(parent, cst.Call) and parent.func is read)


ForwardWithoutInput.INVALID = [
    """
import torch.nn as nn
class Block(nn.Module):
    def forward(self):
        return self.relu(self.bn(self.conv(x)))
""",
    """
import torch.nn as nn
class Block(nn.Module):
    def forward(self):
        return self.conv(input)
""",
]
ForwardWithoutInput.VALID = [
    """
import torch.nn as nn
class RelativePositionBias(nn.Module):
    def forward(self):
        return self.table[self.index.view(-1)].view(self.size, self.size, -1)
class Block(nn.Module):
    def forward(self, input):
        return self.conv(input)
"""
]
