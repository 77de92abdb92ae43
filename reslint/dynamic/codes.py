"""Finding codes of the dynamic pass (stable; never reuse a number). Importable without torch.

RD0xx: the model could not be compared (exit 2). RD1xx: the model differs from the reference (exit 1).
"""

from __future__ import annotations

from dataclasses import dataclass

from reslint.findings import Finding, Severity


@dataclass(frozen=True)
class Code:
    code: str
    name: str
    severity: Severity
    summary: str


_CODES = (
    Code(
        "RD001",
        "bad-target",
        Severity.ERROR,
        "TARGET or ARCH is malformed, missing, or names no model.",
    ),
    Code("RD002", "import-failed", Severity.ERROR, "Importing the target's module raised."),
    Code(
        "RD003",
        "needs-arguments",
        Severity.ERROR,
        "The model needs constructor arguments; pass them with --init.",
    ),
    Code("RD004", "init-failed", Severity.ERROR, "Building the model raised."),
    Code(
        "RD005",
        "forward-failed",
        Severity.ERROR,
        "forward raised a non-shape error on the reference's own input.",
    ),
    Code(
        "RD006",
        "timeout",
        Severity.ERROR,
        "The model did not finish within --timeout seconds; it was killed.",
    ),
    Code(
        "RD007",
        "memory-limit",
        Severity.ERROR,
        "The model exhausted the memory cap of the isolated process.",
    ),
    Code(
        "RD008",
        "worker-crashed",
        Severity.ERROR,
        "The isolated process died (signal or interpreter crash).",
    ),
    Code(
        "RD009",
        "not-a-model",
        Severity.ERROR,
        "The target is not an nn.Module class or a function returning one.",
    ),
    Code("RD099", "internal-error", Severity.ERROR, "reslint itself failed; please report it."),
    Code(
        "RD101",
        "shape-mismatch",
        Severity.ERROR,
        "A layer or block outputs a different shape than the reference.",
    ),
    Code(
        "RD102",
        "parameter-count",
        Severity.ERROR,
        "A stage (or the whole model) has a different parameter count.",
    ),
    Code(
        "RD103",
        "failing-input",
        Severity.ERROR,
        "The model fails (or works) on an input where the reference does not.",
    ),
    Code(
        "RD104",
        "output-shape",
        Severity.ERROR,
        "The model's output shape differs from the reference's.",
    ),
    Code(
        "RD105",
        "state-dict",
        Severity.WARNING,
        "The reference's pretrained state_dict would not load strictly.",
    ),
    Code(
        "RD106",
        "uncalled-module",
        Severity.WARNING,
        "A submodule is built but never called in forward.",
    ),
    Code(
        "RD107",
        "non-square-input",
        Severity.WARNING,
        "The model fails only on non-square inputs; every square size works.",
    ),
    Code(
        "RD108",
        "output-element",
        Severity.INFO,
        "forward returns a tuple or dict; says which tensor is compared (--output picks another).",
    ),
    Code(
        "RD109",
        "function-differs",
        Severity.ERROR,
        "Given the reference's weights, a block computes another function than the reference's.",
    ),
    Code(
        "RD110",
        "function-unchecked",
        Severity.INFO,
        "The reference's weights cannot be handed to the model one to one; says why.",
    ),
    Code(
        "RD111",
        "architecture",
        Severity.INFO,
        "Names the reference the model is (blocks per stage) and how it departs from the one asked for.",
    ),
)

CODES: dict[str, Code] = {code.code: code for code in _CODES}
COULD_NOT_RUN = frozenset(code for code in CODES if code.startswith("RD0"))


def severity_of(code: str) -> Severity:
    return CODES[code].severity


def finding(code: str, message: str, hint: str, where: tuple[str, int]) -> Finding:
    """A dynamic finding at the start of line `where[1]` of file `where[0]`."""
    path, line = where
    return Finding(path, line, 1, line, 1, code, severity_of(code), message, hint)


def documentation(code: str) -> str:
    """A code's documentation in the rules' form (What it does / Why is this bad? / Example / Use
    instead), for `reslint --explain RD101`; its summary where none is written yet."""
    return _DOCUMENTATION.get(code, CODES[code].summary)


_COULD_NOT_RUN_WHY = """## Why is this bad?
The comparison never ran, so nothing is known about the model: the run exits 2, never 0 or 1."""

