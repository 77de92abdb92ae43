"""RN101 super-wrong-class."""

from __future__ import annotations

from collections.abc import Iterator

import libcst as cst

from reslint.findings import Applicability
from reslint.model import ModuleModel
from reslint.model.call_binding import is_super_call
from reslint.rule import Fix, Rule, Violation


class SuperWrongClass(Rule):
    """## What it does
    Checks for `super(Other, self)` inside a class that is not `Other` and does not inherit from it.

    ## Why is this bad?
    `super(Other, self)` requires `self` to be an instance of `Other`. Copying a block and renaming
    it (BasicBlock -> Bottleneck) while keeping `super(BasicBlock, self).__init__()` raises
    `TypeError: super(type, obj): obj must be an instance or subtype of type` when the model is built.

    ## Example
    ```python
    class Bottleneck(nn.Module):
        def __init__(self, inplanes, planes):
            super(BasicBlock, self).__init__()
    ```

    Use instead:
    ```python
    class Bottleneck(nn.Module):
        def __init__(self, inplanes, planes):
            super().__init__()
    ```
    """

    code = "RN101"
    name = "super-wrong-class"
    fixable = Applicability.SAFE

    def check(self, module: ModuleModel) -> Iterator[Violation]:
        for call, function in module.names.calls:
            if not (is_super_call(call) and call.args):
                continue
            cls = module.class_of(function)
            named = call.args[0].value
            if cls is None or not isinstance(named, cst.Name) or named.value == cls.name:
                continue
            if named.value in {base.name for base in cls.ancestors()} or _is_direct_base(
                cls, named.value
            ):
                continue  # super(Parent, self) deliberately skips Parent in the MRO
            undefined = any(u.node is named for u in module.undefined_names)
            yield Violation(
                call,
                f"`super({named.value}, self)` inside class `{cls.name}`, "
                + (
                    f"but `{named.value}` is not defined: building it raises NameError"
                    if undefined
                    else f"which is not a `{named.value}`: building it raises TypeError"
                ),
                f"write `super().__init__()` (or `super({cls.name}, self)`)",
                fix=Fix.replace(named, cls.name),
            )


def _is_direct_base(cls, name: str) -> bool:
    return any(isinstance(base, cst.Name) and base.value == name for base in cls.base_nodes)


SuperWrongClass.INVALID = [
    """
import torch.nn as nn
class BasicBlock(nn.Module):
    def __init__(self):
        super(BasicBlock, self).__init__()
class Bottleneck(nn.Module):
    def __init__(self):
        super(BasicBlock, self).__init__()
"""
]
SuperWrongClass.FIXED = [
    SuperWrongClass.INVALID[0].replace(
        "class Bottleneck(nn.Module):\n    def __init__(self):\n        super(BasicBlock,",
        "class Bottleneck(nn.Module):\n    def __init__(self):\n        super(Bottleneck,",
    )
]
SuperWrongClass.VALID = [
    """
import torch.nn as nn
class Bottleneck(nn.Module):
    def __init__(self):
        super(Bottleneck, self).__init__()
class Wide(Bottleneck):
    def __init__(self):
        super(Bottleneck, self).__init__()
"""
]
