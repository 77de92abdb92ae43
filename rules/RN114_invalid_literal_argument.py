"""RN114 invalid-literal-argument."""

from __future__ import annotations

from collections.abc import Iterator

import libcst as cst

from reslint.knowledge.choices import LITERAL_CHOICES, accepts
from reslint.knowledge.spelling import did_you_mean
from reslint.model import ModuleModel
from reslint.rule import Rule, Violation
from reslint.rules_support import torch_calls


class InvalidLiteralArgument(Rule):
    """## What it does
    Checks string arguments that torch accepts only from a fixed set, such as `mode="fan out"` or
    `nonlinearity="Relu"` in `nn.init.kaiming_normal_`, `padding_mode="zero"` in `nn.Conv2d`,
    `reduction="avg"` in a loss or `mode="bilinar"` in `nn.Upsample`, and suggests the value meant.

    ## Why is this bad?
    torch raises `ValueError` (or `RuntimeError`, `NotImplementedError`) on the misspelt value: when
    the weights are initialised or the layer is built, or for some layers only when they first run.

    ## Example
    ```python
    nn.init.kaiming_normal_(m.weight, mode="fan out", nonlinearity="Relu")
    ```

    Use instead:
    ```python
    nn.init.kaiming_normal_(m.weight, mode="fan_out", nonlinearity="relu")
    ```
    """

    code = "RN114"
    name = "invalid-literal-argument"

    def check(self, module: ModuleModel) -> Iterator[Violation]:
        for call in torch_calls(module, starred=True):
            for parameter, choices in LITERAL_CHOICES.get(call.qualified, {}).items():
                argument = call.argument(parameter)
                value = _plain_string(argument)
                if argument is None or value is None or accepts(call.qualified, parameter, value):
                    continue
                guess = did_you_mean(value, choices)
                yield Violation(
                    argument,
                    f'`{call.shown}` does not accept {parameter}="{value}"'
                    + (f': did you mean "{guess}"?' if guess else ""),
                    f'write {parameter}="{guess}"'
                    if guess
                    else f"use one of {', '.join(repr(choice) for choice in choices)}",
                )


def _plain_string(argument: cst.BaseExpression | None) -> str | None:
    """The value of a plain string literal: only that is surely what torch receives."""
    if not isinstance(argument, cst.SimpleString) or argument.prefix.lower() not in ("", "r", "u"):
        return None
    value = argument.evaluated_value
    return value if isinstance(value, str) else None


InvalidLiteralArgument.INVALID = [
    """
import torch.nn as nn
for m in model.modules():
    if isinstance(m, nn.Conv2d):
        nn.init.kaiming_normal_(m.weight, mode="fan out", nonlinearity="relu")
""",
    """
from torch.nn import init
init.kaiming_uniform_(w, 0, "fan_in", "Relu")
""",
    """
from torch.nn import Conv2d
conv = Conv2d(64, 64, 3, padding=1, padding_mode="zero")
""",
    """
import torch.nn.functional as F
y = F.interpolate(x, scale_factor=2, mode="bilinar", align_corners=False)
""",
    """
import torch.nn.functional as F
def upsample(x, size=None):
    scale = {"scale_factor": 2} if size is None else {"size": size}
    return F.interpolate(x, **scale, mode="bilinar")
""",
    """
import torch.nn.functional as F
y = F.grid_sample(x, grid, mode="bilinear", padding_mode="zero", align_corners=False)
""",
]
InvalidLiteralArgument.VALID = [
    """
import torch.nn as nn
nn.init.kaiming_normal_(w, mode="fan_out", nonlinearity="relu")
nn.init.kaiming_normal_(w, mode="FAN_OUT")
conv = nn.Conv2d(64, 64, 3, padding="same", padding_mode="reflect")
loss = nn.CrossEntropyLoss(reduction="sum")
""",
    """
import torch.nn as nn
def init_weights(m, mode):
    nn.init.kaiming_normal_(m.weight, mode=mode)
settings = {"mode": "fan out"}
nn.init.kaiming_normal_(w, **settings)
""",
]
