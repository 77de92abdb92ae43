"""RN121 cuda-in-init."""

from __future__ import annotations

import re
from collections.abc import Iterator

import libcst as cst

from reslint.findings import Severity
from reslint.model import ModuleModel
from reslint.rule import Rule, Violation
from reslint.rules_support import reachable_methods


class CudaInInit(Rule):
    """## What it does
    Checks `__init__` of an `nn.Module` (and the builder methods it calls) for layers or tensors
    put on the GPU: `.cuda()`, `.to("cuda")`, `device="cuda"`, `torch.device("cuda")`, unless a
    test about the GPU guards it (`torch.cuda.is_available()`, `x.is_cuda`, `if self.use_gpu:`).

    ## Why is this bad?
    The model cannot even be built on a machine without a GPU (a laptop, a CPU CI runner, a data
    loader worker): `AssertionError: Torch not compiled with CUDA enabled` or `RuntimeError: No CUDA
    GPUs are available`. Where the model lives is the caller's choice: `model.to(device)` moves every
    registered layer and buffer at once.

    ## Example
    ```python
    def __init__(self, num_classes=10):
        super().__init__()
        self.conv1 = nn.Conv2d(3, 64, 3, padding=1, bias=False).cuda()
    ```

    Use instead:
    ```python
    def __init__(self, num_classes=10):
        super().__init__()
        self.conv1 = nn.Conv2d(3, 64, 3, padding=1, bias=False)

    model = ResNet18().to(device)
    ```
    """

    code = "RN121"
    name = "cuda-in-init"
    severity = Severity.WARNING

    def check(self, module: ModuleModel) -> Iterator[Violation]:
        seen: set[int] = set()
        for cls in module.module_classes:
            for method in reachable_methods(cls, ("__init__",), module):
                if id(method) in seen:
                    continue
                seen.add(id(method))
                for call in module.calls_in(method):
                    if _guarded(call, method, module):
                        continue
                    how = _puts_on_gpu(call, module)
                    if how:
                        yield Violation(
                            call,
                            f"{how} in `{cls.name}.{method.name.value}`: the model cannot be "
                            "built on a machine without a GPU",
                            "build on the CPU and let the caller move the model "
                            "(`model.to(device)`)",
                        )


def _puts_on_gpu(call: cst.Call, module: ModuleModel) -> str:
    """How this call puts something on the GPU (`.cuda()`, `.to("cuda")`, `device="cuda"`), or ""."""
    func = call.func
    if isinstance(func, cst.Attribute) and func.attr.value == "cuda" and not call.args:
        return "`.cuda()`"
    if isinstance(func, cst.Attribute) and func.attr.value == "to":
        if any(arg.keyword is None and _names_cuda(arg.value, module) for arg in call.args):
            return f"`{module.code(call)}`"
    for arg in call.args:
        if (
            arg.keyword is not None
            and arg.keyword.value == "device"
            and _names_cuda(arg.value, module)
        ):
            return f"`device={module.code(arg.value)}`"
    return ""


def _names_cuda(node: cst.BaseExpression, module: ModuleModel) -> bool:
    """`"cuda"`, `"cuda:0"`, `torch.device("cuda")`."""
    if isinstance(node, cst.SimpleString):
        return (
            node.evaluated_value.startswith("cuda")
            if isinstance(node.evaluated_value, str)
            else False
        )
    if isinstance(node, cst.Call) and module.imports.qualified(node.func) == "torch.device":
        return any(_names_cuda(arg.value, module) for arg in node.args[:1])
    return False


_GPU_WORDS = re.compile(r"cuda|gpu", re.IGNORECASE)


def _guarded(node: cst.CSTNode, method: cst.FunctionDef, module: ModuleModel) -> bool:
    """Inside an `if` or a conditional expression that asks about the GPU: whether CUDA is available
    (`torch.cuda.is_available()`), whether the input already lives there (`x.is_cuda`,
    `isinstance(out.data, torch.cuda.FloatTensor)`), or a setting that says so (`if self.use_gpu:`).
    Such code only reaches for the GPU where there is one."""
    current = module.names.parents.get(id(node))
    while current is not None and current is not method:
        test = (  # by exact type: every enclosing node is asked
            current.test
            if type(current) is cst.If or type(current) is cst.IfExp or type(current) is cst.While
            else None
        )
        if test is not None and _GPU_WORDS.search(module.code(test)):
            return True
        current = module.names.parents.get(id(current))
    return False


CudaInInit.INVALID = [
    """
import torch.nn as nn
class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.fc = nn.Linear(512, 10).cuda()
""",
    """
import torch
import torch.nn as nn
class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.register_buffer("mean", torch.zeros(3, device="cuda"))
        self.layers = self._make_layers()
    def _make_layers(self):
        return nn.Sequential(nn.Conv2d(3, 8, 3)).to(torch.device("cuda:0"))
""",
]
CudaInInit.VALID = [
    """
import torch
import torch.nn as nn
class Net(nn.Module):
    def __init__(self, device="cpu"):
        super().__init__()
        self.fc = nn.Linear(512, 10).to(device)
        if torch.cuda.is_available():
            self.fc = self.fc.cuda()
    def forward(self, x):
        return self.fc(x.cuda())
model = Net().cuda()
"""
]
