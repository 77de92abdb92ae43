"""RN312 residual-never-added."""

from __future__ import annotations

import re
from collections.abc import Iterator

import libcst as cst

from reslint.knowledge.naming import NO_RESIDUAL_NAME, SHORTCUT_NAME
from reslint.model import ModuleModel
from reslint.model.names import FunctionNames
from reslint.model.stores import assigned_name, names_read
from reslint.model.walk import descendants
from reslint.rule import Rule, Violation
from reslint.rules_support import unique

# A local that holds the shortcut: `identity`, `residual`, `shortcut`, `skip`...
SHORTCUT_LOCAL = re.compile(rf"{SHORTCUT_NAME.pattern}|residual", re.IGNORECASE)


class ResidualNeverAdded(Rule):
    """## What it does
    Checks for a block whose forward computes its shortcut (`identity = x`,
    `residual = self.downsample(x)`) and never uses it, or that builds a shortcut layer
    (`self.shortcut`, `self.downsample`) its forward never calls while adding nothing at all: the
    addition is missing.

    ## Why is this bad?
    Without the addition the block is a plain conv stack: the network loses the identity paths that
    make deep ResNets trainable, and a downsample projection, if any, is computed for nothing.

    ## Example
    ```python
    identity = x
    out = self.bn2(self.conv2(self.relu(self.bn1(self.conv1(x)))))
    return self.relu(out)
    ```

    Use instead:
    ```python
    identity = x
    out = self.bn2(self.conv2(self.relu(self.bn1(self.conv1(x)))))
    return self.relu(out + identity)
    ```
    """

    code = "RN312"
    name = "residual-never-added"

    def check(self, module: ModuleModel) -> Iterator[Violation]:
        for function in module.forward_functions():
            yield from _unused_shortcut(function, module)
        yield from unique(_shortcut_module_never_added(module))


def _shortcut_module_never_added(module: ModuleModel) -> Iterator[Violation]:
    """`self.shortcut` built in `__init__`, never used, and forward adds nothing: the addition is
    missing (RN107's "never used" defers to this)."""
    for unused in module.unused_layers:
        if unused.residual_missing_at is None:
            continue
        name = unused.assignment.name
        yield Violation(
            unused.residual_missing_at,
            f"`self.{name}` is built but never added: `{unused.cls.name}.forward` returns the branch "
            "alone, without its residual connection",
            f"add the shortcut before the last activation: `out = out + self.{name}(x)`",
        )


def _unused_shortcut(function: cst.FunctionDef, module: ModuleModel) -> Iterator[Violation]:
    owner = module.class_of(function)
    if owner is not None and NO_RESIDUAL_NAME.search(owner.name):
        return  # a plain block, a baseline without residuals by name
    names = module.names.functions[id(function)]
    shortcuts = [
        name
        for name in sorted(names.bound)
        if SHORTCUT_LOCAL.search(name) and _assigned_a_value(names.bound[name])
    ]
    if not shortcuts:
        return  # most forwards: nothing to walk the body for
    read = names_read(function.body)
    returns = [n for n in descendants(function.body) if isinstance(n, cst.Return)]
    if not returns or _adds_its_input(function, names):
        return
    unpacked = _unpacked_outputs(function)
    # `residual = self.shortcut(residual)` reads the name, but nothing reads what it computes.
    unread = {assigned_name(store) for store in module.liveness(function).unread_last}
    for name in shortcuts:
        if (name not in read or name in unread) and not all(
            id(node) in unpacked for node in names.bound[name]
        ):
            yield Violation(
                returns[-1],
                f"`{name}` is computed but never added: `{function.name.value}` returns the branch "
                "alone, without its residual connection",
                f"add the shortcut before the last activation: `out = out + {name}`",
            )


