"""Synthetic model files of a chosen size, for the growth benchmark and for profiling.

Each generator takes a size n and returns Python source whose size grows linearly with n, so that
time(2n) / time(n) near 2 means the analysis is linear in the file.
"""

from __future__ import annotations

from collections.abc import Callable

HEADER = "import torch\nfrom torch import nn\nimport torch.nn.functional as F\n\n"


def small_classes(n: int) -> str:
    """n residual blocks, each with convs and norms built in __init__ and an addition in forward."""
    blocks = [_block(i) for i in range(n)]
    return HEADER + "\n".join(blocks)


def _block(i: int) -> str:
    return f'''
class Block{i}(nn.Module):
    """Block {i}."""

    def __init__(self, planes={16 + i % 48}, stride=1):
        super().__init__()
        self.conv1 = nn.Conv2d(planes, planes, kernel_size=3, stride=stride, padding=1, bias=False)
        self.bn1 = nn.BatchNorm2d(planes)
        self.shortcut = nn.Sequential()

    def forward(self, x):
        out = self.bn1(self.conv1(x))
        return F.relu(out + self.shortcut(x))
'''


def inheritance_chain(n: int) -> str:
    """A chain of n classes, each deriving from the one before; the first from nn.Module."""
    first = (
        "class Level0(nn.Module):\n"
        "    def __init__(self):\n"
        "        super().__init__()\n"
        "        self.conv = nn.Conv2d(3, 8, 3)\n\n"
        "    def forward(self, x):\n"
        "        return self.conv(x) + x\n"
    )
    rest = [
        f"\nclass Level{i}(Level{i - 1}):\n"
        f"    def __init__(self):\n"
        f"        super().__init__()\n"
        f"        self.bn{i} = nn.BatchNorm2d(8)\n\n"
        f"    def forward(self, x):\n"
        f"        return self.bn{i}(super().forward(x))\n"
        for i in range(1, n)
    ]
    return HEADER + first + "".join(rest)


def nesting(n: int) -> str:
    """A forward nested as deep as Python allows (19 blocks of if/for/with), whose innermost line adds
    n terms (a left-leaning tree n deep) and applies min(n, 150) nested calls (the parser stops
    at 200 parentheses)."""
    lines = [
        "class Deep(nn.Module):",
        "    def __init__(self):",
        "        super().__init__()",
        "        self.conv = nn.Conv2d(3, 3, 3, padding=1)",
        "",
        "    def forward(self, x):",
    ]
    indent = 8
    kinds = ("if x is not None:", "for _ in range(1):", "with torch.no_grad():")
    for level in range(19):
        lines.append(" " * indent + kinds[level % 3])
        indent += 1
    calls = min(n, 150)
    lines.append(" " * indent + "x = " + " + ".join(["self.conv(x)"] * n))
    lines.append(" " * indent + "x = " + "F.relu(" * calls + "x" + ")" * calls)
    lines.append("        return x")
    return HEADER + "\n".join(lines) + "\n"


def long_literal(n: int) -> str:
    """A module-level list of n numbers beside one small block."""
    numbers = ", ".join(str(i % 1000) for i in range(n))
    return HEADER + f"WIDTHS = [{numbers}]\n" + _block(0)


def realistic(lines: int) -> str:
    """Small blocks of varied shape, with a network class every 20 blocks, up to `lines` lines."""
    parts = [HEADER]
    total = HEADER.count("\n")
    i = 0
    while total < lines:
        part = _block(i) if i % 20 else _network(i)
        parts.append(part)
        total += part.count("\n")
        i += 1
    return "".join(parts)


def _network(i: int) -> str:
    return f"""
class Net{i}(nn.Module):
    def __init__(self, num_classes=10):
        super().__init__()
        self.stem = nn.Conv2d(3, 64, kernel_size=7, stride=2, padding=3, bias=False)
        self.bn = nn.BatchNorm2d(64)
        self.layers = nn.Sequential(*[nn.Conv2d(64, 64, 3, padding=1) for _ in range(4)])
        self.pool = nn.AdaptiveAvgPool2d((1, 1))
        self.fc = nn.Linear(64, num_classes)

    def forward(self, x):
        x = F.relu(self.bn(self.stem(x)))
        for layer in self.layers:
            x = x + layer(x)
        return self.fc(torch.flatten(self.pool(x), 1))
"""


GENERATORS: dict[str, Callable[[int], str]] = {
    "classes": small_classes,
    "inheritance": inheritance_chain,
    "nesting": nesting,
    "literal": long_literal,
    "realistic": realistic,
}