_DOCUMENTATION = {
    "RD001": f"""## What it does
Reports a `--compare-to ARCH TARGET` that names no model: an unknown reference architecture, a file
or module that does not exist, or a name that is not defined in it.

{_COULD_NOT_RUN_WHY}

## Example
```bash
reslint --compare-to resnet50 models/resnet.py:ResNet5O
```

Use instead:
```bash
reslint --list-references                      # the reference architectures
reslint --compare-to resnet50 models/resnet.py:ResNet50
```""",
    "RD002": f"""## What it does
Reports that importing the target's module raised (a missing dependency, a syntax error, code at
module level that fails).

{_COULD_NOT_RUN_WHY}

## Example
```python
import timm  # not installed where reslint runs the model
```

Use instead:
Install what the module imports in the environment reslint runs in, or move training code under
`if __name__ == "__main__":`.""",
    "RD003": f"""## What it does
Reports a model whose constructor has required arguments that were not given.

{_COULD_NOT_RUN_WHY}

## Example
```bash
reslint --compare-to resnet20 cifar.py:ResNet        # ResNet(block, num_blocks) needs arguments
```

Use instead:
```bash
reslint --compare-to resnet20 cifar.py:resnet20      # a factory function, or
reslint --compare-to resnet20 cifar.py:ResNet --init '{{"num_classes": 10}}'
```""",
    "RD004": f"""## What it does
Reports that building the model (its constructor or factory) raised.

{_COULD_NOT_RUN_WHY} The error and where it was raised are in the message.

## Example
```python
self.fc = nn.Linear(512 * block.expansion)  # missing out_features: TypeError
```

Use instead:
```python
self.fc = nn.Linear(512 * block.expansion, num_classes)
```""",
    "RD005": f"""## What it does
Reports that `forward` raised something other than a shape error on the input the reference
accepts (a shape error is a difference, RD101/RD104).

{_COULD_NOT_RUN_WHY}

## Example
```python
def forward(self, x):
    return self.classifer(x)  # AttributeError
```

Use instead:
```python
def forward(self, x):
    return self.classifier(x)
```""",
    "RD006": """## What it does
Reports a model that did not finish building and running within `--timeout` seconds; the isolated
process was killed.

## Why is this bad?
The comparison never finished, so nothing is known about the model. Building a model should take
seconds; minutes usually mean a download, a dataset load or an endless loop at import time.

## Example
```python
train_set = torchvision.datasets.CIFAR10(root="data", download=True)  # at module level
```

Use instead:
Keep data loading and training under `if __name__ == "__main__":`, or give a longer `--timeout`.""",
    "RD007": """## What it does
Reports a model that exhausted the memory cap of the isolated process.

## Why is this bad?
The comparison never finished. A ResNet's parameters take tens to hundreds of megabytes; running
out usually means a layer far wider than intended.

## Example
```python
self.fc = nn.Linear(512 * 7 * 7 * 64, num_classes)  # an extra factor in in_features
```

Use instead:
```python
self.fc = nn.Linear(512 * block.expansion, num_classes)
```""",
    "RD008": f"""## What it does
Reports that the isolated process died without a result: killed by a signal, or the interpreter
crashed.

{_COULD_NOT_RUN_WHY}

## Example
A native extension imported by the model that crashes, or `os._exit()` in the module.

Use instead:
Run the model's module on its own (`python -c "import model"`) to see the crash.""",
    "RD009": f"""## What it does
Reports a target that is neither an `nn.Module` subclass nor a function returning an `nn.Module`.

{_COULD_NOT_RUN_WHY}

## Example
```bash
reslint --compare-to resnet18 model.py:train
```

Use instead:
```bash
reslint --compare-to resnet18 model.py:ResNet18
```""",
    "RD099": """## What it does
Reports that reslint itself failed during the comparison.

## Why is this bad?
It is reslint's bug, not yours, but nothing is known about the model. Please report it with the
model file.

## Example
Any failure inside reslint's own code while comparing.

Use instead:
Report it; the static pass (`reslint model.py`) still works meanwhile.""",
    "RD101": """## What it does
Reports a layer or block whose output shape differs from the reference's at the same place, and
says what causes it where it can (a Bottleneck that does not expand, a missing stride).

## Why is this bad?
Everything after that point computes on the wrong shape: the model may still run (an adaptive
pool hides it) but it is not the architecture it claims to be, and pretrained weights will not fit.

## Example
```python
self.conv3 = nn.Conv2d(planes, planes, kernel_size=1, bias=False)  # Bottleneck without expansion
```

Use instead:
```python
self.conv3 = nn.Conv2d(planes, planes * self.expansion, kernel_size=1, bias=False)
```""",
    "RD102": """## What it does
Reports a stage (or the whole model) whose parameter count differs from the reference's, with the
difference per stage.

## Why is this bad?
A different count means different layers: the model is not the architecture it is named after, its
results are not comparable with published ones, and pretrained weights will not load.

## Example
```python
self.fc = nn.Linear(512, num_classes)  # resnet50 needs 512 * 4 = 2048 inputs
```

Use instead:
```python
self.fc = nn.Linear(512 * block.expansion, num_classes)
```""",
    "RD103": """## What it does
Reports the smallest input size on which the model fails while the reference works (or works
while the reference fails).

## Why is this bad?
The model breaks on images the architecture is meant to handle, typically because a size is fixed
where the reference adapts (a fixed pooling window, a hard-coded flatten size).

## Example
```python
self.avgpool = nn.AvgPool2d(7)  # only 224x224 inputs reach it as 7x7
```

Use instead:
```python
self.avgpool = nn.AdaptiveAvgPool2d((1, 1))
```""",
    "RD104": """## What it does
Reports a model whose final output shape differs from the reference's.

## Why is this bad?
The loss, the metrics and any code that uses the logits expect the reference's shape; a model that
returns another one is wrong even when its inner layers match.

## Example
```python
return x  # the features, the classifier was never applied
```

Use instead:
```python
return self.fc(torch.flatten(self.avgpool(x), 1))
```""",
    "RD105": """## What it does
Reports that the reference's pretrained `state_dict` would not load into the model with
`strict=True`: which keys are missing, unexpected or of another shape.

## Why is this bad?
Fine-tuning from pretrained weights is the common use of a ResNet; with a different layout the
weights load only with `strict=False`, which silently leaves layers untrained.

## Example
```python
self.shortcut = nn.Sequential(...)  # torchvision names it `downsample`
```

Use instead:
```python
self.downsample = downsample
```""",
    "RD106": """## What it does
Reports a submodule that is built in `__init__` but never called in `forward`.

## Why is this bad?
Its parameters count, train with weight decay and fill the state_dict, but never act: usually a
layer that was meant to be in the forward pass and was left out.

## Example
```python
self.maxpool = nn.MaxPool2d(kernel_size=3, stride=2, padding=1)
...
x = self.relu(self.bn1(self.conv1(x)))
x = self.layer1(x)  # maxpool skipped
```

Use instead:
```python
x = self.maxpool(self.relu(self.bn1(self.conv1(x))))
x = self.layer1(x)
```""",
    "RD107": """## What it does
Warns that the model runs on every square input the reference accepts but fails on some non-square
ones (the comparison still matches).

## Why is this bad?
Detection and segmentation backbones, and any pipeline that keeps the aspect ratio, feed non-square
images: the model breaks there although every square test passed.

## Example
```python
out = F.avg_pool2d(out, out.size()[3])  # pools by the width: a 4x5 map keeps a row
```

Use instead:
```python
out = F.adaptive_avg_pool2d(out, 1)
```""",
    "RD108": """## What it does
Says that forward returns a tuple or a dict, and which of its tensors was compared with the
reference's output (the one shaped like it, or the one `--output INDEX|KEY` names).

## Why is this bad?
It is not a fault: it makes explicit which output the verdict is about, so that a model returning
`(features, logits)` is not compared by the wrong element without saying so.

## Example
```python
def forward(self, x):
    features = self.layer4(self.layer3(self.layer2(self.layer1(self.stem(x)))))
    return features, self.fc(torch.flatten(self.avgpool(features), 1))
```

Use instead:
```bash
reslint --compare-to resnet50 model.py:Net --output 1   # compare the logits
```""",
    "RD109": """## What it does
Reports the first block whose output differs from the reference's when both models hold the same
weights (handed over layer by layer through the alignment) and run on the same input in eval mode,
with the likely cause: the activation before the addition, a norm after it, an activation in the
shortcut, the shortcut taken from the wrong tensor, a missing activation, a subtraction.

## Why is this bad?
The model has the reference's layers, shapes and parameter counts, yet computes another function:
it trains to another network, and pretrained weights give wrong outputs.

## Example
```python
out = self.relu(self.bn2(self.conv2(out)))
return out + identity  # ReLU before the addition
```

Use instead:
```python
out = self.bn2(self.conv2(out))
return self.relu(out + identity)
```""",
    "RD110": """## What it does
Says that the reference's weights could not be handed to the model one to one, and why (a layer
without a partner, a fused or split layer, a shape that differs), so the same-function check did not
run.

## Why is this bad?
Without that check, "matches" only means same layers, shapes and counts: a block may still compute
something else. The reason names what to align if you want the stronger verdict.

## Example
```python
self.shortcut = nn.Conv2d(in_planes, planes, 1, stride, bias=True)  # the reference has no bias
```

Use instead:
```python
self.shortcut = nn.Conv2d(in_planes, planes, 1, stride, bias=False)
```""",
    "RD111": """## What it does
When the model differs from the reference asked for, names what it is: the closest reference and its
blocks per stage, and the known variant (a CIFAR stem, a deep stem, ResNet v1 strides, option-A or -B
shortcuts, a bias on every conv).

## Why is this bad?
It is not a fault by itself: it tells whether the model is another standard network (compare it to
that one) or a departure to fix.

## Example
```bash
reslint --compare-to resnet50 model.py:ResNet   # the model has blocks [3, 4, 6, 3] of basic blocks
```

Use instead:
```bash
reslint --compare-to resnet34 model.py:ResNet   # RD111 said: this is resnet34
```""",
}
