"""RN117 undefined-name."""

from __future__ import annotations

from collections.abc import Iterator

import libcst as cst

from reslint.model import ModuleModel
from reslint.model.call_binding import is_super_call
from reslint.rule import Rule, Violation
from reslint.rules_support import closest


class UndefinedNameRead(Rule):
    """## What it does
    Checks model files (files that define an `nn.Module`) for names that are read where nothing binds
    them: not defined, imported, assigned nor a builtin there (pyflakes decides the scoping). The
    first such read of a name in each function is reported.

    ## Why is this bad?
    The line raises `NameError` when it runs. In an annotation (`-> ResNet` where the class is spelled
    `Resnet`) that is when the module is imported; in a helper call (`conv3x3` never defined, because
    only part of a file was copied) it is when the model is built.

    ## Example
    ```python
    class Resnet(nn.Module):
        ...
    def resnet18(**kwargs) -> ResNet:
        return Resnet(BasicBlock, [2, 2, 2, 2], **kwargs)
    ```

    Use instead:
    ```python
    class ResNet(nn.Module):
        ...
    def resnet18(**kwargs) -> ResNet:
        return ResNet(BasicBlock, [2, 2, 2, 2], **kwargs)
    ```
    """

    code = "RN117"
    name = "undefined-name"
    # A misspelt builtin, a missing `self.` and a forward without its input parameter are reported
    # on the same read with the fix in their own words.
    defers_to = ("RN102", "RN106", "RN118")

    def check(self, module: ModuleModel) -> Iterator[Violation]:
        if not module.defines_networks:
            return
        seen: set[tuple[int, str]] = set()
        for undefined in module.undefined_names:
            name = undefined.name
            if (id(undefined.function), name) in seen:
                continue  # one finding per name and function: the first read
            seen.add((id(undefined.function), name))
            suggestion = closest(name, module.names.bound_anywhere)
            better = tuple((code, undefined.node) for code in self.defers_to) + _super_call(
                undefined.node, module
            )
            if suggestion is not None:
                yield Violation(
                    undefined.node,
                    f"`{name}` is not defined (NameError when this line runs): "
                    f"did you mean `{suggestion}`?",
                    f"write `{suggestion}`",
                    defers_to=better,
                )
            else:
                yield Violation(
                    undefined.node,
                    f"`{name}` is not defined anywhere this line can see: it raises NameError "
                    "when it runs",
                    f"define or import `{name}`",
                    defers_to=better,
                )


def _super_call(node: cst.CSTNode, module: ModuleModel) -> tuple[tuple[str, cst.CSTNode], ...]:
    """`super(DenseNet3, self)` naming an undefined class: RN101's finding on the call says so and
    mends it."""
    arg = module.names.parents.get(id(node))
    call = module.names.parents.get(id(arg))
    if isinstance(arg, cst.Arg) and is_super_call(call) and call.args[0] is arg:
        return (("RN101", call),)
    return ()


UndefinedNameRead.INVALID = [
    """
import torch.nn as nn
class Resnet(nn.Module):
    pass
def resnet18() -> ResNet:
    return Resnet()
""",
    """
import torch.nn as nn
class BasicBlock(nn.Module):
    def __init__(self, inplanes, planes):
        super().__init__()
        self.conv1 = conv3x3(inplanes, planes)
""",
]
UndefinedNameRead.VALID = [
    """
import torch.nn as nn
from typing import TYPE_CHECKING
try:
    from torch.hub import load_state_dict_from_url
except ImportError:
    load_state_dict_from_url = None
class ResNet(nn.Module):
    expansion = 1
    widths = [64 * expansion, 128 * expansion]
    def forward(self, x):
        return [layer for layer in self.layers]
def resnet18() -> ResNet:
    return ResNet()
""",
    """
# Not a model file: no nn.Module is defined here, so its names are not this linter's business.
def helper():
    return undefined_elsewhere()
""",
]
