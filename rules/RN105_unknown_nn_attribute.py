"""RN105 unknown-nn-attribute."""

from __future__ import annotations

from collections.abc import Iterator

from reslint.model import ModuleModel
from reslint.nn_names import FUNCTIONAL_NAMES, INIT_NAMES, NN_NAMES, suggest
from reslint.rule import Rule, Violation

NAMESPACES = {
    "torch.nn": NN_NAMES,
    "torch.nn.functional": FUNCTIONAL_NAMES,
    "torch.nn.init": INIT_NAMES,
}


class UnknownNnAttribute(Rule):
    """## What it does
    Checks for attributes of `torch.nn`, `torch.nn.functional` and `torch.nn.init` that do not
    exist, such as `nn.conv2d` or `nn.Batchnorm2d`, and suggests the right spelling.

    ## Why is this bad?
    The lookup fails with `AttributeError: module 'torch.nn' has no attribute 'conv2d'` — in an
    annotation already when the module is imported, in a helper when the model is built.

    ## Example
    ```python
    def conv3x3(in_planes, out_planes) -> nn.conv2d:
        return nn.conv2d(in_planes, out_planes, kernel_size=3, padding=1, bias=False)
    ```

    Use instead:
    ```python
    def conv3x3(in_planes, out_planes) -> nn.Conv2d:
        return nn.Conv2d(in_planes, out_planes, kernel_size=3, padding=1, bias=False)
    ```
    """

    code = "RN105"
    name = "unknown-nn-attribute"

    def check(self, module: ModuleModel) -> Iterator[Violation]:
        for attribute, _function in module.names.attributes:
            base = module.imports.qualified(attribute.value)
            if base not in NAMESPACES:
                continue
            name = attribute.attr.value
            known = NAMESPACES[base]
            if name in known or name.startswith("__"):
                continue
            alias = module.code(attribute.value)
            guess = suggest(name, known)
            yield Violation(
                attribute,
                f"`{alias}.{name}` does not exist in {base}"
                + (f": did you mean `{alias}.{guess}`?" if guess else ""),
                f"write `{alias}.{guess}`"
                if guess
                else f"check the spelling against the {base} documentation",
            )


UnknownNnAttribute.INVALID = [
    """
import torch.nn as nn
def conv3x3(a, b) -> nn.conv2d:
    return nn.conv2d(a, b, 3, padding=1, bias=False)
""",
    """
import torch
x = torch.nn.functional.Relu
""",
]
UnknownNnAttribute.VALID = [
    """
import torch.nn as nn
import torch.nn.functional as F
def conv3x3(a, b) -> nn.Conv2d:
    return nn.Conv2d(a, b, 3, padding=1, bias=False)
y = F.relu
nn.init.kaiming_normal_
"""
]
