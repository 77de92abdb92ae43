"""RN105 unknown-nn-attribute."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import replace

import libcst as cst

from reslint.findings import Applicability
from reslint.knowledge.names import is_listed_completely, names_in
from reslint.knowledge.spelling import did_you_mean, sole_guess
from reslint.model import ModuleModel
from reslint.model.imports import dotted_name
from reslint.rule import Fix, Rule, Violation

# An `except` naming one of these lets a missing torch name pass (code for several torch versions).
LOOKUP_ERRORS = {
    "ImportError",
    "ModuleNotFoundError",
    "AttributeError",
    "Exception",
    "BaseException",
}


class UnknownNnAttribute(Rule):
    """## What it does
    Checks for names that torch.nn and its relatives do not define, such as `nn.conv2d`,
    `nn.Batchnorm2d` or `from torch.nn import Conv2D`, and suggests the right spelling. It knows
    torch.nn, torch.nn.functional, torch.nn.init, torch.nn.utils, torch.nn.modules and its modules,
    torch.hub, torch.utils.model_zoo and torch.Tensor, private names included
    (`torch.nn.init._calculate_fan_in_and_fan_out` exists).

    ## Why is this bad?
    The lookup fails with `AttributeError: module 'torch.nn' has no attribute 'conv2d'` (or an
    ImportError) — in an annotation or an import already when the module is imported, in a helper
    when the model is built.

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
    fixable = Applicability.SAFE

    def check(self, module: ModuleModel) -> Iterator[Violation]:
        # `self.conv1 = nn.conv1 = nn.Conv2d(...)`: the file gives the namespace that name itself.
        assigned = {
            (module.imports.qualified(attribute.value), attribute.attr.value)
            for attribute, _function in module.names.attributes
            if isinstance(module.names.parents.get(id(attribute)), cst.AssignTarget)
        }
        for attribute, _function in module.names.attributes:
            namespace = module.imports.qualified(attribute.value)
            if (namespace, attribute.attr.value) in assigned:
                continue
            missing = _missing(attribute.attr.value, namespace)
            if missing is not None and not _guarded(attribute, attribute.attr.value, module):
                prefix = f"{module.code(attribute.value)}."
                violation = _violation(
                    attribute, prefix, attribute.attr.value, namespace, missing, "write"
                )
                yield replace(violation, fix=_fix(attribute.attr, missing))
        for statement in module.names.imports:
            if not isinstance(statement, cst.ImportFrom) or statement.relative:
                continue
            if statement.module is None or isinstance(statement.names, cst.ImportStar):
                continue
            namespace = dotted_name(statement.module)
            # Reported at the statement: reslint places no node inside an import (it never walks one).
            for alias in statement.names:
                if not isinstance(alias.name, cst.Name):
                    continue
                missing = _missing(alias.name.value, namespace)
                if missing is not None and not _guarded(statement, alias.name.value, module):
                    violation = _violation(
                        statement, "", alias.name.value, namespace, missing, "import"
                    )
                    # Renamed without `as`, the file's uses of the misspelt name would break.
                    renamed = alias.asname is not None
                    yield replace(violation, fix=_fix(alias.name, missing) if renamed else None)


def _fix(name: cst.Name, known: frozenset[str]) -> Fix | None:
    """The spelling that exists, when it is the only plausible one."""
    guess = sole_guess(name.value, known)
    return Fix.replace(name, guess) if guess is not None else None


def _missing(name: str, namespace: str | None) -> frozenset[str] | None:
    """The names of `namespace` when `name` is surely not one of them, else None."""
    if namespace is None or not is_listed_completely(namespace) or name.startswith("__"):
        return None
    known = names_in(namespace) or frozenset()
    return None if name in known else known


def _guarded(node: cst.CSTNode, name: str, module: ModuleModel) -> bool:
    """Inside `try:` with an `except ImportError / AttributeError` (or broader), or under an `if`
    that tests `hasattr(..., "name")`: code written for several torch versions."""
    child, parent = node, module.names.parents.get(id(node))
    while parent is not None:
        if isinstance(parent, cst.Try) and child is parent.body:
            if any(_catches_lookup_errors(handler) for handler in parent.handlers):
                return True
        if isinstance(parent, (cst.If, cst.IfExp)) and child is not parent.test:
            test = module.code(parent.test)
            if "hasattr" in test and (f'"{name}"' in test or f"'{name}'" in test):
                return True
        child, parent = parent, module.names.parents.get(id(parent))
    return False


def _catches_lookup_errors(handler: cst.ExceptHandler) -> bool:
    if handler.type is None:
        return True
    caught = (
        [element.value for element in handler.type.elements]
        if isinstance(handler.type, cst.Tuple)
        else [handler.type]
    )
    return any(dotted_name(expression) in LOOKUP_ERRORS for expression in caught)


def _violation(
    node: cst.CSTNode,
    prefix: str,
    name: str,
    namespace: str | None,
    known: frozenset[str],
    verb: str,
) -> Violation:
    """`prefix` + `name` as the user wrote it: `nn.conv2d`, or `Conv2D` in an import."""
    guess = did_you_mean(name, known)
    return Violation(
        node,
        f"`{prefix}{name}` does not exist in {namespace}"
        + (f": did you mean `{prefix}{guess}`?" if guess else ""),
        f"{verb} `{prefix}{guess}`"
        if guess
        else f"check the spelling against the {namespace} documentation",
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
    """
from torch.nn import Conv2D, BatchNorm2d
""",
]
UnknownNnAttribute.FIXED = [
    UnknownNnAttribute.INVALID[0].replace("nn.conv2d", "nn.Conv2d"),
    UnknownNnAttribute.INVALID[1].replace("functional.Relu", "functional.relu"),
    None,  # `from torch.nn import Conv2D`: the file's uses of Conv2D would break
]
UnknownNnAttribute.VALID = [
    """
import torch.nn as nn
import torch.nn.functional as F
def conv3x3(a, b) -> nn.Conv2d:
    return nn.Conv2d(a, b, 3, padding=1, bias=False)
y = F.relu
nn.init.kaiming_normal_
""",
    """
import torch
from torch.nn.modules.batchnorm import _BatchNorm
fan_in, _ = torch.nn.init._calculate_fan_in_and_fan_out(torch.empty(3, 3))
""",
    """
import torch.nn as nn
try:
    from torch.nn import Swish
except ImportError:
    Swish = nn.SiLU
act = nn.Mish if hasattr(nn, "Mish") else nn.ReLU
""",
]
