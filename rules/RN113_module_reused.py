"""RN113 module-reused."""

from __future__ import annotations

import re
from collections.abc import Iterator

import libcst as cst

from reslint.model import ModuleModel
from reslint.model.classes import Instance
from reslint.model.queries import describe, forward_chains
from reslint.model.values import Layer, compatible
from reslint.rule import Rule, Violation
from reslint.rules_support import unique

# Layers with weights: calling one of them twice on one path shares those weights, a stage
# (`nn.Sequential` of blocks) as much as one conv. (BatchNorm is RN302's: its running statistics make
# the reuse a different bug.)
SHARED_WEIGHTS = {"conv", "linear", "block", "norm", "sequential"}


class ModuleReused(Rule):
    """## What it does
    Checks for one module object with weights used at two places of one path through the network:
    the same conv, linear layer, block or stage called twice in a row of forward, or put twice into
    a stage (`[Block(64)] * 3`, `layers.append(block)` twice).

    ## Why is this bad?
    Both places share one set of weights, so the network has fewer parameters and less capacity than
    the architecture it claims, and the two places cannot learn different filters. `[Block(c)] * 3`
    builds one block, not three; `out = self.conv2(self.conv2(out))` is a typo for `conv3`, and
    `x = self.layer1(x)` written where `layer2` was meant runs the first stage twice. (BatchNorm
    reuse is RN302; activations and pools have no weights and may be reused freely.)

    ## Example
    ```python
    self.layer1 = nn.Sequential(*[BasicBlock(64, 64)] * 2)
    ```

    Use instead:
    ```python
    self.layer1 = nn.Sequential(*[BasicBlock(64, 64) for _ in range(2)])
    ```
    """

    code = "RN113"
    name = "module-reused"

    def check(self, module: ModuleModel) -> Iterator[Violation]:
        yield from unique(self._check(module))

    def _check(self, module: ModuleModel) -> Iterator[Violation]:
        for instance in module.instances():
            for steps in forward_chains(instance):
                seen: dict[int, object] = {}
                for step in steps:
                    layer = step.layer
                    if layer is None or not _shares_weights(layer, instance):
                        continue
                    first = seen.setdefault(id(layer), step)
                    if (
                        first is not step
                        and first.node is not step.node
                        and compatible(first.guards, step.guards)
                    ):
                        yield Violation(
                            step.node,
                            f"`{step.text}` is applied twice on one path (first on line "
                            f"{module.line_of(first.node)}): both places share one set of weights",
                            f"give the second place its own `{layer.type_name}`",
                        )
            for layer in instance.layers().values():
                yield from _repeated_children(layer, module)


def _shares_weights(layer: Layer, instance: Instance | None = None) -> bool:
    """A layer with weights; one set on an instance may also be known to hold them from the file's
    other configurations of its class."""
    if layer.kind not in SHARED_WEIGHTS:
        return False
    return instance.attribute_holds_weights(layer) if instance else layer.holds_weights()


def _repeated_children(container: Layer, module: ModuleModel) -> Iterator[Violation]:
    for inner in container.walk():
        if inner.kind not in ("sequential", "modulelist") or _says_shared(inner, module):
            continue
        seen: set[int] = set()
        for child in inner.children:
            if id(child) in seen and _shares_weights(child) and _filled_together(inner, child):
                yield Violation(
                    child.anchor,
                    f"`{describe(child)}` is one module object put into `{describe(inner)}` more "
                    "than once: every copy shares the same weights",
                    "build a new module for each position "
                    "(`[Block(...) for _ in range(n)]`, not `[Block(...)] * n`)",
                )
                break
            seen.add(id(child))


def _filled_together(container: Layer, child: Layer) -> bool:
    """Whether two of the places that put the child into the container run in one configuration
    (`if i == 0: level.add_module(...); levels.append(level); continue` then `levels.append(level)`:
    one way or the other, once per iteration). Children given when it was built count as one place."""
    fills = container.fills.get(id(child), [])
    if len(fills) < 2:
        return True
    return any(compatible(a, b) for i, a in enumerate(fills) for b in fills[i + 1 :])


def _says_shared(container: Layer, module: ModuleModel) -> bool:
    """The container is written as a sharing on purpose: `nn.ModuleList([shared_head] * n)` (a
    detector whose config asks for one box head at every decoder layer)."""
    node = container.node
    return (
        isinstance(node, cst.CSTNode)
        and module.owns(node)
        and SHARING.search(module.code(node)) is not None
    )


SHARING = re.compile(r"shar(e|ed|ing)", re.IGNORECASE)


ModuleReused.INVALID = [
    """
import torch.nn as nn
class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.conv2 = nn.Conv2d(64, 64, 3, padding=1)
        self.conv3 = nn.Conv2d(64, 64, 3, padding=1)
    def forward(self, x):
        out = self.conv2(x)
        out = self.conv2(out)
        return out
""",
    """
import torch.nn as nn
class Block(nn.Module):
    def __init__(self, c):
        super().__init__()
        self.conv = nn.Conv2d(c, c, 3, padding=1)
    def forward(self, x):
        return x + self.conv(x)
class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.layer1 = nn.Sequential(*[Block(64)] * 3)
    def forward(self, x):
        return self.layer1(x)
""",
]
ModuleReused.VALID = [
    """
import torch.nn as nn
class Siamese(nn.Module):
    def __init__(self):
        super().__init__()
        self.encoder = nn.Conv2d(3, 64, 3)
        self.relu = nn.ReLU()
    def forward(self, a, b):
        return self.relu(self.encoder(a)) - self.relu(self.encoder(b))
""",
    """
import torch.nn as nn
class Block(nn.Module):
    def __init__(self, c):
        super().__init__()
        self.conv = nn.Conv2d(c, c, 3, padding=1)
    def forward(self, x):
        return x + self.conv(x)
class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.layer1 = nn.Sequential(*[Block(64) for _ in range(3)])
        self.shared = Block(64)
    def forward(self, x):
        for _ in range(3):
            x = self.shared(x)
        return self.layer1(x)
""",
]