def _adds_its_input(function: cst.FunctionDef, names: FunctionNames) -> bool:
    """Forward adds its input, or a shortcut layer applied to it, by another way (`residual = x`
    left over, then `out += self.shortcut(x)`): the residual connection is there. Only an input
    that forward never rebinds is the block's input wherever it is read."""
    params = [p.name.value for p in function.params.params if p.name.value != "self"]
    if not params or _assigned_a_value(names.bound.get(params[0], [])):
        return False
    given = params[0]
    for node in descendants(function.body):
        if isinstance(node, cst.BinaryOperation) and isinstance(node.operator, cst.Add):
            operands: tuple[cst.BaseExpression, ...] = (node.left, node.right)
        elif isinstance(node, cst.AugAssign) and isinstance(node.operator, cst.AddAssign):
            operands = (node.value,)
        else:
            continue
        if any(_input_or_its_shortcut(operand, given) for operand in operands):
            return True
    return False


def _input_or_its_shortcut(operand: cst.BaseExpression, given: str) -> bool:
    """`x`, or `self.shortcut(x)` / `self.downsample(x)`: the input, projected or not."""
    if isinstance(operand, cst.Name):
        return operand.value == given
    return (
        isinstance(operand, cst.Call)
        and isinstance(operand.func, cst.Attribute)
        and bool(SHORTCUT_NAME.search(operand.func.attr.value))
        and len(operand.args) == 1
        and isinstance(operand.args[0].value, cst.Name)
        and operand.args[0].value.value == given
    )


def _unpacked_outputs(function: cst.FunctionDef) -> set[int]:
    """Names bound by unpacking a call's results (`x, skip = self.down(x)`): one output of a module
    that returns several (a U-Net encoder's skip), which forward may leave unused on purpose. Names
    bound from a tensor's shape (`_, c, h, residual_w = residual.shape`) are sizes, no tensor."""
    found: set[int] = set()
    for node in descendants(function.body):
        if not isinstance(node, cst.Assign):
            continue
        shape = _reads_shape(node.value)
        if not shape and not isinstance(node.value, cst.Call):
            continue
        for target in node.targets:
            if isinstance(target.target, (cst.Tuple, cst.List)):
                found.update(id(element.value) for element in target.target.elements)
            elif shape:
                found.add(id(target.target))
    return found


def _reads_shape(value: cst.BaseExpression) -> bool:
    """`x.shape`, `x.shape[2]`, `x.size()`, `x.size(1)`."""
    if isinstance(value, cst.Subscript):
        value = value.value
    if isinstance(value, cst.Call):
        value = value.func
    return isinstance(value, cst.Attribute) and value.attr.value in ("shape", "size")


def _assigned_a_value(bindings: list[cst.CSTNode]) -> bool:
    """Bound by an assignment (not a parameter or a loop target)."""
    return any(isinstance(node, cst.Name) for node in bindings)


ResidualNeverAdded.INVALID = [
    """
import torch.nn as nn
class Block(nn.Module):
    def __init__(self, c):
        super().__init__()
        self.conv = nn.Conv2d(c, c, 3, padding=1)
        self.relu = nn.ReLU()
    def forward(self, x):
        identity = x
        out = self.conv(x)
        return self.relu(out)
""",
    """
import torch.nn as nn
class Block(nn.Module):
    def __init__(self, c_in, c_out):
        super().__init__()
        self.conv = nn.Conv2d(c_in, c_out, 3, padding=1)
        self.shortcut = nn.Conv2d(c_in, c_out, 1)
        self.relu = nn.ReLU()
    def forward(self, x):
        return self.relu(self.conv(x))
""",
]
ResidualNeverAdded.VALID = [
    """
import torch.nn as nn
class Block(nn.Module):
    def __init__(self, c):
        super().__init__()
        self.conv = nn.Conv2d(c, c, 3, padding=1)
        self.relu = nn.ReLU()
    def forward(self, x):
        identity = x
        out = self.conv(x)
        return self.relu(out + identity)
""",
    """
import torch.nn as nn
class Block(nn.Module):
    def __init__(self, c_in, c_out, residual=True):
        super().__init__()
        self.conv = nn.Conv2d(c_in, c_out, 3, padding=1)
        self.shortcut = nn.Conv2d(c_in, c_out, 1)
        self.residual = residual
    def forward(self, x):
        out = self.conv(x)
        if self.residual:
            out = out + self.shortcut(x)
        return out
""",
]
