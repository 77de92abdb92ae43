"""RN115 layer-argument-count."""

from __future__ import annotations

from collections.abc import Iterator

from reslint.knowledge.signatures import Signature
from reslint.knowledge.spelling import did_you_mean
from reslint.model import ModuleModel
from reslint.rule import Rule, Violation
from reslint.rules_support import torch_calls


class LayerArgumentCount(Rule):
    """## What it does
    Checks that a torch.nn layer is built with the arguments its constructor takes: a required
    argument missing (`nn.AdaptiveAvgPool2d()`, `nn.Conv2d(3, 64)` without the kernel size), one
    positional argument too many, or a keyword it does not know (`kernal_size=3`). Calls of
    torch.nn.init and torch.nn.functional functions are checked the same way.

    ## Why is this bad?
    The call raises `TypeError` as soon as the model is built, and a layer copied from another one
    often keeps arguments of the old one.

    ## Example
    ```python
    self.conv1 = nn.Conv2d(3, 64)
    self.avgpool = nn.AdaptiveAvgPool2d()
    ```

    Use instead:
    ```python
    self.conv1 = nn.Conv2d(3, 64, kernel_size=7, stride=2, padding=3, bias=False)
    self.avgpool = nn.AdaptiveAvgPool2d((1, 1))
    ```
    """

    code = "RN115"
    name = "layer-argument-count"

    def check(self, module: ModuleModel) -> Iterator[Violation]:
        for call in torch_calls(module, "torch.nn."):
            problem = call.binding.problem
            if call.signature is None or problem is None:
                continue
            unexpected = call.binding.unexpected
            guess = did_you_mean(unexpected, call.signature.keywords) if unexpected else None
            hint = (
                f"write `{guess}=`"
                if guess
                else f"call it as `{call.shown}({', '.join(_required(call.signature))})`"
            )
            yield Violation(
                call.node,
                f"`{call.shown}()` {problem}"
                + (f" (did you mean `{guess}`?)" if guess else "")
                + ": this call raises TypeError",
                hint,
            )


def _required(signature: Signature) -> list[str]:
    order = (*signature.positional, *signature.keyword_only)
    return [name for name in order if name in signature.required]


LayerArgumentCount.INVALID = [
    """
import torch.nn as nn
conv = nn.Conv2d(3, 64)
""",
    """
from torch import nn
pool = nn.AdaptiveAvgPool2d()
""",
    """
from torch.nn import BatchNorm2d
bn = BatchNorm2d(64, 1e-5, 0.1, True, True, None, None, 7)
""",
    """
import torch
conv = torch.nn.Conv2d(64, 64, kernal_size=3)
""",
    """
import torch.nn as nn
gate = nn.Sigmoid(inplace=True)
""",
]
LayerArgumentCount.VALID = [
    """
import torch.nn as nn
conv = nn.Conv2d(3, 64, 7, 2, 3, bias=False)
pool = nn.AdaptiveAvgPool2d((1, 1))
layers = nn.Sequential(conv, nn.ReLU(inplace=True))
args = (3, 64)
conv2 = nn.Conv2d(*args)
""",
    """
from torch.nn import Conv2d
class Conv2d(Conv2d):
    def __init__(self, channels):
        super().__init__(channels, channels, 3)
conv = Conv2d(64)
norm = nn.BatchNorm2d(**config)
""",
]
