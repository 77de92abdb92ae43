"""RN303 activation-in-shortcut."""

from __future__ import annotations

from collections.abc import Iterator, Sequence

import libcst as cst

from reslint.findings import Applicability
from reslint.knowledge.naming import SHORTCUT_NAME
from reslint.model import ModuleModel
from reslint.model.queries import Element, anchor_of, describe, kind_of, residuals, split_in_two
from reslint.model.values import Step
from reslint.rule import Edit, Fix, Rule, Violation
from reslint.rules_support import unique

WEIGHTED = {"conv", "linear", "block"}


class ActivationInShortcut(Rule):
    """## What it does
    Checks for a ReLU (or other activation) inside the shortcut / downsample path of a residual block.

    ## Why is this bad?
    The shortcut must be linear — identity, or a 1x1 projection with its BatchNorm — so that the
    block can represent the identity and gradients pass unchanged. A ReLU there zeroes every negative
    value of the skipped signal in each projection block (He et al., "Identity Mappings in Deep
    Residual Networks", 2016).

    ## Example
    ```python
    downsample = nn.Sequential(
        nn.Conv2d(inchannel, outchannel, kernel_size=1, stride=stride, bias=False),
        nn.BatchNorm2d(outchannel),
        nn.ReLU(inplace=True),
    )
    ```

    Use instead:
    ```python
    downsample = nn.Sequential(
        nn.Conv2d(inchannel, outchannel, kernel_size=1, stride=stride, bias=False),
        nn.BatchNorm2d(outchannel),
    )
    ```
    """

    code = "RN303"
    name = "activation-in-shortcut"
    fixable = Applicability.UNSAFE

    def check(self, module: ModuleModel) -> Iterator[Violation]:
        yield from unique(self._check(module))

    def _check(self, module: ModuleModel) -> Iterator[Violation]:
        for instance in module.instances():
            for residual in residuals(instance):
                for shortcut, steps in zip(residual.shortcuts, residual.shortcut_steps):
                    if split_in_two(residual, shortcut, instance):
                        continue  # one half of a split input, activated like the other half
                    name = _name_of(steps)
                    yield from _activations(shortcut, name, module)
        # A projection built for a block reslint cannot read (the `block` a stage builder is given):
        # the block adds it to its branch, as its name says.
        for handed in module.interpreter.handed_shortcuts:
            if handed.module is module:
                yield from _activations(handed.layer.flat(), handed.name, module)


def _name_of(steps: Sequence[Step]) -> str:
    """What the shortcut is called: its step named like one (`self.shortcut` after a shared
    `self.upsample`), else its first step."""
    named = [step.text for step in steps if SHORTCUT_NAME.search(step.text or "")]
    return named[0] if named else steps[0].text if steps else "shortcut"


def _activations(
    shortcut: Sequence[Element], name: str, module: ModuleModel
) -> Iterator[Violation]:
    """The activations after the shortcut's last layer with weights. A pre-activation projection
    (BN -> ReLU -> conv, DPN's) rectifies the input of its conv, not the shortcut's output; a
    shortcut with no weights (identity) has nothing to rectify after."""
    weighted = [i for i, e in enumerate(shortcut) if kind_of(e) in WEIGHTED]
    after = weighted[-1] + 1 if weighted else 0
    for element in shortcut[after:]:
        if kind_of(element) != "act":
            continue
        yield Violation(
            anchor_of(element),
            f"the shortcut `{name}` applies `{describe(element)}`: the skip path must stay "
            "linear (identity, or conv + norm)",
            "remove the activation from the shortcut; apply ReLU after the addition instead",
            fix=_removal(anchor_of(element), module),
        )


def _removal(node: cst.CSTNode, module: ModuleModel) -> Fix | None:
    """The activation taken out: its argument of `nn.Sequential(...)` removed, or its call in forward
    (`F.relu(shortcut)`, `self.act(shortcut)`) replaced by what it is applied to."""
    parent = module.names.parents.get(id(node))
    if isinstance(parent, cst.Arg) and parent.value is node:
        call = module.names.parents.get(id(parent))
        if (
            isinstance(call, cst.Call)
            and module.imports.qualified(call.func) == "torch.nn.Sequential"
        ):
            return _argument_removal(call, parent, module)
        return None
    if not isinstance(node, cst.Call) or not node.args:
        return None
    applied_to, *options = node.args
    if applied_to.keyword or applied_to.star or any(o.keyword is None for o in options):
        return None
    if any(o.keyword.value != "inplace" for o in options if o.keyword is not None):
        return None
    return Fix.replace(node, module.tree.code_for_node(applied_to.value))


