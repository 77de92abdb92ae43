"""RN205 inplanes-not-updated."""

from __future__ import annotations

from collections.abc import Iterator

import libcst as cst

from reslint.findings import Applicability
from reslint.model import ModuleModel
from reslint.model.queries import stale_loop_channels, stale_running_channels
from reslint.rule import Edit, Fix, Rule, Violation


class InplanesNotUpdated(Rule):
    """## What it does
    Checks layer-builder methods (`_make_layer`) that build blocks from a running channel count such
    as `self.inplanes` but never update it.

    ## Why is this bad?
    Every stage is then built for the stem's 64 input channels: the second block of a stage, and
    every later stage, receive tensors with more channels than their first convolution expects.

    ## Example
    ```python
    def _make_layer(self, block, planes, blocks, stride=1):
        layers = [block(self.inplanes, planes, stride, downsample)]
        for _ in range(1, blocks):
            layers.append(block(self.inplanes, planes))
        return nn.Sequential(*layers)
    ```

    Use instead:
    ```python
    def _make_layer(self, block, planes, blocks, stride=1):
        layers = [block(self.inplanes, planes, stride, downsample)]
        self.inplanes = planes * block.expansion
        for _ in range(1, blocks):
            layers.append(block(self.inplanes, planes))
        return nn.Sequential(*layers)
    ```
    """

    code = "RN205"
    name = "inplanes-not-updated"
    fixable = Applicability.UNSAFE

    def check(self, module: ModuleModel) -> Iterator[Violation]:
        for cls in module.module_classes:
            for attribute, method in stale_running_channels(cls, module).items():
                yield Violation(
                    method.name,
                    f"`{method.name.value}` builds blocks from `self.{attribute}` but never updates it, so "
                    "every block is built for the same input channels",
                    f"after the first block, set `self.{attribute} = planes * block.expansion` "
                    "(the block's output channels)",
                    fix=_update(method, attribute, module),
                )
        for stale in stale_loop_channels(module):
            yield Violation(
                stale.loop.target,
                f"this loop builds strided blocks of changing output channels from `{stale.running}` "
                "but never updates it, so every block is built for the same input channels",
                f"at the end of each iteration, set `{stale.running}` to the output channels of the "
                "block just built",
            )


def _update(method: cst.FunctionDef, attribute: str, module: ModuleModel) -> Fix | None:
    """`self.inplanes = planes * block.expansion` on a line of its own right after the statement that
    builds the first block from `self.inplanes` (inside the loop, when the blocks are built in one)."""
    call = _first_block_call(method, attribute, module)
    if call is None or len(call.args) < 2 or call.args[1].keyword or call.args[1].star:
        return None
    statement: cst.CSTNode | None = call
    while statement is not None and not isinstance(statement, cst.SimpleStatementLine):
        statement = module.names.parents.get(id(statement))
    if statement is None or not isinstance(call.func, cst.Name):
        return None
    block, output = call.func.value, module.code(call.args[1].value)
    params = {param.name.value for param in method.params.params}
    block_class = module.class_named(block, call)
    expands = block in params or (
        block_class is not None and "expansion" in block_class.constant_nodes
    )
    channels = f"{output} * {block}.expansion" if expands else output
    line = module.lines[module.line_of(statement) - 1]
    indent = line[: len(line) - len(line.lstrip())]
    return Fix((Edit(statement, f"{indent}self.{attribute} = {channels}\n", "below"),))


def _first_block_call(
    method: cst.FunctionDef, attribute: str, module: ModuleModel
) -> cst.Call | None:
    """The first call in `method` that builds a block (a class of the file, or one passed in) from
    `self.<attribute>`, its first argument."""
    makers = {param.name.value for param in method.params.params} | module.class_names
    calls = [
        call
        for call, function in module.names.calls
        if function is method
        and isinstance(call.func, cst.Name)
        and call.func.value in makers
        and call.args
        and module.code(call.args[0].value) == f"self.{attribute}"
    ]
    return min(calls, key=module.position, default=None)


InplanesNotUpdated.INVALID = [
    """
import torch.nn as nn
class ResNet(nn.Module):
    def __init__(self, block):
        super().__init__()
        self.inplanes = 64
        self.layer1 = self._make_layer(block, 64, 2)
    def _make_layer(self, block, planes, blocks):
        layers = [block(self.inplanes, planes)]
        for _ in range(1, blocks):
            layers.append(block(self.inplanes, planes))
        return nn.Sequential(*layers)
    def forward(self, x):
        return self.layer1(x)
"""
]
InplanesNotUpdated.FIXED = [
    InplanesNotUpdated.INVALID[0].replace(
        "        for _", "        self.inplanes = planes * block.expansion\n        for _"
    )
]
InplanesNotUpdated.VALID = [
    """
import torch.nn as nn
class ResNet(nn.Module):
    def __init__(self, block):
        super().__init__()
        self.inplanes = 64
        self.layer1 = self._make_layer(block, 64, 2)
    def _make_layer(self, block, planes, blocks):
        layers = [block(self.inplanes, planes)]
        self.inplanes = planes * block.expansion
        for _ in range(1, blocks):
            layers.append(block(self.inplanes, planes))
        return nn.Sequential(*layers)
    def forward(self, x):
        return self.layer1(x)
"""
]