def _argument_removal(call: cst.Call, arg: cst.Arg, module: ModuleModel) -> Fix | None:
    """The argument's own lines when nothing else is on them, else the argument and one comma."""
    index = next(i for i, candidate in enumerate(call.args) if candidate is arg)
    if index == 0:
        return None  # the activation first: not after the projection, not reported
    line, _, end_line, _ = module.position(arg.value)
    before = module.position(call.args[index - 1].value)[2]
    after = module.position(call.args[index + 1].value)[0] if index + 1 < len(call.args) else None
    closing = module.position(call)[2]
    if before < line and end_line < (after if after is not None else closing):
        return Fix((Edit(arg, "", "lines"),))
    code = module.tree.code_for_node
    if after is not None:  # `relu, b` -> `b`
        following = call.args[index + 1].value
        return Fix((Edit(arg.value, code(following), until=following),))
    previous = call.args[index - 1].value  # `a, relu` -> `a`
    return Fix((Edit(previous, code(previous), until=arg.value),))


ActivationInShortcut.INVALID = [
    """
import torch.nn as nn
class Block(nn.Module):
    def __init__(self, cin, cout):
        super().__init__()
        self.conv = nn.Conv2d(cin, cout, 3, padding=1, bias=False)
        self.bn = nn.BatchNorm2d(cout)
        self.shortcut = nn.Sequential(nn.Conv2d(cin, cout, 1, bias=False), nn.BatchNorm2d(cout), nn.ReLU())
    def forward(self, x):
        return self.bn(self.conv(x)) + self.shortcut(x)
""",
    """
import torch.nn as nn
import torch.nn.functional as F
class Block(nn.Module):
    def __init__(self, cin, cout):
        super().__init__()
        self.conv = nn.Conv2d(cin, cout, 3, padding=1, bias=False)
        self.bn = nn.BatchNorm2d(cout)
        self.conv2 = nn.Conv2d(cout, cout, 3, padding=1, bias=False)
        self.proj = nn.Conv2d(cin, cout, 1, bias=False)
        self.proj_bn = nn.BatchNorm2d(cout)
    def forward(self, x):
        out = self.bn(self.conv2(F.relu(self.conv(x))))
        shortcut = F.relu(self.proj_bn(self.proj(x)))  # projection
        return F.relu(out + shortcut)
""",
]
# The same block with its shortcut written one layer a line: the activation's line goes, comment and all.
ActivationInShortcut.INVALID.insert(
    1,
    ActivationInShortcut.INVALID[0].replace(
        "nn.Sequential(nn.Conv2d(cin, cout, 1, bias=False), nn.BatchNorm2d(cout), nn.ReLU())",
        "nn.Sequential(\n            nn.Conv2d(cin, cout, 1, bias=False),\n            nn.BatchNorm2d(cout),\n"
        "            nn.ReLU(inplace=True),  # why?\n        )",
    ),
)
ActivationInShortcut.FIXED = [
    ActivationInShortcut.INVALID[0].replace(", nn.ReLU())", ")"),
    ActivationInShortcut.INVALID[1].replace("            nn.ReLU(inplace=True),  # why?\n", ""),
    ActivationInShortcut.INVALID[2].replace(
        "F.relu(self.proj_bn(self.proj(x)))", "self.proj_bn(self.proj(x))"
    ),
]
ActivationInShortcut.VALID = [
    """
import torch.nn as nn
class Block(nn.Module):
    def __init__(self, cin, cout):
        super().__init__()
        self.conv = nn.Conv2d(cin, cout, 3, padding=1, bias=False)
        self.bn = nn.BatchNorm2d(cout)
        self.relu = nn.ReLU()
        self.shortcut = nn.Sequential(nn.Conv2d(cin, cout, 1, bias=False), nn.BatchNorm2d(cout))
    def forward(self, x):
        return self.relu(self.bn(self.conv(x)) + self.shortcut(x))
""",
    """
import torch.nn as nn
class ConvPosEnc(nn.Module):
    # the residual branch happens to be called `proj`: it is still the main branch, not a projection shortcut
    def __init__(self, dim):
        super().__init__()
        self.proj = nn.Conv2d(dim, dim, 3, padding=1, groups=dim)
        self.act = nn.GELU()
    def forward(self, x):
        return x + self.act(self.proj(x))
""",
]
